//! [`RecordFilter`] as SQL: one builder for audit and CDR listings (HD-CDR-2).

use hotdesk_core::DomainName;

use super::record::millis;
use super::Statement;
use crate::RecordFilter;

/// The columns a filter applies to in one table.
pub(crate) struct FilterColumns {
    /// Column holding the user extension.
    pub(crate) user: &'static str,
    /// Column holding the device anchor extension.
    pub(crate) device: &'static str,
    /// Column holding the row's time in unix milliseconds.
    pub(crate) time: &'static str,
}

impl RecordFilter {
    /// `{select} WHERE domain = $1 AND …` newest first (ties: latest inserted first).
    ///
    /// Time bounds compare at millisecond resolution, the resolution of the `*_ms` columns.
    pub(crate) fn statement(
        &self,
        select: &str,
        domain: &DomainName,
        columns: &FilterColumns,
    ) -> Statement {
        let mut sql = format!("{select} WHERE domain = $1");
        let mut statement = Statement::new("").bind(domain.as_str());
        let mut push = |clause: String, value: super::Value| {
            statement.args.push(value);
            sql.push_str(&format!(" AND {clause} ${}", statement.args.len()));
        };
        if let Some(user) = &self.user {
            push(format!("{} =", columns.user), user.as_str().into());
        }
        if let Some(device) = &self.device {
            push(format!("{} =", columns.device), device.as_str().into());
        }
        if let Some(from) = self.from {
            push(format!("{} >=", columns.time), millis(from).into());
        }
        if let Some(until) = self.until {
            push(format!("{} <", columns.time), millis(until).into());
        }
        sql.push_str(&format!(" ORDER BY {} DESC, id DESC", columns.time));
        if let Some(limit) = self.limit {
            statement.args.push(i64::from(limit).into());
            sql.push_str(&format!(" LIMIT ${}", statement.args.len()));
        }
        statement.sql = sql.into();
        statement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: FilterColumns = FilterColumns {
        user: "u",
        device: "d",
        time: "t",
    };

    #[test]
    fn hd_cdr_2_every_filter_becomes_a_numbered_clause() {
        let filter = RecordFilter {
            user: "1004".parse().ok(),
            device: "94001".parse().ok(),
            from: "2025-01-01T00:00:00Z".parse().ok(),
            until: "2025-01-02T00:00:00Z".parse().ok(),
            limit: Some(10),
        };
        let domain = "acme.test".parse().expect("domain");
        let statement = filter.statement("SELECT x FROM r", &domain, &COLUMNS);
        assert_eq!(
            statement.sql,
            "SELECT x FROM r WHERE domain = $1 AND u = $2 AND d = $3 AND t >= $4 AND t < $5 \
             ORDER BY t DESC, id DESC LIMIT $6"
        );
        assert_eq!(statement.args.len(), 6);
    }

    #[test]
    fn hd_cdr_2_empty_filter_is_domain_only() {
        let domain = "acme.test".parse().expect("domain");
        let statement = RecordFilter::default().statement("SELECT x FROM r", &domain, &COLUMNS);
        assert_eq!(
            statement.sql,
            "SELECT x FROM r WHERE domain = $1 ORDER BY t DESC, id DESC"
        );
    }
}
