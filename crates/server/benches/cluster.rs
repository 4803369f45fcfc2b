//! Scale-out benchmark (issue 14): 10,000 streams over three `lonceng-server` nodes on one
//! PostgreSQL database, beside one node on SQLite and, as the peer, nginx with nchan; all in one run,
//! on this machine, with the raw-TCP clients and kernel receive timestamps of the `sse` bench.
//!
//! Run: `scripts/with-postgres.sh cargo bench -p lonceng-server --bench cluster` (a throwaway
//! PostgreSQL cluster; nginx with `libnginx-mod-nchan` from Debian). Prints a Markdown table for
//! docs/PERFORMANCE.md. `SERVER=<path>` runs another build of `lonceng-server` (a build before a
//! change, run in turn with the new one: this machine's speed drifts between runs).

#[cfg(target_os = "linux")]
#[path = "cluster/linux.rs"]
mod linux;

#[cfg(target_os = "linux")]
#[path = "common/cpu.rs"]
mod cpu;

#[cfg(target_os = "linux")]
#[path = "common/raw.rs"]
mod raw;

#[cfg(target_os = "linux")]
fn main() {
    linux::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the cluster bench runs on Linux: it measures arrival with the kernel's receive timestamps");
}
