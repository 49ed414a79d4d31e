//! The web portal in a real browser: `tests/browser/portal.mjs` drives Debian's Chromium
//! (playwright-core, no browser download) against `hotdesk serve --demo`. It checks
//! sign-in, the desk board updating live when the CLI logs someone in from another process
//! (standing in for *44, HD-LOGIN-1), remote log-out (HD-LOGOUT-4), the allocation refusal
//! (HD-LOGIN-5), CSV import with a bad row, the device range check (HD-LOGIN-11), a
//! keyboard-only walk-through with Activate Phone (HD-LOGIN-9), and security: no session,
//! CSRF, another domain's manager (HD-SEC-1, HD-SEC-4). Screenshots go to
//! `$CARGO_TARGET_DIR/portal-screenshots/`.
//!
//! Needs `/usr/bin/chromium` and `npm ci` in `tests/browser` (both done by `scripts/test`);
//! without them the test is skipped, unless `HOTDESK_REQUIRE_BROWSER=1`.

use std::path::{Path, PathBuf};
use std::process::Command;

use tokio::task::block_in_place;

use crate::harness::{Options, Server, BIN};

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Where screenshots go: beside the build output, kept after the test.
fn screenshot_dir() -> PathBuf {
    // CARGO_BIN_EXE_hotdesk is <target>/<profile>/hotdesk.
    let target = Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .map_or_else(std::env::temp_dir, Path::to_path_buf);
    target.join("portal-screenshots")
}

/// Whether the browser and playwright-core are installed; panics if required but missing.
fn browser_ready() -> bool {
    let required = std::env::var("HOTDESK_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let missing: Vec<&str> = [
        (!Path::new(CHROMIUM).exists()).then_some(CHROMIUM),
        (!browser_dir().join("node_modules/playwright-core").exists())
            .then_some("tests/browser/node_modules (npm ci)"),
        Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required,
        "HOTDESK_REQUIRE_BROWSER=1 but missing: {missing:?}"
    );
    eprintln!("skipped: browser tests need {missing:?}");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_in_chromium() {
    if !browser_ready() {
        return;
    }
    let server = block_in_place(|| {
        Server::with(Options {
            demo: true,
            ..Options::default()
        })
    });
    let shots = screenshot_dir();
    let output = block_in_place(|| {
        Command::new("node")
            .arg("portal.mjs")
            .current_dir(browser_dir())
            .env("HOTDESK_URL", server.url())
            .env("HOTDESK_TOKEN", server.admin_token())
            .env("HOTDESK_DOMAIN", "acme.test")
            .env("HOTDESK_BIN", BIN)
            .env("SCREENSHOT_DIR", &shots)
            .output()
            .unwrap_or_else(|e| panic!("run node: {e}"))
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}\nserver output:\n{}",
        server.output()
    );
    assert!(stdout.contains("browser checks passed"), "{stdout}");
    assert!(shots.join("board.png").exists(), "screenshot saved");
}
