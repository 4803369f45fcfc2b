//! The benchmark itself (Linux: it reads the kernel's receive timestamps); see `../sse.rs`.

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Barrier};

const PRODUCER: &str = "bench-producer";
const ADMIN: &str = "bench-admin";

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

/// Proportional set size of a process in KiB.
fn pss_kib(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).expect("smaps_rollup");
    text.lines()
        .find(|l| l.starts_with("Pss:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("Pss line")
}

async fn client_token(http: &reqwest::Client, base: &str) -> String {
    user_token(http, base, "agent").await
}

async fn user_token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let resp: serde_json::Value = http
        .post(format!("{base}/v1/admin/tokens"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"user_id": user, "device_id": "bench"}))
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    resp["token"].as_str().expect("token").to_owned()
}

fn event(key: String) -> serde_json::Value {
    serde_json::json!({
        "type": "notification", "idempotency_key": key, "kind": "mention",
        "actor": {"id": "u-2", "name": "Budi"}, "recipients": ["agent"],
        "params": {"target": "deal", "object_name": "PT Maju"},
        "url": "https://app.qontak.com/crm/deals/1", "occurred_at": chrono::Utc::now()
    })
}

/// Opens a stream; reports when its headers arrive, then the kernel receive time of every chunk that
/// carries `event: change`.
async fn sse_client(
    addr: String,
    token: String,
    ready: mpsc::Sender<()>,
    arrivals: mpsc::UnboundedSender<SystemTime>,
) {
    let Ok(mut sock) = TcpStream::connect(&addr).await else { return };
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a c_int option value.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            &on as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    let req = format!(
        "GET /v1/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    if sock.write_all(req.as_bytes()).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 4096];
    let mut announced = false;
    loop {
        if sock.readable().await.is_err() {
            return;
        }
        let (n, at) =
            match sock.try_io(Interest::READABLE, || recv_with_timestamp(sock.as_raw_fd(), &mut buf)) {
                Ok((0, _)) => return,
                Ok(r) => r,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            };
        let chunk = &buf[..n];
        if !announced && chunk.windows(4).any(|w| w == b"\r\n\r\n") {
            announced = true;
            let _ = ready.send(()).await;
        }
        if chunk.windows(13).any(|w| w == b"event: change") {
            let _ = arrivals.send(at.unwrap_or_else(SystemTime::now));
        }
    }
}

/// `recvmsg` with the kernel's receive timestamp of the data, when it reports one.
fn recv_with_timestamp(fd: i32, buf: &mut [u8]) -> std::io::Result<(usize, Option<SystemTime>)> {
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr() as *mut libc::c_void, iov_len: buf.len() };
    let mut control = [0u8; 128];
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = control.len();
    // SAFETY: fd is an open socket; msg points at live buffers.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut at = None;
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::timespec);
                at = Some(UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, at))
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
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
            tokio::spawn(sse_client(server.addr.clone(), token.clone(), ready_tx.clone(), arr_tx.clone()));
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
            .json(&event(format!("b{n}-{round}")))
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
            tokio::spawn(sse_client(server.addr.clone(), token.clone(), ready_tx.clone(), arr_tx.clone()));
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
                    .json(&event(format!("p{w}-{i}")))
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
