//! The `hotdesk` binary; everything lives in the library (`hotdesk::cli`) but the allocator.

mod allocator;

/// mimalloc rather than the system allocator: every SIP message allocates a little, and
/// glibc's bin consolidation took ~14 % of the registrar's CPU under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: allocator::Mimalloc = allocator::Mimalloc;

fn main() -> std::process::ExitCode {
    no_huge_pages();
    hotdesk::cli::main()
}

/// Turns transparent huge pages off for this process. While completed transactions wait
/// out Timer J the heap grows with the load (by about 600 bytes per REGISTER answered while
/// their 200s were kept; refusals and OPTIONS still are), and with huge pages each step of
/// that growth faulted in and cleared 2 MiB at once on the worker thread: 5 %
/// of the registrar's CPU under load on a VM, against under 2 % with 4 KiB pages, and a
/// fifth more memory resident (BENCHMARKS.md, sixth pass).
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours; a
    // failure (an old kernel) only leaves huge pages on.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}
