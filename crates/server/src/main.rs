//! The `hotdesk` binary; everything lives in the library (`hotdesk::cli`).

fn main() -> std::process::ExitCode {
    hotdesk::cli::main()
}
