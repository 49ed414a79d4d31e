//! CSV user import (`POST /domains/{d}/users:import`, CLI `hotdesk import`).
//!
//! Columns `extension,first_name,last_name,did,pin,sip_password`; a header row naming them
//! is optional (if present, columns may come in any order and trailing ones may be left
//! out). All or nothing: every row is checked first, and if any is invalid nothing is
//! imported and the report lists each bad row by line number and field, so a corrected file
//! can simply be sent again. PINs are hashed in parallel on all cores.

use std::collections::HashSet;

use hotdesk_core::{
    seats, DomainName, Extension, Mailbox, QueueStatus, Refusal, Scope, SeatType, User,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::secrets::{hash_pin, SecretString};
use crate::state::{blocking, validate, App, AppError};

/// The column order when the file has no header row.
const COLUMNS: [&str; 6] = [
    "extension",
    "first_name",
    "last_name",
    "did",
    "pin",
    "sip_password",
];

/// Outcome of an import.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Data rows read (header excluded).
    pub rows: usize,
    /// Users created (0 if any row was rejected).
    pub imported: usize,
    /// Rows refused, with why.
    pub rejected: Vec<RowError>,
}

/// One refused row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// 1-based line in the file.
    pub line: u64,
    /// The row's extension as written, if readable.
    pub extension: Option<String>,
    /// The column at fault.
    pub field: String,
    /// Stable code (`invalid_field`, `extension_in_use`, …).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

/// A row that passed the checks, PIN still in clear until hashed.
struct Row {
    line: u64,
    extension: Extension,
    first_name: String,
    last_name: String,
    did: Option<String>,
    pin: Option<SecretString>,
    sip_password: Option<SecretString>,
}

fn row_error(line: u64, extension: Option<&str>, err: AppError) -> RowError {
    let (field, code) = match &err {
        AppError::Invalid { field, .. } => (field.clone(), "invalid_field".to_owned()),
        AppError::Refused(refusal) => ("extension".to_owned(), refusal.code().to_owned()),
        _ => ("row".to_owned(), "invalid_row".to_owned()),
    };
    let message = match err {
        AppError::Invalid { message, .. } => message,
        other => other.to_string(),
    };
    RowError {
        line,
        extension: extension.map(str::to_owned),
        field,
        code,
        message,
    }
}

/// Maps header names to column positions, or `None` if the first row is data.
fn header(first: &csv::StringRecord) -> Option<Result<Vec<usize>, RowError>> {
    let looks_like_header = first
        .get(0)
        .is_some_and(|f| f.trim().eq_ignore_ascii_case("extension"));
    if !looks_like_header {
        return None;
    }
    let mut positions = Vec::new();
    for name in first.iter() {
        let name = name.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(index) => positions.push(index),
            None => {
                return Some(Err(row_error(
                    1,
                    None,
                    AppError::invalid(name.clone(), format!("unknown column {name:?}")),
                )))
            }
        }
    }
    Some(Ok(positions))
}

fn parse_row(line: u64, fields: &[&str; 6]) -> Result<Row, AppError> {
    let [extension, first, last, did, pin, password] = *fields;
    let extension =
        Extension::new(extension).map_err(|e| AppError::invalid("extension", e.to_string()))?;
    let first_name = validate::name("first_name", first, true)?;
    let last_name = validate::name("last_name", last, false)?;
    let did = validate::optional_number("did", Some(did))?;
    let pin = match pin {
        "" => None,
        pin => Some(validate::pin("pin", &SecretString::new(pin))?),
    };
    let sip_password = match password {
        "" => None,
        password => {
            let password = SecretString::new(password);
            validate::sip_password("sip_password", &password)?;
            Some(password)
        }
    };
    Ok(Row {
        line,
        extension,
        first_name,
        last_name,
        did,
        pin,
        sip_password,
    })
}

/// Reads and checks every row; returns good rows and the report's rejections.
fn read_rows(csv_text: &[u8]) -> (Vec<Row>, Vec<RowError>, usize) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text);
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut order: Vec<usize> = (0..COLUMNS.len()).collect();
    let mut seen = HashSet::new();
    let mut count = 0;
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 1;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(line, |p| p.line());
                let err = AppError::invalid("row", format!("unreadable CSV: {err}"));
                rejected.push(row_error(line, None, err));
                continue;
            }
        };
        let line = record.position().map_or(line, |p| p.line());
        if index == 0 {
            match header(&record) {
                Some(Ok(positions)) => {
                    order = positions;
                    continue;
                }
                Some(Err(err)) => {
                    rejected.push(err);
                    return (rows, rejected, count);
                }
                None => {}
            }
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        count += 1;
        let mut fields = [""; 6];
        if record.len() > order.len() {
            let err = AppError::invalid(
                "row",
                format!("{} columns; expected at most {}", record.len(), order.len()),
            );
            rejected.push(row_error(line, record.get(0), err));
            continue;
        }
        for (value, column) in record.iter().zip(&order) {
            fields[*column] = value;
        }
        match parse_row(line, &fields) {
            Ok(row) if !seen.insert(row.extension.clone()) => {
                let err = AppError::invalid("extension", "appears twice in the file");
                rejected.push(row_error(line, Some(fields[0]), err));
            }
            Ok(row) => rows.push(row),
            Err(err) => rejected.push(row_error(line, Some(fields[0]), err)),
        }
    }
    (rows, rejected, count)
}

/// Hashes the rows' PINs on every core (argon2 is the cost of an import).
async fn hash_pins(rows: &[Row]) -> Result<Vec<Option<String>>, AppError> {
    let pins: Vec<Option<SecretString>> = rows.iter().map(|r| r.pin.clone()).collect();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = pins.len().div_ceil(workers).max(1);
    let mut tasks = Vec::new();
    for part in pins.chunks(chunk) {
        let part = part.to_vec();
        tasks.push(blocking(move || {
            part.iter()
                .map(|pin| pin.as_ref().map(|p| hash_pin(p.expose())).transpose())
                .collect::<Result<Vec<_>, _>>()
        }));
    }
    let mut hashes = Vec::with_capacity(pins.len());
    for task in tasks {
        hashes.extend(task.await??);
    }
    Ok(hashes)
}

impl App {
    /// Imports users from CSV, all or nothing (see the module doc). New users get a
    /// standard seat, allocation 1 and the `user` role.
    pub async fn import_users(
        &self,
        domain: &DomainName,
        csv_text: &[u8],
    ) -> Result<ImportReport, AppError> {
        if self.read().tenants.get(domain).is_none() {
            return Err(AppError::UnknownDomain);
        }
        let (rows, mut rejected, count) = read_rows(csv_text);
        self.check_rows(domain, &rows, &mut rejected)?;
        if !rejected.is_empty() {
            rejected.sort_by_key(|r| r.line);
            return Err(rejected_report(count, rejected));
        }
        let hashes = hash_pins(&rows).await?;
        let mut users = Vec::with_capacity(rows.len());
        for (row, pin_hash) in rows.into_iter().zip(hashes) {
            let sip_secret = row
                .sip_password
                .as_ref()
                .map(|p| self.key.seal(p.expose()))
                .transpose()?;
            users.push(User {
                domain: domain.clone(),
                extension: row.extension,
                first_name: row.first_name,
                last_name: row.last_name,
                did: row.did,
                pin_hash,
                pin_index: row
                    .pin
                    .as_ref()
                    .map(|p| self.key.pin_index(domain.as_str(), p.expose())),
                sip_secret,
                seat: SeatType::Standard,
                max_devices: 1,
                scope: Scope::User,
                forward_to: None,
                no_answer_secs: None,
                agent: false,
                queue_status: QueueStatus::Offline,
                mailbox: Mailbox::default(),
            });
        }
        let _write = self.writes.lock().await;
        // Again under the lock: a user may have been created while PINs were hashed.
        let mut late = Vec::new();
        let lines: Vec<_> = users.iter().map(|u| u.extension.clone()).collect();
        self.check_extensions(domain, lines.iter().map(|e| (0, e)), &mut late)?;
        if !late.is_empty() {
            return Err(rejected_report(count, late));
        }
        self.store.import_users(&users).await?;
        let imported = users.len();
        let mut state = self.write_state();
        for user in users {
            state.tenants.put_user(user);
        }
        Ok(ImportReport {
            rows: count,
            imported,
            rejected: Vec::new(),
        })
    }

    /// Range, use and pool checks of parsed rows against the domain.
    fn check_rows(
        &self,
        domain: &DomainName,
        rows: &[Row],
        rejected: &mut Vec<RowError>,
    ) -> Result<(), AppError> {
        self.check_extensions(
            domain,
            rows.iter().map(|r| (r.line, &r.extension)),
            rejected,
        )?;
        let state = self.read();
        let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
        let seats = &tenant.domain.settings.seats;
        let used = seats::allocation_in_use(tenant.users.values());
        let requested = rows.len() as u64;
        let pool = seats.pool();
        if seats::is_enforced(seats) && used + requested > pool {
            let refusal = Refusal::PoolExceeded {
                pool,
                used,
                requested,
            };
            let mut err = row_error(0, None, refusal.into());
            err.field = "max_devices".into();
            rejected.push(err);
        }
        // HD-LOGIN-2: a PIN held by an existing user or by an earlier row is refused, so
        // `980` + PIN always names one person; the administrator sees which rows.
        let mut seen = HashSet::new();
        let held: HashSet<&str> = tenant
            .users
            .values()
            .filter_map(|u| u.pin_index.as_deref())
            .collect();
        for row in rows {
            let Some(pin) = &row.pin else { continue };
            let index = self.key.pin_index(domain.as_str(), pin.expose());
            if held.contains(index.as_str()) || !seen.insert(index) {
                let mut err = row_error(
                    row.line,
                    Some(row.extension.as_str()),
                    Refusal::PinInUse.into(),
                );
                err.field = "pin".into();
                rejected.push(err);
            }
        }
        Ok(())
    }

    fn check_extensions<'a>(
        &self,
        domain: &DomainName,
        rows: impl Iterator<Item = (u64, &'a Extension)>,
        rejected: &mut Vec<RowError>,
    ) -> Result<(), AppError> {
        let state = self.read();
        let tenant = state.tenants.get(domain).ok_or(AppError::UnknownDomain)?;
        for (line, ext) in rows {
            let refusal = if let Err(refusal) =
                hotdesk_core::user::check_user_extension(&tenant.domain.settings, ext)
            {
                refusal
            } else if tenant.extension_taken(ext) {
                Refusal::ExtensionInUse
            } else {
                continue;
            };
            rejected.push(row_error(line, Some(ext.as_str()), refusal.into()));
        }
        Ok(())
    }
}

fn rejected_report(rows: usize, rejected: Vec<RowError>) -> AppError {
    AppError::ImportRejected {
        report: Box::new(ImportReport {
            rows,
            imported: 0,
            rejected,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_with_line_numbers() {
        let csv = b"extension,first_name,last_name,did,pin,sip_password\n\
            1001,Ann,Lee,+15550001,1234,\n\
            10x2,Bob,Ray,,1234,\n\
            1003,Cy,,,12,\n\
            1001,Dup,,,,\n\
            1005,Eve,Moe,,,Secret-pass1\n";
        let (rows, rejected, count) = read_rows(csv);
        assert_eq!(count, 5);
        assert_eq!(rows.len(), 2);
        let summary: Vec<(u64, &str)> = rejected
            .iter()
            .map(|r| (r.line, r.field.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![(3, "extension"), (4, "pin"), (5, "extension")]
        );
    }

    #[test]
    fn headerless_files_and_reordered_headers_are_read() {
        let (rows, rejected, _) = read_rows(b"2001,Ann\n2002,Bob,Smith\n");
        assert!(rejected.is_empty());
        assert_eq!(rows[1].last_name, "Smith");
        let (rows, rejected, _) = read_rows(b"extension,pin,first_name\n3001,9876,Zed\n");
        assert!(rejected.is_empty());
        assert_eq!(rows[0].first_name, "Zed");
        assert!(rows[0].pin.is_some());
        let (_, rejected, _) = read_rows(b"extension,shoe_size\n3001,9\n");
        assert_eq!(rejected[0].field, "shoe_size");
    }
}
