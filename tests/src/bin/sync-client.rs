//! A headless Lonceng sync client: keeps a local store in step with a Lonceng server. The fault
//! tests kill it mid-catch-up; the catch-up benchmark times it and reads its peak memory.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use lonceng_client::store::Store;
use lonceng_client::sync::lonceng::LoncengSource;
use lonceng_client::sync::{ConnState, SyncEvent};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    server: String,
    #[arg(long)]
    token: String,
    #[arg(long)]
    db: std::path::PathBuf,
    /// Exit once connected with everything caught up, printing the item count and time taken.
    #[arg(long)]
    until_caught_up: bool,
}

/// The process's peak resident set (Linux), for the catch-up benchmark.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let store = Store::open(&args.db).with_context(|| format!("opening {}", args.db.display()))?;
    let store = Arc::new(Mutex::new(store));
    let source = LoncengSource::new(&args.server, &args.token).context("creating the source")?;
    let (engine, mut handle, mut events) = lonceng_e2e::real_engine(source, store.clone());
    let shutdown = CancellationToken::new();
    tokio::spawn(engine.run(shutdown.clone()));
    let count =
        |store: &Arc<Mutex<Store>>| store.lock().unwrap_or_else(|p| p.into_inner()).len().unwrap_or(0);
    loop {
        tokio::select! {
            e = events.recv() => match e {
                Some(SyncEvent::StoreChanged) => println!("progress items={}", count(&store)),
                Some(_) => {}
                None => break,
            },
            changed = handle.status.changed() => {
                if changed.is_err() {
                    break;
                }
                let state = handle.status.borrow().state.clone();
                println!("status {}", serde_json::to_string(&state).unwrap_or_default());
                let connected = matches!(state, ConnState::Connected { .. });
                if connected && args.until_caught_up {
                    println!(
                        "caught-up items={} elapsed_ms={} peak_rss_kb={}",
                        count(&store),
                        started.elapsed().as_millis(),
                        peak_rss_kb()
                    );
                    shutdown.cancel();
                    return Ok(());
                }
            }
        }
    }
    // The engine runs until it is told to stop; ending on its own is a failure a supervisor must see.
    anyhow::bail!("the sync engine stopped")
}
