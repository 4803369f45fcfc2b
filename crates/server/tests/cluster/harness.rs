//! The deployment of docs/DEPLOY.md, in a temp folder: a throwaway PostgreSQL cluster (never the
//! system's; as the `postgres` user when the tests run as root, since PostgreSQL refuses root),
//! server nodes (this crate's real binary) and nginx with `installer/nginx/lonceng.conf`.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use lonceng_domain::protocol::{Change, ChangeBody};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const PRODUCER: &str = "cluster-producer";
pub const ADMIN: &str = "cluster-admin";

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (scripts/test.sh installs it)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("initdb").exists())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let pg = Postgres { dir, bin, port: free_port() };
        run(pg.command("initdb").args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"]).arg(pg.data()));
        pg.up();
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        c.stdin(Stdio::null());
        c
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        run(self
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-o", &opts, "start"]));
    }

    /// A fast shutdown: sessions are ended, as in a restart for maintenance.
    pub fn down(&self) {
        run(self.command("pg_ctl").args(["-w", "-m", "fast", "-D"]).arg(self.data()).arg("stop"));
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["-m", "immediate", "-D"]).arg(self.data()).arg("stop").output();
    }
}

pub struct Node {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// kill -9: no shutdown, no goodbye to its streams.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn logs(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a node on `db` and waits until it answers.
pub async fn node(db: &str, dir: &Path, name: &str) -> Node {
    node_with(db, dir, name, &[], &[]).await
}

/// A node with more arguments and environment (the identity provider's set-up).
pub async fn node_with(db: &str, dir: &Path, name: &str, args: &[String], env: &[(&str, &str)]) -> Node {
    let port = free_port();
    let log = dir.join(format!("{name}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_lonceng-server"))
        .args([
            "--db",
            db,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--keep-alive",
            "1",
            "--log-format",
            "json",
        ])
        .args(["--producer-token", PRODUCER, "--admin-token", ADMIN])
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        // The server logs to standard output.
        .stdout(fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("lonceng-server");
    let node = Node { child, port, log };
    let http = reqwest::Client::new();
    until(&format!("{name} answers"), || async {
        http.get(node.url("/readyz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
    node
}

pub struct Nginx {
    child: Child,
    pub port: u16,
}

impl Nginx {
    /// nginx with the shipped site config, pointed at `nodes`.
    pub async fn start(dir: &Path, nodes: &[&Node]) -> Nginx {
        Nginx::start_on(free_port(), dir, nodes).await
    }

    /// On a port chosen before (the nodes' public address names it).
    pub async fn start_on(port: u16, dir: &Path, nodes: &[&Node]) -> Nginx {
        let site = include_str!("../../../../installer/nginx/lonceng.conf");
        let servers: String = nodes
            .iter()
            .map(|n| format!("    server 127.0.0.1:{} max_fails=1 fail_timeout=5s;\n", n.port))
            .collect();
        let shipped: String = (8081..=8083)
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"))
            .collect();
        assert!(
            site.contains(&shipped) && site.contains("    listen 80;\n"),
            "the shipped config changed: update the test"
        );
        let site = site
            .replace(&shipped, &servers)
            .replace("    listen 80;\n", &format!("    listen 127.0.0.1:{port};\n"));
        let d = dir.join("nginx");
        for t in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            fs::create_dir_all(d.join(t)).unwrap();
        }
        // Run as root, nginx's worker is `nobody`: it must reach its temp folders.
        use std::os::unix::fs::PermissionsExt;
        for p in [dir.to_path_buf(), d.clone()] {
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        for t in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
            fs::set_permissions(d.join(t), fs::Permissions::from_mode(0o777)).unwrap();
        }
        fs::write(d.join("lonceng.conf"), site).unwrap();
        let p = d.display();
        fs::write(
            d.join("nginx.conf"),
            format!(
                "daemon off;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\n\
                 events {{ worker_connections 4096; }}\n\
                 http {{\n access_log off;\n client_body_temp_path {p}/body;\n proxy_temp_path {p}/proxy;\n\
                 fastcgi_temp_path {p}/fastcgi;\n uwsgi_temp_path {p}/uwsgi;\n scgi_temp_path {p}/scgi;\n\
                 include {p}/lonceng.conf;\n}}\n"
            ),
        )
        .unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(&d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(d.join("stderr.log")).unwrap())
            .spawn()
            .expect("nginx (scripts/test.sh installs it)");
        let nginx = Nginx { child, port };
        let http = reqwest::Client::new();
        until("nginx answers", || async {
            http.get(nginx.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success())
        })
        .await;
        nginx
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    /// A graceful stop: killing the master alone would leave its worker behind.
    fn drop(&mut self) {
        // SAFETY: signalling a child this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Waits until `f` holds, checking every 20 ms; fails the test after 30 s.
pub async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that `f` holds throughout `period` (a quiet period: nothing more happens).
pub async fn holds_for<F: std::future::Future<Output = bool>>(
    what: &str,
    period: Duration,
    mut f: impl FnMut() -> F,
) {
    let end = tokio::time::Instant::now() + period;
    loop {
        assert!(f().await, "{what}: it did not hold");
        if tokio::time::Instant::now() >= end {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.expect("an answer");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A client token of `user`'s `device`, issued by `base` (any node: the database is shared).
pub async fn token(base: &str, user: &str, device: &str) -> String {
    let (s, b) = send(
        reqwest::Client::new()
            .post(format!("{base}/v1/admin/tokens"))
            .bearer_auth(ADMIN)
            .json(&json!({"user_id": user, "device_id": device})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["token"].as_str().unwrap().to_owned()
}

/// A mention of `user`, with its idempotency key.
pub fn mention(key: &str, user: &str) -> Value {
    json!({
        "type": "notification", "idempotency_key": key, "kind": "mention",
        "actor": {"id": "u-9", "name": "Budi"}, "recipients": [user],
        "params": {"target": "deal", "object_name": key},
        "url": "https://app.qontak.com/crm/deals/7", "occurred_at": chrono::Utc::now(),
    })
}

pub async fn produce(base: &str, event: &Value) -> (StatusCode, Value) {
    send(reqwest::Client::new().post(format!("{base}/v1/events")).bearer_auth(PRODUCER).json(event)).await
}

/// A desktop's stream, as the sync engine keeps it: reconnects when it ends, from the last id it
/// saw (`Last-Event-ID`), and keeps what arrives.
pub struct Follower {
    pub changes: Arc<Mutex<Vec<Change>>>,
    pub presence: Arc<Mutex<Vec<Value>>>,
    /// Connections made (the first included).
    pub connections: Arc<Mutex<u32>>,
    task: tokio::task::JoinHandle<()>,
}

impl Follower {
    pub fn start(url: String, token: String) -> Follower {
        let changes: Arc<Mutex<Vec<Change>>> = Arc::default();
        let presence: Arc<Mutex<Vec<Value>>> = Arc::default();
        let connections: Arc<Mutex<u32>> = Arc::default();
        let (c, p, n) = (changes.clone(), presence.clone(), connections.clone());
        let task = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut last: Option<i64> = None;
            loop {
                let mut req = http.get(&url).bearer_auth(&token);
                if let Some(id) = last {
                    req = req.header("Last-Event-ID", id.to_string());
                }
                if let Ok(resp) = req.send().await.and_then(|r| r.error_for_status()) {
                    *n.lock().unwrap() += 1;
                    let mut events = resp.bytes_stream().eventsource();
                    while let Some(Ok(e)) = events.next().await {
                        match e.event.as_str() {
                            "change" => {
                                let change: Change = serde_json::from_str(&e.data).expect("a change");
                                last = Some(change.seq);
                                c.lock().unwrap().push(change);
                            }
                            "presence" => {
                                p.lock().unwrap().push(serde_json::from_str(&e.data).expect("presence"))
                            }
                            _ => {}
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Follower { changes, presence, connections, task }
    }

    /// The notifications created, by their `object_name` (the test's key), in arrival order.
    pub fn created(&self) -> Vec<String> {
        self.changes
            .lock()
            .unwrap()
            .iter()
            .filter_map(|c| match &c.body {
                ChangeBody::Created { notification } => {
                    notification.params.get("object_name").and_then(|v| v.as_str()).map(str::to_owned)
                }
                _ => None,
            })
            .collect()
    }

    pub fn seqs(&self) -> Vec<i64> {
        self.changes.lock().unwrap().iter().map(|c| c.seq).collect()
    }

    pub fn connections(&self) -> u32 {
        *self.connections.lock().unwrap()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Open streams on a node, from its `/metrics`.
pub async fn open_streams(node: &Node) -> u64 {
    let Ok(resp) = reqwest::get(node.url("/metrics")).await else { return 0 };
    let text = resp.text().await.unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("lonceng_streams_open "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
