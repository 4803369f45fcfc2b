//! Toast latency: from the server accepting a producer event to the `Notify` call arriving at the
//! notification server on D-Bus, through the whole chain (server → SSE → sync engine → store → toast
//! policy → notify-rust → D-Bus). 1,000 events, one at a time.
//!
//! Run: `cargo bench -p lonceng-desktop --bench toasts` (it re-runs itself under `dbus-run-session`
//! with a recording notification server). Goals (issue 5): p50 ≤ 5 ms, p99 ≤ 20 ms.
//!
//! Linux only: toasts go to a recording notification server on D-Bus.

#[cfg(target_os = "linux")]
#[path = "toasts/linux.rs"]
mod linux;

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("this bench runs on Linux: toasts go to a recording notification server on D-Bus");
}
