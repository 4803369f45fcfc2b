//! Catch-up benchmark: a client that was away while N notifications arrived reconnects; how long
//! until its store holds all of them with correct counts, and how much memory it needed.
//!
//! Run: `cargo bench -p lonceng-e2e --bench catchup`. Goals (issue 4): 10,000 ≤ 1 s, 100,000 ≤ 10 s,
//! memory bounded (the feed is read in pages of 1,000 and each page is applied in one transaction).
//!
//! The server runs in this process on a SQLite file; the client is the `sync-client` binary in its
//! own process with a fresh store file, so its time and peak memory are its own.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use lonceng_client::store::Store;
use lonceng_domain::clock::SystemClock;
use lonceng_e2e::{assignment, mention, server_config, start_server, AGENT};
use lonceng_server::sqlite::SqliteDb;

#[tokio::main]
async fn main() {
    println!("| pending items | connect → caught up (client) | wall, incl. process start | client peak RSS | goal |");
    println!("|---|---|---|---|---|");
    for (n, goal) in [(10_000usize, "≤ 1 s"), (100_000, "≤ 10 s")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = start_server(
            SqliteDb::open(&dir.path().join("server.db")).expect("server db"),
            server_config(),
            Arc::new(SystemClock),
            "127.0.0.1:0".parse().expect("addr"),
        )
        .await;
        let token = server.service.issue_token(AGENT, "bench").await.expect("token");
        let seeded = Instant::now();
        for i in 0..n {
            let key = format!("e{i}");
            let event = if i % 4 == 0 {
                assignment(&key, AGENT, Utc::now())
            } else {
                mention(&key, AGENT, Utc::now())
            };
            server.service.submit(event).await.expect("seeded");
        }
        eprintln!("seeded {n} in {:?}", seeded.elapsed());

        let db = dir.path().join("client.db");
        let wall = Instant::now();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_sync-client"))
            .args(["--server", &server.url(), "--token", &token, "--until-caught-up"])
            .arg("--db")
            .arg(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("sync-client");
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().expect("client ran"))
            .await
            .expect("join");
        let wall = wall.elapsed();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("caught-up")).expect("caught-up line");
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
                .expect("field")
        };
        let store = Store::open(&db).expect("client store");
        assert_eq!(field("items"), n as u64, "every item arrived");
        assert_eq!(store.unread_counts().expect("counts").total(), n as u64, "counts are right");
        assert_eq!(store.unread_counts().expect("counts"), store.recount_unread().expect("recount"));
        println!(
            "| {n} | {} ms | {} ms | {:.1} MB | {goal} |",
            field("elapsed_ms"),
            wall.as_millis(),
            field("peak_rss_kb") as f64 / 1024.0
        );
        server.stop().await;
    }
}
