//! The benchmark itself (Linux: it reads the kernel's receive timestamps); see `../sse.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, Barrier};

use crate::raw::{mention, ms, pct, pss_kib, sse_client, user_token, ADMIN, PRODUCER};

struct ServerProcess {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server() -> ServerProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lonceng-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--producer-token",
            PRODUCER,
            "--admin-token",
            ADMIN,
            "--keep-alive",
            "30",
        ])
        .arg("--db")
        .arg(dir.path().join("bench.db"))
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start lonceng-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("listening on http://").nth(1).map(|a| a.trim().to_owned()))
        .expect("server reports its address");
    // Keep draining the log so that the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    ServerProcess { child, addr, _dir: dir }
}

async fn client_token(http: &reqwest::Client, base: &str) -> String {
    user_token(http, base, "agent").await
}

async fn streams_round(n: usize) -> (f64, Duration, Duration, Duration) {
    let server = spawn_server();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let token = client_token(&http, &base).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = pss_kib(server.child.id());

    let (ready_tx, mut ready_rx) = mpsc::channel(n);
    let (arr_tx, mut arr_rx) = mpsc::unbounded_channel();
    // Connect in waves so that the accept backlog never overflows.
    let mut connected = 0;
    while connected < n {
        let wave = (n - connected).min(500);
        for _ in 0..wave {
            tokio::spawn(sse_client(
                server.addr.clone(),
                "/v1/stream",
                token.clone(),
                ready_tx.clone(),
                arr_tx.clone(),
            ));
        }
        for _ in 0..wave {
            tokio::time::timeout(Duration::from_secs(30), ready_rx.recv()).await.expect("stream opened");
        }
        connected += wave;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = pss_kib(server.child.id());
    let per_conn_kb = (after.saturating_sub(before)) as f64 * 1.024 / n as f64;

    // Three broadcasts; latency from the producer's request to each stream's arrival.
    let mut latencies = Vec::with_capacity(3 * n);
    for round in 0..3 {
        let start = SystemTime::now();
        let resp = http
            .post(format!("{base}/v1/events"))
            .bearer_auth(PRODUCER)
            .json(&mention(format!("b{n}-{round}"), "agent"))
            .send()
            .await;
        assert!(resp.expect("post").status().is_success());
        for _ in 0..n {
            let t = tokio::time::timeout(Duration::from_secs(30), arr_rx.recv())
                .await
                .expect("event arrived")
                .expect("open");
            latencies.push(t.duration_since(start).unwrap_or_default());
        }
    }
    latencies.sort();
    (per_conn_kb, pct(&latencies, 0.5), pct(&latencies, 0.99), *latencies.last().expect("some"))
}

/// Memory per stream when every stream belongs to a different user (each user has a channel).
async fn distinct_users_round(n: usize) -> f64 {
    let server = spawn_server();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        tokens.push(user_token(&http, &base, &format!("agent-{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = pss_kib(server.child.id());
    let (ready_tx, mut ready_rx) = mpsc::channel(n);
    let (arr_tx, _arr_rx) = mpsc::unbounded_channel();
    for wave in tokens.chunks(500) {
        for token in wave {
            tokio::spawn(sse_client(
                server.addr.clone(),
                "/v1/stream",
                token.clone(),
                ready_tx.clone(),
                arr_tx.clone(),
            ));
        }
        for _ in wave {
            tokio::time::timeout(Duration::from_secs(30), ready_rx.recv()).await.expect("stream opened");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    (pss_kib(server.child.id()).saturating_sub(before)) as f64 * 1.024 / n as f64
}

async fn producer_throughput(total: usize, concurrency: usize) -> f64 {
    let server = spawn_server();
    let base = Arc::new(format!("http://{}", server.addr));
    let http = reqwest::Client::new();
    client_token(&http, &base).await;
    let barrier = Arc::new(Barrier::new(concurrency + 1));
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (http, base, barrier) = (http.clone(), base.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            for i in 0..total / concurrency {
                let r = http
                    .post(format!("{base}/v1/events"))
                    .bearer_auth(PRODUCER)
                    .json(&mention(format!("p{w}-{i}"), "agent"))
                    .send()
                    .await;
                assert!(r.expect("post").status().is_success());
            }
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    for t in tasks {
        t.await.expect("producer task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
pub async fn main() {
    println!("| measurement | result | goal |\n|---|---|---|");
    for n in [1_000, 10_000] {
        let (kb, p50, p99, max) = streams_round(n).await;
        println!("| {n} open streams: server memory per stream (PSS delta / n) | {kb:.1} KB | ≤ 15 KB |");
        println!(
            "| {n} open streams: one event to all, p50 / p99 / max | {} / {} / {} | p99 ≤ 50 ms |",
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    let kb = distinct_users_round(10_000).await;
    println!("| 10000 open streams of 10000 different users: memory per stream | {kb:.1} KB | ≤ 15 KB |");
    let rate = producer_throughput(5_000, 8).await;
    println!("| producer events per second (8 concurrent producers, SQLite file, WAL) | {rate:.0} /s | — |");
}
