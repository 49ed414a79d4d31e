//! The `hotdesk` binary; everything lives in the library (`hotdesk::cli`).

/// mimalloc rather than the system allocator: every SIP message allocates a little, and
/// glibc's bin consolidation took ~14 % of the registrar's CPU under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hotdesk::cli::main()
}
