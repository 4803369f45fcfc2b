//! The benchmark itself; see `../cluster.rs`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, Barrier};

use crate::cpu::cpu;
use crate::raw::{mention, ms, pct, pss_kib, sse_client, user_token, ADMIN, PRODUCER};

const STREAMS: usize = 10_000;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

struct Proc {
    child: Child,
    addr: String,
}

impl Drop for Proc {
    /// SIGTERM: nginx's master stops its worker with it (killed, it would leave the worker behind,
    /// holding the bench's output open).
    fn drop(&mut self) {
        // SAFETY: signalling a child this bench started and has not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

async fn wait_ready(url: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "{url} does not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn node(db: &str) -> Proc {
    let addr = format!("127.0.0.1:{}", free_port());
    // `SERVER=<a build before>` runs another build of the server, for a before/after comparison.
    let server = std::env::var_os("SERVER").unwrap_or_else(|| env!("CARGO_BIN_EXE_lonceng-server").into());
    let child = Command::new(server)
        .args(["--db", db, "--listen", &addr, "--producer-token", PRODUCER, "--admin-token", ADMIN])
        .args(["--keep-alive", "30"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lonceng-server");
    let p = Proc { child, addr };
    wait_ready(&format!("http://{}/readyz", p.addr)).await;
    p
}

async fn token(base: &str, user: &str) -> String {
    user_token(&reqwest::Client::new(), base, user).await
}

async fn post(http: &reqwest::Client, addr: &str, key: String, to: &str) {
    let r = http
        .post(format!("http://{addr}/v1/events"))
        .bearer_auth(PRODUCER)
        .json(&mention(key, to))
        .send()
        .await;
    assert!(r.expect("post").status().is_success());
}

/// CPU time of every process named `name` (PostgreSQL's backends, say).
pub fn cpu_named(name: &str) -> Duration {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Duration::ZERO };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name))
        .map(cpu)
        .sum()
}

struct Figures {
    accept: Duration,
    kb_per_stream: f64,
    p50: Duration,
    p99: Duration,
    single_p50: Duration,
    single_p99: Duration,
    rate: f64,
    /// CPU time per producer event: the nodes', and PostgreSQL's processes' (microseconds).
    server_us: f64,
    database_us: f64,
}

/// Producer events per second: 8 concurrent producers per node, each event to one of 100 users.
async fn throughput(addrs: &[String], total: usize) -> f64 {
    let http = reqwest::Client::new();
    let producers = 8 * addrs.len();
    let barrier = Arc::new(Barrier::new(producers + 1));
    let mut tasks = Vec::new();
    for w in 0..producers {
        let (http, addr, barrier) = (http.clone(), addrs[w % addrs.len()].clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            for i in 0..total / producers {
                post(&http, &addr, format!("p{w}-{i}"), &format!("u-{}", (w * 31 + i) % 100)).await;
            }
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    for t in tasks {
        t.await.expect("producer");
    }
    (total / producers * producers) as f64 / start.elapsed().as_secs_f64()
}

/// One user's event posted to the first node, received on the last node's stream (the same node
/// when there is one): 200 in a row, each waited for.
async fn single_user(addrs: &[String]) -> (Duration, Duration) {
    let http = reqwest::Client::new();
    let base = format!("http://{}", addrs[0]);
    let tok = token(&base, "solo").await;
    let (ready_tx, mut ready_rx) = mpsc::channel(1);
    let (arr_tx, mut arr_rx) = mpsc::unbounded_channel();
    let stream =
        tokio::spawn(sse_client(addrs[addrs.len() - 1].clone(), "/v1/stream", tok, ready_tx, arr_tx));
    ready_rx.recv().await.expect("stream opened");
    let mut lat = Vec::new();
    for i in 0..200 {
        let start = SystemTime::now();
        post(&http, &addrs[0], format!("solo-{i}"), "solo").await;
        let at = tokio::time::timeout(Duration::from_secs(10), arr_rx.recv())
            .await
            .expect("arrived")
            .expect("open");
        lat.push(at.duration_since(start).unwrap_or_default());
    }
    stream.abort();
    lat.sort();
    (pct(&lat, 0.5), pct(&lat, 0.99))
}

/// Opens `n` streams at once, spread over `addrs` (`path` on each); returns the time until every
/// one has its headers, and the arrivals channel.
async fn open_all(
    addrs: &[String],
    path: &'static str,
    tok: &str,
    n: usize,
) -> (Duration, mpsc::UnboundedReceiver<SystemTime>) {
    let (ready_tx, mut ready_rx) = mpsc::channel(n);
    let (arr_tx, arr_rx) = mpsc::unbounded_channel();
    let start = Instant::now();
    for i in 0..n {
        tokio::spawn(sse_client(
            addrs[i % addrs.len()].clone(),
            path,
            tok.to_owned(),
            ready_tx.clone(),
            arr_tx.clone(),
        ));
    }
    for _ in 0..n {
        tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await.expect("every stream opens");
    }
    (start.elapsed(), arr_rx)
}

/// Three broadcasts (one event to every stream); latency from the request to each arrival.
async fn broadcasts(
    n: usize,
    arr: &mut mpsc::UnboundedReceiver<SystemTime>,
    mut publish: impl AsyncFnMut(usize),
) -> (Duration, Duration) {
    let mut lat = Vec::with_capacity(3 * n);
    for round in 0..3 {
        let start = SystemTime::now();
        publish(round).await;
        for _ in 0..n {
            let at = tokio::time::timeout(Duration::from_secs(60), arr.recv())
                .await
                .expect("arrived")
                .expect("open");
            lat.push(at.duration_since(start).unwrap_or_default());
        }
    }
    lat.sort();
    (pct(&lat, 0.5), pct(&lat, 0.99))
}

fn pss_total(procs: &[&Proc]) -> u64 {
    procs.iter().map(|p| pss_kib(p.child.id())).sum()
}

async fn lonceng(procs: &[&Proc]) -> Figures {
    let addrs: Vec<String> = procs.iter().map(|p| p.addr.clone()).collect();
    // Enough for several seconds at these rates: a shorter run swung by a third between runs.
    const EVENTS: usize = 24_000;
    let nodes = || procs.iter().map(|p| cpu(p.child.id())).sum::<Duration>();
    let (server0, db0) = (nodes(), cpu_named("postgres"));
    let rate = throughput(&addrs, EVENTS).await;
    let per_event = |d: Duration| d.as_secs_f64() * 1e6 / EVENTS as f64;
    let server_us = per_event(nodes().saturating_sub(server0));
    let database_us = per_event(cpu_named("postgres").saturating_sub(db0));
    let (single_p50, single_p99) = single_user(&addrs).await;
    let tok = token(&format!("http://{}", addrs[0]), "agent").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = pss_total(procs);
    let (accept, mut arr) = open_all(&addrs, "/v1/stream", &tok, STREAMS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kb_per_stream = pss_total(procs).saturating_sub(before) as f64 * 1.024 / STREAMS as f64;
    let http = reqwest::Client::new();
    let first = addrs[0].clone();
    let (p50, p99) =
        broadcasts(STREAMS, &mut arr, async |round| post(&http, &first, format!("b-{round}"), "agent").await)
            .await;
    Figures { accept, kb_per_stream, p50, p99, single_p50, single_p99, rate, server_us, database_us }
}

/// nginx with nchan: one channel, EventSource subscribers, an HTTP publisher.
struct Nchan {
    proc: Proc,
    _dir: tempfile::TempDir,
}

async fn nchan() -> Nchan {
    let dir = tempfile::tempdir().expect("temp");
    let port = free_port();
    let p = dir.path().display();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n\
             daemon off;\nworker_processes 1;\nworker_rlimit_nofile 30000;\npid {p}/nginx.pid;\nerror_log {p}/error.log error;\n\
             events {{ worker_connections 25000; }}\n\
             http {{\n access_log off;\n client_body_temp_path {p}; proxy_temp_path {p}; fastcgi_temp_path {p}; uwsgi_temp_path {p}; scgi_temp_path {p};\n\
             server {{\n  listen 127.0.0.1:{port} backlog=4096;\n\
               location = /sub {{ nchan_subscriber eventsource; nchan_channel_id agent; nchan_eventsource_event change; }}\n\
               location = /pub {{ nchan_publisher; nchan_channel_id agent; }}\n\
               location = /ok {{ return 200; }}\n }}\n}}\n"
        ),
    )
    .expect("nginx.conf");
    let child = Command::new("nginx")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdin(Stdio::null())
        .spawn()
        .expect("nginx with libnginx-mod-nchan");
    let proc = Proc { child, addr: format!("127.0.0.1:{port}") };
    wait_ready(&format!("http://{}/ok", proc.addr)).await;
    Nchan { proc, _dir: dir }
}

/// nginx's master and its worker.
fn nginx_pss(master: u32) -> u64 {
    let children =
        std::fs::read_to_string(format!("/proc/{master}/task/{master}/children")).unwrap_or_default();
    pss_kib(master) + children.split_whitespace().filter_map(|p| p.parse().ok()).map(pss_kib).sum::<u64>()
}

fn row(what: &str, values: [String; 3]) {
    println!("| {what} | {} | {} | {} |", values[0], values[1], values[2]);
}

#[tokio::main]
pub async fn main() {
    let pg = std::env::var("LONCENG_TEST_POSTGRES")
        .expect("a PostgreSQL server: run with scripts/with-postgres.sh (see benches/cluster.rs)");

    let dir = tempfile::tempdir().expect("temp");
    let sqlite = node(dir.path().join("bench.db").to_str().expect("path")).await;
    let one = lonceng(&[&sqlite]).await;
    drop(sqlite);

    let (client, conn) = tokio_postgres::connect(&pg, tokio_postgres::NoTls).await.expect("PostgreSQL");
    tokio::spawn(conn);
    // Two statements: neither runs inside a transaction block.
    client.batch_execute("DROP DATABASE IF EXISTS lonceng_bench").await.expect("old database dropped");
    client.batch_execute("CREATE DATABASE lonceng_bench").await.expect("database");
    let mut url = url::Url::parse(&pg).expect("URL");
    url.set_path("lonceng_bench");
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(node(url.as_str()).await);
    }
    let three = lonceng(&nodes.iter().collect::<Vec<_>>()).await;
    drop(nodes);

    let peer = nchan().await;
    let master = peer.proc.child.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = nginx_pss(master);
    let addrs = [peer.proc.addr.clone()];
    let (accept, mut arr) = open_all(&addrs, "/sub", "-", STREAMS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let nchan_kb = nginx_pss(master).saturating_sub(before) as f64 * 1.024 / STREAMS as f64;
    let http = reqwest::Client::new();
    let publish = format!("http://{}/pub", peer.proc.addr);
    let (n50, n99) = broadcasts(STREAMS, &mut arr, async |round| {
        let r = http.post(&publish).body(format!("{{\"round\":{round}}}")).send().await;
        assert!(r.expect("publish").status().is_success());
    })
    .await;

    println!("| 10,000 streams | one node, SQLite | three nodes, PostgreSQL | nginx + nchan (peer) |\n|---|---|---|---|");
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    row("time to accept all 10,000 (opened at once)", [s(one.accept), s(three.accept), s(accept)]);
    let kb = |v: f64| format!("{v:.1} KB");
    row(
        "memory per stream (PSS delta / n, all processes)",
        [kb(one.kb_per_stream), kb(three.kb_per_stream), kb(nchan_kb)],
    );
    let pair = |a: Duration, b: Duration| format!("{} / {}", ms(a), ms(b));
    row("one event to all, p50 / p99", [pair(one.p50, one.p99), pair(three.p50, three.p99), pair(n50, n99)]);
    row(
        "one user's event, posted to the first node, at a stream on the last, p50 / p99",
        [pair(one.single_p50, one.single_p99), pair(three.single_p50, three.single_p99), "—".into()],
    );
    row(
        "producer events per second (8 producers per node)",
        [format!("{:.0} /s", one.rate), format!("{:.0} /s", three.rate), "—".into()],
    );
    let us = |v: f64| format!("{v:.0} µs");
    row("… CPU per event: the nodes' processes", [us(one.server_us), us(three.server_us), "—".into()]);
    row(
        "… CPU per event: PostgreSQL's processes (SQLite works inside the node)",
        ["—".into(), us(three.database_us), "—".into()],
    );
    let ratio = |a: f64, b: f64| format!("{:.1}×", a / b);
    println!(
        "\nRatios to nchan, one SQLite node: accept {}, memory per stream {}, broadcast p99 {}.",
        ratio(one.accept.as_secs_f64(), accept.as_secs_f64()),
        ratio(one.kb_per_stream, nchan_kb),
        ratio(one.p99.as_secs_f64(), n99.as_secs_f64()),
    );
}
