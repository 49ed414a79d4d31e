//! The administrator commands: each is one API call, printed as a table or as `--json`.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::client::{ApiClient, Body, ClientError};
use super::table::{self, Column};
use super::{
    ApiArgs, Command, DeviceAction, DeviceAddArgs, DomainAction, MemberAction, MemberArgs,
    QueueAction, QueueAddArgs, QueueUpdateArgs, UserAction, UserAddArgs,
};
use crate::secrets::SecretString;

const DOMAIN_COLUMNS: &[Column] = &[
    Column {
        header: "DOMAIN",
        cell: |r| table::text(r, "name"),
    },
    Column {
        header: "USERS",
        cell: |r| table::text(&r["counts"], "users"),
    },
    Column {
        header: "DEVICES",
        cell: |r| table::text(&r["counts"], "devices"),
    },
    Column {
        header: "SESSIONS",
        cell: |r| table::text(&r["counts"], "associations"),
    },
];

const USER_COLUMNS: &[Column] = &[
    Column {
        header: "EXTENSION",
        cell: |r| table::text(r, "extension"),
    },
    Column {
        header: "NAME",
        cell: full_name,
    },
    Column {
        header: "DID",
        cell: |r| table::text(r, "did"),
    },
    Column {
        header: "SEAT",
        cell: |r| table::text(r, "seat"),
    },
    Column {
        header: "MAX DEVICES",
        cell: |r| table::text(r, "max_devices"),
    },
    Column {
        header: "SCOPE",
        cell: |r| table::text(r, "scope"),
    },
];

const DEVICE_COLUMNS: &[Column] = &[
    Column {
        header: "EXTENSION",
        cell: |r| table::text(r, "extension"),
    },
    Column {
        header: "KIND",
        cell: |r| table::text(r, "kind"),
    },
    Column {
        header: "MODEL",
        cell: |r| table::text(r, "model"),
    },
    Column {
        header: "MAC",
        cell: |r| table::text(r, "mac"),
    },
    Column {
        header: "OWNER",
        cell: |r| table::text(r, "owner"),
    },
    Column {
        header: "LOGGED IN",
        cell: |r| table::text(&r["session"], "user"),
    },
];

const SESSION_COLUMNS: &[Column] = &[
    Column {
        header: "DEVICE",
        cell: |r| table::text(r, "device"),
    },
    Column {
        header: "USER",
        cell: |r| table::text(r, "user"),
    },
    Column {
        header: "SINCE",
        cell: |r| table::text(r, "since"),
    },
    Column {
        header: "METHOD",
        cell: |r| table::text(r, "method"),
    },
    Column {
        header: "EXPIRES",
        cell: |r| table::text(r, "expires_at"),
    },
];

const QUEUE_COLUMNS: &[Column] = &[
    Column {
        header: "EXTENSION",
        cell: |r| table::text(r, "extension"),
    },
    Column {
        header: "NAME",
        cell: |r| table::text(r, "name"),
    },
    Column {
        header: "STRATEGY",
        cell: |r| table::text(r, "strategy"),
    },
    Column {
        header: "RING",
        cell: |r| table::text(r, "ring_secs"),
    },
    Column {
        header: "MEMBERS",
        cell: members,
    },
    Column {
        header: "OVERFLOW",
        cell: |r| table::text(r, "overflow"),
    },
];

/// `user:1004,phone:94001`, in hunting order; `-` for none.
fn members(row: &Value) -> String {
    let list: Vec<String> = row
        .get("members")
        .and_then(Value::as_array)
        .map(|members| {
            members
                .iter()
                .map(|m| format!("{}:{}", table::text(m, "kind"), table::text(m, "extension")))
                .collect()
        })
        .unwrap_or_default();
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(",")
    }
}

fn full_name(row: &Value) -> String {
    let name = format!(
        "{} {}",
        row.get("first_name").and_then(Value::as_str).unwrap_or(""),
        row.get("last_name").and_then(Value::as_str).unwrap_or("")
    );
    match name.trim() {
        "" => "-".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

/// Runs one administrator command (everything except `serve`).
pub(super) async fn run(command: Command) -> Result<(), ClientError> {
    match command {
        Command::Serve(_) => Ok(()),
        Command::Domain(cmd) => domain(cmd.action, &cmd.api).await,
        Command::User(cmd) => user(cmd.action, &cmd.api).await,
        Command::Device(cmd) => device(cmd.action, &cmd.api).await,
        Command::Queue(cmd) => queue(cmd.action, &cmd.api).await,
        Command::Login(args) => {
            let path = format!("{}/login", device_path(&args.api, &args.device));
            let answer = client(&args.api)
                .post(&path, json!({ "extension": args.user }))
                .await?;
            let text = format!("{} logged in to {}", args.user, args.device);
            print_done(&args.api, &answer, &text);
            Ok(())
        }
        Command::Logout(args) => {
            let path = format!("{}/logout", device_path(&args.api, &args.device));
            let answer = client(&args.api).post(&path, json!({})).await?;
            print_done(&args.api, &answer, &format!("{} logged out", args.device));
            Ok(())
        }
        Command::Sessions(api) => {
            let path = format!("{}/associations", domain_path(&api));
            let answer = client(&api).get(&path).await?;
            print_list(&api, &answer, SESSION_COLUMNS);
            Ok(())
        }
        Command::Import(args) => {
            let csv = read_input(&args.file)?;
            let path = format!("{}/users:import", domain_path(&args.api));
            let answer = client(&args.api)
                .send(Method::POST, &path, Body::Csv(csv))
                .await?;
            let count = import_count(&answer);
            let text = match count {
                Some(n) => format!("imported {n} users"),
                None => "imported".to_owned(),
            };
            print_done(&args.api, &answer, &text);
            Ok(())
        }
    }
}

async fn domain(action: DomainAction, api: &ApiArgs) -> Result<(), ClientError> {
    let client = client(api);
    match action {
        DomainAction::Add { name } => {
            let answer = client.post("/domains", json!({ "name": name })).await?;
            print_done(api, &answer, &format!("created domain {name}"));
        }
        DomainAction::List => print_list(api, &client.get("/domains").await?, DOMAIN_COLUMNS),
        DomainAction::Show { name } => {
            let name = name.unwrap_or_else(|| api.domain.clone());
            print_object(&client.get(&format!("/domains/{name}")).await?);
        }
    }
    Ok(())
}

async fn user(action: UserAction, api: &ApiArgs) -> Result<(), ClientError> {
    let client = client(api);
    let users = format!("{}/users", domain_path(api));
    match action {
        UserAction::Add(args) => {
            let text = format!("created user {}", args.extension);
            let answer = client.post(&users, user_body(args)).await?;
            print_done(api, &answer, &text);
        }
        UserAction::List => print_list(api, &client.get(&users).await?, USER_COLUMNS),
        UserAction::Show { extension } => {
            print_object(&client.get(&format!("{users}/{extension}")).await?);
        }
        UserAction::Delete { extension } => {
            let answer = client.delete(&format!("{users}/{extension}")).await?;
            print_done(api, &answer, &format!("deleted user {extension}"));
        }
    }
    Ok(())
}

async fn device(action: DeviceAction, api: &ApiArgs) -> Result<(), ClientError> {
    let client = client(api);
    let devices = format!("{}/devices", domain_path(api));
    match action {
        DeviceAction::Add(args) => {
            let text = format!("created device {}", args.extension);
            let answer = client.post(&devices, device_body(args)).await?;
            print_done(api, &answer, &text);
        }
        DeviceAction::List => print_list(api, &client.get(&devices).await?, DEVICE_COLUMNS),
        DeviceAction::Show { extension } => {
            print_object(&client.get(&format!("{devices}/{extension}")).await?);
        }
        DeviceAction::Delete { extension } => {
            let answer = client.delete(&format!("{devices}/{extension}")).await?;
            print_done(api, &answer, &format!("deleted device {extension}"));
        }
    }
    Ok(())
}

async fn queue(action: QueueAction, api: &ApiArgs) -> Result<(), ClientError> {
    let client = client(api);
    let queues = format!("{}/queues", domain_path(api));
    match action {
        QueueAction::List => print_list(api, &client.get(&queues).await?, QUEUE_COLUMNS),
        QueueAction::Add(args) => {
            let text = format!("created queue {}", args.extension);
            let answer = client.post(&queues, queue_body(args)).await?;
            print_done(api, &answer, &text);
        }
        QueueAction::Show { extension } => {
            print_object(&client.get(&format!("{queues}/{extension}")).await?);
        }
        QueueAction::Update(args) => {
            let path = format!("{queues}/{}", args.extension);
            let text = format!("updated queue {}", args.extension);
            let answer = client.patch(&path, queue_patch(args)).await?;
            print_done(api, &answer, &text);
        }
        QueueAction::Delete { extension } => {
            let answer = client.delete(&format!("{queues}/{extension}")).await?;
            print_done(api, &answer, &format!("deleted queue {extension}"));
        }
        QueueAction::Member { action } => match action {
            MemberAction::Add(args) => {
                let (kind, member) = member(&args);
                let path = format!("{queues}/{}/members", args.queue);
                let answer = client.post(&path, json!({ kind: member })).await?;
                let text = format!("added {kind} {member} to queue {}", args.queue);
                print_done(api, &answer, &text);
            }
            MemberAction::Remove(args) => {
                let (kind, member) = member(&args);
                let path = format!("{queues}/{}/members/{kind}/{member}", args.queue);
                let answer = client.delete(&path).await?;
                let text = format!("removed {kind} {member} from queue {}", args.queue);
                print_done(api, &answer, &text);
            }
        },
    }
    Ok(())
}

/// `("user", ext)` or `("phone", ext)`; clap makes exactly one of the two present.
fn member(args: &MemberArgs) -> (&'static str, &str) {
    match (&args.user, &args.phone) {
        (Some(user), _) => ("user", user),
        (None, Some(phone)) => ("phone", phone),
        (None, None) => ("user", ""),
    }
}

/// The JSON body of `POST /domains/{d}/queues`; unset options are left out.
fn queue_body(args: QueueAddArgs) -> Value {
    let mut body = Map::new();
    body.insert("extension".into(), json!(args.extension));
    body.insert("name".into(), json!(args.name));
    insert_some(&mut body, "strategy", args.strategy.map(Value::from));
    insert_some(&mut body, "ring_secs", args.ring_secs.map(Value::from));
    insert_some(&mut body, "overflow", args.overflow.map(Value::from));
    Value::Object(body)
}

/// The JSON body of `PATCH /domains/{d}/queues/{ext}`: `--no-overflow` sends `null`.
fn queue_patch(args: QueueUpdateArgs) -> Value {
    let mut body = Map::new();
    insert_some(&mut body, "name", args.name.map(Value::from));
    insert_some(&mut body, "strategy", args.strategy.map(Value::from));
    insert_some(&mut body, "ring_secs", args.ring_secs.map(Value::from));
    insert_some(&mut body, "overflow", args.overflow.map(Value::from));
    if args.no_overflow {
        body.insert("overflow".into(), Value::Null);
    }
    Value::Object(body)
}

fn insert_some(body: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(key.into(), value);
    }
}

/// The JSON body of `POST /domains/{d}/users`; unset options are left out.
fn user_body(args: UserAddArgs) -> Value {
    let mut body = Map::new();
    body.insert("extension".into(), json!(args.extension));
    body.insert("first_name".into(), json!(args.first_name));
    body.insert("last_name".into(), json!(args.last_name));
    let optional = [
        ("did", args.did.map(Value::from)),
        ("pin", args.pin.map(Value::from)),
        ("sip_password", args.sip_password.map(Value::from)),
        ("seat", args.seat.map(Value::from)),
        ("max_devices", args.max_devices.map(Value::from)),
        ("scope", args.scope.map(Value::from)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            body.insert(key.into(), value);
        }
    }
    Value::Object(body)
}

/// The JSON body of `POST /domains/{d}/devices`.
fn device_body(args: DeviceAddArgs) -> Value {
    let mut body = Map::new();
    body.insert("extension".into(), json!(args.extension));
    body.insert("mac".into(), json!(args.mac));
    body.insert("model".into(), json!(args.model));
    body.insert("kind".into(), json!(args.kind));
    if let Some(password) = args.sip_password {
        body.insert("sip_password".into(), json!(password));
    }
    if let Some(country) = args.country {
        let mut location = Map::new();
        location.insert("country".into(), json!(country));
        if let Some(text) = args.location {
            location.insert("description".into(), json!(text));
        }
        body.insert("location".into(), Value::Object(location));
    }
    Value::Object(body)
}

fn client(api: &ApiArgs) -> ApiClient {
    let token = api
        .token
        .clone()
        .or_else(|| std::env::var("HOTDESK_ADMIN_TOKEN").ok())
        .filter(|t| !t.is_empty())
        .map(SecretString::new);
    ApiClient::new(&api.url, token)
}

fn domain_path(api: &ApiArgs) -> String {
    format!("/domains/{}", api.domain)
}

fn device_path(api: &ApiArgs, device: &str) -> String {
    format!("{}/devices/{device}", domain_path(api))
}

fn read_input(file: &str) -> Result<String, ClientError> {
    let result = if file == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    };
    result.map_err(|source| ClientError::File {
        path: file.to_owned(),
        source,
    })
}

/// The number of imported users, whatever the answer calls it.
fn import_count(answer: &Value) -> Option<u64> {
    ["imported", "created", "count"]
        .iter()
        .find_map(|key| answer.get(key).and_then(Value::as_u64))
        .or_else(|| {
            let rows = table::rows(answer);
            (!rows.is_empty()).then_some(rows.len() as u64)
        })
}

fn print_list(api: &ApiArgs, answer: &Value, columns: &[Column]) {
    if api.json {
        print_json(answer);
    } else {
        print!("{}", table::render(columns, &table::rows(answer)));
    }
}

fn print_done(api: &ApiArgs, answer: &Value, text: &str) {
    if api.json {
        print_json(answer);
    } else {
        println!("{text}");
    }
}

/// Single objects print as JSON in both modes: nested settings read better than a table.
fn print_object(answer: &Value) {
    print_json(answer);
}

fn print_json(answer: &Value) {
    match serde_json::to_string_pretty(answer) {
        Ok(text) => println!("{text}"),
        Err(_) => println!("{answer}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_4_user_body_leaves_unset_fields_out() {
        let args = UserAddArgs {
            extension: "1004".into(),
            first_name: "Bob".into(),
            last_name: "Smith".into(),
            did: None,
            pin: Some("4321".into()),
            sip_password: None,
            seat: None,
            max_devices: Some(3),
            scope: None,
        };
        assert_eq!(
            user_body(args),
            json!({"extension":"1004","first_name":"Bob","last_name":"Smith","pin":"4321","max_devices":3})
        );
    }

    #[test]
    fn spec_4_device_body_carries_a_civic_location() {
        let args = DeviceAddArgs {
            extension: "94001".into(),
            mac: "00:15:65:00:00:01".into(),
            model: "yealink-t46u".into(),
            kind: "hotdesk".into(),
            sip_password: None,
            country: Some("US".into()),
            location: Some("Desk 4, floor 2".into()),
        };
        let body = device_body(args);
        assert_eq!(
            body["location"],
            json!({"country":"US","description":"Desk 4, floor 2"})
        );
        assert!(body.get("sip_password").is_none());
    }

    #[test]
    fn hd_route_7_queue_patch_sends_only_what_changes() {
        let args = QueueUpdateArgs {
            extension: "7000".into(),
            name: None,
            strategy: Some("round_robin".into()),
            ring_secs: None,
            overflow: None,
            no_overflow: true,
        };
        assert_eq!(
            queue_patch(args),
            json!({"strategy":"round_robin","overflow":null})
        );
        let members = json!({"members":[{"kind":"user","extension":"1004"},{"kind":"phone","extension":"94001"}]});
        assert_eq!(super::members(&members), "user:1004,phone:94001");
        assert_eq!(super::members(&json!({"members":[]})), "-");
    }

    #[test]
    fn import_count_reads_common_answers() {
        assert_eq!(import_count(&json!({"imported": 3})), Some(3));
        assert_eq!(
            import_count(&json!([{"extension":"1"},{"extension":"2"}])),
            Some(2)
        );
        assert_eq!(import_count(&json!({})), None);
    }
}
