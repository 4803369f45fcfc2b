//! Server benchmark: concurrent SSE streams and producer throughput, against the real
//! `lonceng-server` binary (release) in its own process, so that its memory is measured alone.
//!
//! Run: `cargo bench -p lonceng-server --bench sse` (prints a Markdown table for docs/PERFORMANCE.md).
//! Goals (issue 3): 10,000 streams at ≤ 15 KB each; one event reaches all of them with p99 ≤ 50 ms.
//!
//! The clients are raw TCP connections speaking just enough HTTP/1.1 to open a stream, so that
//! 10,000 of them fit in this process next to the measurement. Arrival is the kernel's receive
//! timestamp of the bytes (`SO_TIMESTAMPNS`), not the moment a client task got to run: the load
//! generator shares the server's two cores, and its own scheduling delay is not delivery time. All streams belong to one user (a
//! user's devices share one channel), so one producer event is one broadcast to all of them.
//!
//! Linux only: arrival times are the kernel's receive timestamps (`SO_TIMESTAMPNS`).

#[cfg(target_os = "linux")]
#[path = "sse/linux.rs"]
mod linux;

#[cfg(target_os = "linux")]
#[path = "common/raw.rs"]
mod raw;

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the SSE bench runs on Linux: it measures arrival with the kernel's receive timestamps");
}
