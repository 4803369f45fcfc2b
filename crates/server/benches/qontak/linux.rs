//! The benchmark itself; see `../qontak.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lonceng_domain::clock::SystemClock;
use lonceng_server::crm_standin::{Gateway, StandIn};

use crate::cpu::cpu;

const PRODUCER: &str = "bench-producer";
const ADMIN: &str = "bench-admin";
const AGENTS: usize = 100;
const WEBHOOKS: usize = 10_000;
const CONCURRENCY: usize = 8;
const CRM_AGENTS: usize = 1_000;

struct ServerProcess {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(extra: &[&str], env: &[(&str, &str)]) -> ServerProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lonceng-server"))
        .args(["--listen", "127.0.0.1:0", "--producer-token", PRODUCER, "--admin-token", ADMIN, "--db"])
        .arg(dir.path().join("bench.db"))
        .args(extra)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("lonceng-server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("the server logs its address").expect("a log line");
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    // Keep draining the log so that the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    ServerProcess { child, base, _dir: dir }
}

async fn admin(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let resp = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .expect("admin call");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(serde_json::Value::Null)
}

/// `n` users `u-i`, linked to agent `qa-i` and SSO id `sso-i`.
async fn link(http: &reqwest::Client, base: &str, n: usize) {
    for i in 0..n {
        admin(
            http,
            base,
            reqwest::Method::POST,
            "/v1/admin/users",
            serde_json::json!({"id": format!("u-{i}"), "name": format!("Agent {i}")}),
        )
        .await;
        let link = serde_json::json!({"agent_id": format!("qa-{i}"), "crm_sso_id": format!("sso-{i}")});
        admin(http, base, reqwest::Method::PUT, &format!("/v1/admin/users/u-{i}/qontak"), link).await;
    }
}

/// Posts `bodies` to `url` from [`CONCURRENCY`] clients; returns the rate per second.
async fn blast(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    bodies: Vec<serde_json::Value>,
) -> f64 {
    let n = bodies.len();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, url, queue, token) =
                (http.clone(), url.to_owned(), queue.clone(), token.map(str::to_owned));
            tokio::spawn(async move {
                loop {
                    let Some(body) = queue.lock().unwrap().pop() else { return };
                    let mut req = http.post(&url).json(&body);
                    if let Some(t) = &token {
                        req = req.bearer_auth(t);
                    }
                    let status = req.send().await.expect("post").status();
                    assert!(status.is_success(), "{url}: {status}");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn room(i: usize, run: &str, at: &str) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{run}-room-{i}"), "name": "Andi", "status": "assigned", "channel": "wa_cloud",
        "agent_ids": [format!("qa-{}", i % AGENTS)], "updated_at": at, "data_event": "add_agent",
        "last_message": {"text": "Halo kak", "raw_message": {"padding": "x".repeat(600)}}
    })
}

async fn webhooks() {
    let server = spawn_server(&[], &[]);
    let http = reqwest::Client::new();
    let base = server.base.clone();
    link(&http, &base, AGENTS).await;
    let secret =
        admin(&http, &base, reqwest::Method::POST, "/v1/admin/qontak/webhook-secrets", serde_json::json!({}))
            .await;
    let hook = format!("{base}{}", secret["path"].as_str().expect("path"));

    // One stream per agent, drained as a desktop would.
    let received = Arc::new(AtomicU64::new(0));
    for i in 0..AGENTS {
        let token = admin(
            &http,
            &base,
            reqwest::Method::POST,
            "/v1/admin/tokens",
            serde_json::json!({"user_id": format!("u-{i}"), "device_id": "d"}),
        )
        .await;
        let token = token["token"].as_str().expect("token").to_owned();
        let resp = http.get(format!("{base}/v1/stream")).bearer_auth(token).send().await.expect("stream");
        let received = received.clone();
        tokio::spawn(async move {
            let mut body = resp.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                let events = chunk.windows(13).filter(|w| w == b"event: change").count() as u64;
                received.fetch_add(events, Ordering::Relaxed);
            }
        });
    }
    let at = chrono::Utc::now().to_rfc3339();

    let pid = server.child.id();
    let rooms: Vec<_> = (0..WEBHOOKS).map(|i| room(i, "a", &at)).collect();
    let cpu0 = cpu(pid);
    let room_rate = blast(&http, &hook, None, rooms).await;
    let room_cpu = (cpu(pid) - cpu0).as_secs_f64() * 1e6 / WEBHOOKS as f64;
    if std::env::var_os("LONCENG_BENCH_ROOMS_ONLY").is_some() {
        // For a profiler: only the room webhooks (`perf record -p <server pid>` while they run).
        return println!("| room webhooks | {room_rate:.0} /s; {room_cpu:.0} µs | |");
    }
    let peer: Vec<_> = (0..WEBHOOKS)
        .map(|i| {
            serde_json::json!({"type": "notification", "idempotency_key": format!("peer-{i}"), "kind": "conversation_assigned",
                "actor": {"id": "system", "name": "Qontak"}, "recipients": [format!("u-{}", i % AGENTS)],
                "params": {"contact_name": "Andi", "channel": "whatsapp"},
                "url": format!("https://chat.qontak.com/inbox/peer-{i}"), "occurred_at": at})
        })
        .collect();
    let cpu0 = cpu(pid);
    let peer_rate = blast(&http, &format!("{base}/v1/events"), Some(PRODUCER), peer).await;
    let peer_cpu = (cpu(pid) - cpu0).as_secs_f64() * 1e6 / WEBHOOKS as f64;
    let messages: Vec<_> = (0..WEBHOOKS)
        .map(|i| {
            serde_json::json!({"webhook_event": "message_interaction", "data_event": "receive_message_from_customer",
                "id": format!("m-{i}"), "room_id": format!("a-room-{}", i % WEBHOOKS), "is_agent": false,
                "text": "Halo kak, pesanan saya sudah dikirim belum?", "created_at": at,
                "room": {"channel": "wa_cloud"}, "sender": {"name": "Andi", "participant_type": "customer"}})
        })
        .collect();
    let cpu0 = cpu(pid);
    let message_rate = blast(&http, &hook, None, messages).await;
    let message_cpu = (cpu(pid) - cpu0).as_secs_f64() * 1e6 / WEBHOOKS as f64;
    let expected = (3 * WEBHOOKS) as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = received.load(Ordering::Relaxed);
    println!("| room webhooks per second ({CONCURRENCY} concurrent senders, SQLite file, {AGENTS} streams open); server CPU each | {room_rate:.0} /s; {room_cpu:.0} µs | ≥ 2,000 /s |");
    println!("| … peer in the same run: producer events of the same kind (`POST /v1/events`) | {peer_rate:.0} /s; {peer_cpu:.0} µs | — |");
    println!("| customer-message webhooks per second (chat toasts, NC-R4) | {message_rate:.0} /s; {message_cpu:.0} µs | — |");
    println!("| changes delivered to the streams | {delivered} of {expected} | all |");
}

async fn crm_polling() {
    let gateway = Gateway::new("bench", "bench-secret", Arc::new(SystemClock));
    for i in 0..CRM_AGENTS {
        let sso = format!("sso-{i}");
        gateway.add_user(&sso);
        for n in 0..5 {
            gateway.notify(&sso, 1, 2, "deal", &format!("Budi mentioned you in deal {n}"));
        }
    }
    let standin = StandIn::start(gateway.clone()).await.expect("stand-in");
    let poll = 10u64;
    let secret_file = tempfile::NamedTempFile::new().expect("secret file");
    std::fs::write(secret_file.path(), "bench-secret").expect("secret");
    let server = spawn_server(
        &[
            "--crm-base-url",
            &standin.url(),
            "--crm-client-id",
            "bench",
            "--crm-poll-seconds",
            &poll.to_string(),
            "--crm-budget",
            "100000",
        ],
        &[("LONCENG_CRM_CLIENT_SECRET_FILE", secret_file.path().to_str().expect("path"))],
    );
    let http = reqwest::Client::new();
    link(&http, &server.base, CRM_AGENTS).await;
    // The first round brings 5,000 items in; measure the rounds after it, in the steady state.
    let warmup = Instant::now() + Duration::from_secs(2 * poll);
    while Instant::now() < warmup {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pid = server.child.id();
    let (calls0, cpu0, t0) = (gateway.calls().len(), cpu(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(3 * poll)).await;
    let (calls, cpu_used, elapsed) = (gateway.calls().len() - calls0, cpu(pid) - cpu0, t0.elapsed());
    let per_minute = calls as f64 * 60.0 / elapsed.as_secs_f64();
    let per_request = cpu_used.as_secs_f64() * 1000.0 / calls.max(1) as f64;
    println!(
        "| CRM bridge, {CRM_AGENTS} linked agents polled every {poll} s: requests per minute | {per_minute:.0} /min | ≤ the budget |"
    );
    println!("| … server CPU per CRM request (poll of one page of 5 items, steady state) | {per_request:.2} ms | — |");
    println!(
        "| … so 1,000 agents every 60 s: {:.0} requests/min, {:.2} s of CPU per minute ({:.1} % of one core) | | — |",
        CRM_AGENTS as f64,
        per_request * CRM_AGENTS as f64 / 1000.0,
        per_request * CRM_AGENTS as f64 / 600.0
    );
    standin.stop();
}

pub fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!("| measurement | result | goal |\n|---|---|---|");
    rt.block_on(webhooks());
    if std::env::var_os("LONCENG_BENCH_ROOMS_ONLY").is_none() {
        rt.block_on(crm_polling());
    }
}
