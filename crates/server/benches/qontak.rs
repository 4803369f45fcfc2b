//! Qontak benchmark, against the real `lonceng-server` binary (release) in its own process:
//! - webhooks per second through the intake into a SQLite file, with a stream open for every
//!   linked agent (goal ≥ 2,000/s), beside its peer in the same run: producer events of the same
//!   kind through `POST /v1/events`, and customers' messages (chat toasts);
//! - the CRM bridge's cost for 1,000 linked agents: requests per minute and the server's CPU time,
//!   against the CRM stand-in (in this process, so that its CPU is not counted).
//!
//! Run: `cargo bench -p lonceng-server --bench qontak` (prints Markdown rows for docs/PERFORMANCE.md).
//!
//! Linux only: it reads the server's CPU time from /proc.

#[cfg(target_os = "linux")]
#[path = "qontak/linux.rs"]
mod linux;

#[cfg(target_os = "linux")]
#[path = "common/cpu.rs"]
mod cpu;

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("this bench runs on Linux: it reads the server's CPU time from /proc");
}
