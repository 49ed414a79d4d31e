//! Optional real-time scheduling for the driver thread: pacing 500 sessions costs a quarter
//! of a core, but on a saturated machine the thread's wake-up latency, not its work, is
//! what spreads the 20 ms spacing.

/// Puts the calling thread under SCHED_FIFO at `priority`; logs and carries on if refused.
pub(crate) fn set_fifo(priority: i32) {
    let param = libc::sched_param {
        sched_priority: priority.clamp(1, 99),
    };
    // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param for the call.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc == 0 {
        tracing::info!(priority, "media driver runs under SCHED_FIFO");
    } else {
        let error = std::io::Error::last_os_error();
        // Not an error: an unprivileged server paces fine on a host that is not saturated.
        tracing::info!(
            priority,
            %error,
            "media driver keeps normal scheduling (SCHED_FIFO needs root or CAP_SYS_NICE)"
        );
    }
}
