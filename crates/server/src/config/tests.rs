use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use clap::Parser as _;

use super::*;

/// Parses `hotdesk-test serve …`-style flags without touching the process environment.
#[derive(Debug, clap::Parser)]
struct Wrapper {
    #[command(flatten)]
    serve: ServeArgs,
}

fn args(flags: &[&str]) -> ServeArgs {
    let mut argv = vec!["hotdesk"];
    argv.extend_from_slice(flags);
    Wrapper::parse_from(argv).serve
}

fn file(text: &str) -> FileConfig {
    FileConfig::parse(text, Path::new("hotdesk.toml")).unwrap()
}

#[test]
fn spec_4_defaults_without_file_or_flags() {
    let config = Config::merge(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert_eq!(config.sip, "127.0.0.1:5060".parse().unwrap());
    assert_eq!(config.http, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(config.database, "sqlite://hotdesk.db");
    assert_eq!(config.domain.as_str(), "acme.test");
    assert!(!config.demo);
    assert!(config.admin_token.is_none());
    assert_eq!(config.key, KeySource::File("hotdesk.db.key".into()));
    assert_eq!(config.log, "info");
}

#[test]
fn spec_4_toml_file_sets_every_key() {
    let parsed = file(
        r#"
        sip = "0.0.0.0:5070"
        http = "0.0.0.0:8081"
        database = "postgres://hd@db/hotdesk"
        domain = "Example.Test"
        demo = true
        admin_token = "file-token"
        key_file = "/etc/hotdesk/key"
        log = "debug"
        "#,
    );
    let config = Config::merge(&ServeArgs::default(), parsed).unwrap();
    assert_eq!(config.sip, "0.0.0.0:5070".parse().unwrap());
    assert_eq!(config.http, "0.0.0.0:8081".parse().unwrap());
    assert_eq!(config.database, "postgres://hd@db/hotdesk");
    assert_eq!(config.domain.as_str(), "example.test");
    assert!(config.demo);
    assert_eq!(config.admin_token.as_ref().unwrap().expose(), "file-token");
    assert_eq!(config.key, KeySource::File("/etc/hotdesk/key".into()));
    assert_eq!(config.log, "debug");
}

#[test]
fn spec_4_unknown_toml_key_is_an_error_naming_it() {
    let error = FileConfig::parse("htpp = \"0.0.0.0:80\"\n", Path::new("x.toml")).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("x.toml"), "{text}");
    assert!(text.contains("htpp"), "{text}");
}

#[test]
fn spec_4_flags_override_the_file() {
    let parsed = file("sip = \"0.0.0.0:5070\"\nhttp = \"0.0.0.0:8081\"\ndomain = \"file.test\"\n");
    let flags = args(&[
        "--sip",
        "127.0.0.1:0",
        "--domain",
        "flag.test",
        "--database",
        "sqlite:///tmp/x/h.db",
        "--demo",
    ]);
    let config = Config::merge(&flags, parsed).unwrap();
    assert_eq!(config.sip, "127.0.0.1:0".parse().unwrap());
    // Not given as a flag: the file's value stays.
    assert_eq!(config.http, "0.0.0.0:8081".parse().unwrap());
    assert_eq!(config.domain.as_str(), "flag.test");
    assert!(config.demo);
    assert_eq!(config.key, KeySource::File("/tmp/x/h.db.key".into()));
}

#[test]
fn spec_4_bad_domain_and_bad_address_are_refused() {
    let error = Config::merge(&args(&["--domain", "not a domain"]), FileConfig::default());
    assert!(matches!(error, Err(ConfigError::Domain { .. })));
    let bad = Wrapper::try_parse_from(["hotdesk", "--http", "localhost:http"]);
    assert!(bad.is_err());
}

#[test]
fn hd_sec_2_key_source_follows_the_database() {
    assert_eq!(
        KeySource::choose(None, None, "sqlite://data/hotdesk.db?mode=rwc"),
        KeySource::File("data/hotdesk.db.key".into())
    );
    assert_eq!(
        KeySource::choose(None, None, "sqlite::memory:"),
        KeySource::Ephemeral
    );
    assert_eq!(
        KeySource::choose(None, None, "postgres://postgres@127.0.0.1/test"),
        KeySource::Missing
    );
    assert_eq!(
        KeySource::choose(None, Some("k".into()), "postgres://x/y"),
        KeySource::File("k".into())
    );
    let inline = KeySource::choose(Some(" abcd "), Some("k".into()), "sqlite://a.db");
    assert_eq!(inline, KeySource::Inline(SecretString::new("abcd")));
}

#[test]
fn hd_sec_2_postgres_without_key_is_refused() {
    assert!(matches!(
        KeySource::Missing.load(),
        Err(ConfigError::KeyRequired)
    ));
}

#[test]
fn hd_sec_2_inline_key_must_be_32_bytes() {
    let good = KeySource::Inline(SecretString::new("ab".repeat(32)));
    assert!(good.load().is_ok());
    let bad = KeySource::Inline(SecretString::new("abcd"));
    let error = bad.load().unwrap_err();
    assert!(matches!(error, ConfigError::Key { .. }));
    assert!(
        !error.to_string().contains("abcd"),
        "key text leaked: {error}"
    );
}

#[test]
fn hd_sec_2_key_file_is_created_0600_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db.key");
    let source = KeySource::File(path.clone());
    let first = source.load().unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let contents = std::fs::read_to_string(&path).unwrap();
    assert_eq!(contents.trim().len(), 64);
    // The second run reads the same key: what the first sealed, the second opens.
    let sealed = first.seal("pw-94001").unwrap();
    let second = source.load().unwrap();
    assert_eq!(second.open(&sealed).unwrap().expose(), "pw-94001");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), contents);
}

#[test]
fn hd_sec_2_corrupt_key_file_is_an_error_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.key");
    std::fs::write(&path, "not a key\n").unwrap();
    let error = KeySource::File(path.clone()).load().unwrap_err();
    assert!(matches!(error, ConfigError::Key { .. }));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
}

#[test]
fn hd_mwi_1_voicemail_trust_flag_is_a_comma_separated_list() {
    let config = Config::merge(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert!(
        config.voicemail_trust.is_empty(),
        "nobody is trusted by default"
    );
    let flags = args(&["--voicemail-trust", "127.0.0.1,10.0.0.0/8,fd00::/8"]);
    let config = Config::merge(&flags, FileConfig::default()).unwrap();
    assert!(config.voicemail_trust.allows("10.9.8.7".parse().unwrap()));
    assert!(config.voicemail_trust.allows("fd00::1".parse().unwrap()));
    assert!(!config.voicemail_trust.allows("127.0.0.2".parse().unwrap()));
    let bad = args(&["--voicemail-trust", "127.0.0.1,vm.acme.test"]);
    let error = Config::merge(&bad, FileConfig::default()).unwrap_err();
    assert!(error.to_string().contains("vm.acme.test"), "{error}");
}

#[test]
fn hd_prov_1_https_needs_certificate_and_key() {
    let half = args(&["--https", "127.0.0.1:8443", "--tls-cert", "c.pem"]);
    assert!(matches!(
        Config::merge(&half, FileConfig::default()),
        Err(ConfigError::TlsIncomplete)
    ));
    let whole = args(&[
        "--https",
        "127.0.0.1:8443",
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
    ]);
    let https = Config::merge(&whole, FileConfig::default())
        .unwrap()
        .https
        .unwrap();
    assert_eq!(https.addr, "127.0.0.1:8443".parse().unwrap());
    assert_eq!(https.identity.key_pem, Path::new("k.pem"));
    let none = Config::merge(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert!(none.https.is_none() && none.provision_sip_server.is_none());
    let bad = args(&["--provision-sip-server", "sip acme"]);
    assert!(matches!(
        Config::merge(&bad, FileConfig::default()),
        Err(ConfigError::SipServer(_))
    ));
}

#[test]
fn rtp_address_from_flag_or_file_flag_wins() {
    // Issue 6: a wildcard --sip needs an address for the SDP c= line.
    let none = Config::merge(&ServeArgs::default(), FileConfig::default()).unwrap();
    assert_eq!(none.rtp_address, None);
    let from_file = file(r#"rtp_address = "192.0.2.10""#);
    let config = Config::merge(&ServeArgs::default(), from_file.clone()).unwrap();
    assert_eq!(config.rtp_address, Some("192.0.2.10".parse().unwrap()));
    let flags = args(&["--sip", "0.0.0.0:5060", "--rtp-address", "2001:db8::7"]);
    let config = Config::merge(&flags, from_file).unwrap();
    assert_eq!(config.rtp_address, Some("2001:db8::7".parse().unwrap()));
    assert!(Wrapper::try_parse_from(["hotdesk", "--rtp-address", "not-an-ip"]).is_err());
}

#[test]
fn spec_4_coalesce_flag_is_bounded() {
    // Unset means the runtime's default; 0 turns the wait off; past 10 ms is refused,
    // not taken as a wait that would stall every request.
    assert_eq!(args(&[]).coalesce_us, None);
    assert_eq!(args(&["--coalesce-us", "0"]).coalesce_us, Some(0));
    assert_eq!(args(&["--coalesce-us", "10000"]).coalesce_us, Some(10_000));
    assert!(Wrapper::try_parse_from(["hotdesk", "--coalesce-us", "10001"]).is_err());
    assert!(Wrapper::try_parse_from(["hotdesk", "--coalesce-us", "-1"]).is_err());
}
