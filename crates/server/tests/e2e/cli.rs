//! The administrator CLI against a running server (SPEC §4): each command is one API call;
//! tables by default, `--json` for scripts, `error: <message> (<code>)` and exit 1 on errors.

use serde_json::Value;
use tokio::task::block_in_place;

use crate::harness::{field, ok_stdout, rows, Server, BIN};

const D: &str = "--domain=cli.test";

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The table line whose first cell is `key`.
fn line_starting<'a>(table: &'a str, key: &str) -> Option<&'a str> {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
}

#[test]
fn spec_4_cli_user_device_login_sessions_logout() {
    let server = Server::start();
    let out = ok_stdout(&server.cli(&["domain", "add", "cli.test"]));
    assert_eq!(out.trim(), "created domain cli.test");
    assert!(line_starting(&ok_stdout(&server.cli(&["domain", "list"])), "cli.test").is_some());

    let out = ok_stdout(&server.cli(&[
        "user",
        "add",
        "1004",
        "--first-name",
        "Bob",
        "--last-name",
        "Smith",
        "--pin",
        "4321",
        "--did",
        "+15550001004",
        "--max-devices",
        "2",
        D,
    ]));
    assert_eq!(out.trim(), "created user 1004");
    let table = ok_stdout(&server.cli(&["user", "list", D]));
    let header = table.lines().next().unwrap_or_default();
    assert!(header.starts_with("EXTENSION"), "{table}");
    let row = line_starting(&table, "1004").unwrap_or_else(|| panic!("no 1004 in\n{table}"));
    assert!(
        row.contains("Bob Smith") && row.contains("+15550001004"),
        "{row}"
    );
    // Columns are aligned: every line has the NAME column at the same offset.
    let name_at = header.find("NAME").unwrap_or_default();
    assert_eq!(row.find("Bob"), Some(name_at), "{table}");

    let out = ok_stdout(&server.cli(&[
        "device",
        "add",
        "94001",
        "--mac",
        "00:15:65:00:00:01",
        "--model",
        "yealink-t46u",
        D,
    ]));
    assert_eq!(out.trim(), "created device 94001");
    let devices = ok_stdout(&server.cli(&["device", "list", D]));
    let row = line_starting(&devices, "94001").unwrap_or_else(|| panic!("{devices}"));
    assert!(
        row.contains("hotdesk") && row.contains("yealink-t46u"),
        "{row}"
    );

    let out = ok_stdout(&server.cli(&["login", "94001", "1004", D]));
    assert_eq!(out.trim(), "1004 logged in to 94001");
    let table = ok_stdout(&server.cli(&["sessions", D]));
    let row = line_starting(&table, "94001").unwrap_or_else(|| panic!("{table}"));
    assert_eq!(row.split_whitespace().nth(1), Some("1004"), "{table}");
    let sessions = rows(&json(&ok_stdout(&server.cli(&["sessions", "--json", D]))));
    assert_eq!(sessions.len(), 1);
    assert_eq!(field(&sessions[0], "device"), "94001");
    assert_eq!(field(&sessions[0], "user"), "1004");

    let out = ok_stdout(&server.cli(&["logout", "94001", D]));
    assert_eq!(out.trim(), "94001 logged out");
    let sessions = rows(&json(&ok_stdout(&server.cli(&["sessions", "--json", D]))));
    assert!(sessions.is_empty(), "{sessions:?}");
}

#[test]
fn spec_4_cli_import_csv_then_list_as_json() {
    let server = Server::start();
    ok_stdout(&server.cli(&["domain", "add", "cli.test"]));
    let csv = server.dir().join("users.csv");
    std::fs::write(
        &csv,
        "extension,first_name,last_name,did,pin,sip_password\n\
         2001,Ada,Lovelace,+15550002001,7001,\n\
         2002,Alan,Turing,,7002,s3cret-sip\n",
    )
    .unwrap_or_else(|e| panic!("write csv: {e}"));
    let path = csv.display().to_string();
    let out = ok_stdout(&server.cli(&["import", &path, D]));
    assert_eq!(out.trim(), "imported 2 users");

    let users = rows(&json(&ok_stdout(
        &server.cli(&["user", "list", "--json", D]),
    )));
    let extensions: Vec<String> = users.iter().map(|u| field(u, "extension")).collect();
    assert_eq!(extensions, ["2001", "2002"]);
    // HD-SEC-2: nothing secret comes back, in JSON or in the table.
    let raw = ok_stdout(&server.cli(&["user", "list", "--json", D]));
    assert!(
        !raw.contains("s3cret-sip") && !raw.contains("7002"),
        "{raw}"
    );

    let shown = json(&ok_stdout(&server.cli(&["user", "show", "2001", D])));
    assert_eq!(field(&shown, "last_name"), "Lovelace");
}

#[test]
fn spec_4_cli_api_errors_print_message_and_code_and_exit_1() {
    let server = Server::start();
    ok_stdout(&server.cli(&["domain", "add", "cli.test"]));
    ok_stdout(&server.cli(&[
        "device",
        "add",
        "94001",
        "--mac",
        "001565000001",
        "--model",
        "yealink-t46u",
        D,
    ]));
    let output = server.cli(&["login", "94001", "1099", D]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    let line = text.trim();
    assert!(line.starts_with("error: "), "{text}");
    assert!(line.ends_with("(unknown_user)"), "{text}");

    // A refused model names the catalogue (HD-PROV-5) and still uses the error format.
    let output = server.cli(&[
        "device",
        "add",
        "94002",
        "--mac",
        "001565000002",
        "--model",
        "acme-phone",
        D,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: "),
        "{}",
        stderr(&output)
    );

    // A wrong token is refused with the API's code.
    let output = server
        .cli_command(&["user", "list", D])
        .env("HOTDESK_TOKEN", "wrong")
        .output()
        .unwrap_or_else(|e| panic!("run cli: {e}"));
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: ") && text.trim_end().ends_with(')'),
        "{text}"
    );
}

#[test]
fn spec_4_cli_unreachable_server_is_an_error_not_a_panic() {
    // Port 9 (discard) on loopback: nothing listens there.
    let output = std::process::Command::new(BIN)
        .args(["sessions", "--url", "http://127.0.0.1:9"])
        .env_remove("HOTDESK_URL")
        .output()
        .unwrap_or_else(|e| panic!("run cli: {e}"));
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: cannot reach http://127.0.0.1:9"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_4_cli_and_api_see_the_same_sessions() {
    let server = block_in_place(Server::start);
    let api = server.api();
    api.post("/domains", serde_json::json!({"name": "cli.test"}))
        .await;
    api.post(
        "/domains/cli.test/users",
        serde_json::json!({"extension": "1004", "first_name": "Bob", "pin": "4321"}),
    )
    .await;
    api.post(
        "/domains/cli.test/devices",
        serde_json::json!({"extension": "5401", "mac": "001565000401", "model": "polycom-vvx-450", "kind": "hotdesk"}),
    )
    .await;
    let out = block_in_place(|| ok_stdout(&server.cli(&["login", "5401", "1004", D])));
    assert_eq!(out.trim(), "1004 logged in to 5401");
    let sessions = api.list("/domains/cli.test/associations").await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(field(&sessions[0], "device"), "5401");
}

/// HD-ROUTE-7 through the CLI: `hotdesk queue list|add|show|update|delete` and
/// `queue member add|remove`, one API call each, tables and `--json`, API errors as
/// `error: <message> (<code>)`.
#[test]
fn hd_route_7_cli_queue_crud_and_members() {
    let server = Server::start();
    ok_stdout(&server.cli(&["domain", "add", "cli.test"]));
    ok_stdout(&server.cli(&["user", "add", "1004", "--first-name", "Bob", D]));
    ok_stdout(&server.cli(&[
        "device",
        "add",
        "94001",
        "--mac",
        "001565000001",
        "--model",
        "yealink-t46u",
        D,
    ]));
    let out = ok_stdout(&server.cli(&[
        "queue",
        "add",
        "7000",
        "--name",
        "Support",
        "--strategy",
        "round_robin",
        "--ring-secs",
        "20",
        D,
    ]));
    assert_eq!(out.trim(), "created queue 7000");
    let out = ok_stdout(&server.cli(&["queue", "member", "add", "7000", "--user", "1004", D]));
    assert_eq!(out.trim(), "added user 1004 to queue 7000");
    ok_stdout(&server.cli(&["queue", "member", "add", "7000", "--phone", "94001", D]));

    let table = ok_stdout(&server.cli(&["queue", "list", D]));
    assert!(table.starts_with("EXTENSION"), "{table}");
    let row = line_starting(&table, "7000").unwrap_or_else(|| panic!("{table}"));
    assert!(
        row.contains("Support")
            && row.contains("round_robin")
            && row.contains("user:1004,phone:94001"),
        "{row}"
    );

    let out = ok_stdout(&server.cli(&[
        "queue",
        "update",
        "7000",
        "--strategy",
        "ring_all",
        "--overflow",
        "1004",
        D,
    ]));
    assert_eq!(out.trim(), "updated queue 7000");
    let shown = json(&ok_stdout(&server.cli(&["queue", "show", "7000", D])));
    assert_eq!(field(&shown, "strategy"), "ring_all");
    assert_eq!(field(&shown, "overflow"), "1004");
    assert_eq!(shown["ring_secs"], 20);
    let out = ok_stdout(&server.cli(&["queue", "update", "7000", "--no-overflow", D]));
    assert_eq!(out.trim(), "updated queue 7000");

    let out = ok_stdout(&server.cli(&["queue", "member", "remove", "7000", "--phone", "94001", D]));
    assert_eq!(out.trim(), "removed phone 94001 from queue 7000");
    let listed = rows(&json(&ok_stdout(
        &server.cli(&["queue", "list", "--json", D]),
    )));
    assert_eq!(listed.len(), 1);
    assert!(listed[0]["overflow"].is_null(), "{listed:?}");
    let members = listed[0]["members"].as_array().cloned().unwrap_or_default();
    assert_eq!(members.len(), 1, "{listed:?}");
    assert_eq!(field(&members[0], "extension"), "1004");

    // Errors keep the CLI's format: an unknown member, a missing queue.
    let output = server.cli(&["queue", "member", "add", "7000", "--user", "1099", D]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("error: ") && text.trim_end().ends_with(')'),
        "{text}"
    );
    let output = server.cli(&["queue", "show", "7999", D]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).trim_end().ends_with("(not_found)"),
        "{}",
        stderr(&output)
    );
    // Exactly one of --user / --phone.
    let output = server.cli(&["queue", "member", "add", "7000", D]);
    assert_ne!(output.status.code(), Some(0));

    let out = ok_stdout(&server.cli(&["queue", "delete", "7000", D]));
    assert_eq!(out.trim(), "deleted queue 7000");
    let listed = rows(&json(&ok_stdout(
        &server.cli(&["queue", "list", "--json", D]),
    )));
    assert!(listed.is_empty(), "{listed:?}");
}
