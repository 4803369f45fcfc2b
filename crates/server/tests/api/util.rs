//! What every topic of the API suite shares: the real server on port 0 with a manual clock, an
//! HTTP client that speaks its JSON, an SSE client, and producer events as JSON.
//!
//! The suite is one story for both backends (atuin's model): on SQLite by default, and on
//! PostgreSQL when `LONCENG_TEST_POSTGRES` names a server (a URL of a database the tests may create
//! databases from), each test on a fresh database of its own. `scripts/test.sh` runs it both ways.

pub use std::sync::Arc;
pub use std::time::Duration as StdDuration;

pub use chrono::{DateTime, Duration, Utc};
pub use eventsource_stream::{Event as SseEvent, Eventsource};
pub use futures_util::{Stream, StreamExt};
pub use lonceng_domain::clock::{Clock, ManualClock};
pub use lonceng_domain::protocol::{
    Change, ChangeBody, ChangesPage, Counts, MaintenanceStatus, NotificationsPage,
};
pub use lonceng_server::backend::Backend;
pub use lonceng_server::postgres::PgDb;
pub use lonceng_server::{start, Config, Running};
pub use reqwest::StatusCode;
pub use serde_json::{json, Value};

pub const PRODUCER: &str = "producer-secret";
pub const ADMIN: &str = "admin-secret";

pub fn t0() -> DateTime<Utc> {
    "2026-01-20T01:00:00Z".parse().unwrap()
}

pub struct Server {
    pub running: Running<Backend>,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
}

pub fn config() -> Config {
    let mut c = Config::new(PRODUCER, ADMIN);
    // Ticks are driven by the tests (after moving the clock), not by wall time.
    c.tick = StdDuration::from_secs(3600);
    c.keep_alive = StdDuration::from_secs(1);
    c
}

pub async fn server() -> Server {
    server_with(fresh_db().await, config(), Arc::new(ManualClock::new(t0()))).await
}

/// The PostgreSQL server the suite runs against, if any.
pub fn postgres() -> Option<String> {
    std::env::var("LONCENG_TEST_POSTGRES").ok().filter(|u| !u.is_empty())
}

/// A database that outlives a server, for restarts: a file, or a PostgreSQL database.
pub enum Durable {
    File(tempfile::TempDir),
    Postgres(String),
}

impl Durable {
    pub async fn new() -> Durable {
        match postgres() {
            Some(base) => Durable::Postgres(new_pg_database(&base).await),
            None => Durable::File(tempfile::tempdir().unwrap()),
        }
    }

    pub async fn open(&self) -> Backend {
        match self {
            Durable::File(dir) => {
                Backend::open(dir.path().join("server.db").to_str().unwrap()).await.unwrap()
            }
            Durable::Postgres(url) => Backend::open(url).await.unwrap(),
        }
    }
}

/// A test's own empty database.
pub async fn fresh_db() -> Backend {
    match postgres() {
        Some(base) => Backend::Postgres(PgDb::connect(&new_pg_database(&base).await).await.unwrap()),
        None => Backend::in_memory().unwrap(),
    }
}

/// Creates an empty database on the PostgreSQL server of `base`; returns its URL.
pub async fn new_pg_database(base: &str) -> String {
    let (client, conn) =
        tokio_postgres::connect(base, tokio_postgres::NoTls).await.expect("PostgreSQL for the tests");
    tokio::spawn(conn);
    let name = format!("t_{}", &lonceng_server::new_secret()[..20]);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let mut url = url::Url::parse(base).unwrap();
    url.set_path(&name);
    url.to_string()
}

pub async fn server_with(db: Backend, config: Config, clock: Arc<ManualClock>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = start(db, config, clock.clone(), listener).await.unwrap();
    Server { running, clock, http: reqwest::Client::new() }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, body)
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(token)).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn token(&self, user: &str, device: &str) -> String {
        let (s, b) =
            self.post(ADMIN, "/v1/admin/tokens", json!({"user_id": user, "device_id": device})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["token"].as_str().unwrap().to_owned()
    }

    pub async fn produce(&self, event: Value) -> (StatusCode, Value) {
        self.post(PRODUCER, "/v1/events", event).await
    }

    /// Posts an event that must create exactly one notification; returns its id.
    pub async fn notify(&self, event: Value) -> String {
        let (s, b) = self.produce(event).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["created"].as_array().unwrap().len(), 1, "{b}");
        b["created"][0]["id"].as_str().unwrap().to_owned()
    }

    pub async fn list(&self, token: &str, query: &str) -> NotificationsPage {
        let (s, b) = self.get(token, &format!("/v1/notifications?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        serde_json::from_value(b).unwrap()
    }

    pub async fn counts(&self, token: &str) -> Counts {
        serde_json::from_value(self.get(token, "/v1/counts").await.1).unwrap()
    }

    pub async fn changes(&self, token: &str, since: i64) -> ChangesPage {
        let (s, b) = self.get(token, &format!("/v1/changes?since={since}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        serde_json::from_value(b).unwrap()
    }

    pub async fn stream(
        &self,
        token: &str,
        last_event_id: Option<i64>,
    ) -> impl Stream<Item = SseEvent> + Unpin {
        let mut req = self.http.get(self.url("/v1/stream")).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        Box::pin(resp.bytes_stream().eventsource().map(|e| e.expect("SSE parses")))
    }

    pub async fn tick(&self) {
        self.running.service.tick().await.unwrap();
    }
}

/// Waits until `f` holds (what the background tasks do is watched, not slept on); a hang guard
/// fails the test after 15 s.
pub async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(15);
    while !f().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// Asserts that `f` holds throughout `period` (nothing more happens), checking as it goes.
pub async fn holds_for<F: std::future::Future<Output = bool>>(
    what: &str,
    period: StdDuration,
    mut f: impl FnMut() -> F,
) {
    let end = tokio::time::Instant::now() + period;
    loop {
        assert!(f().await, "{what}: it happened");
        if tokio::time::Instant::now() >= end {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// The next event of a given type, within a generous hang guard.
pub async fn next_of(stream: &mut (impl Stream<Item = SseEvent> + Unpin), kind: &str) -> SseEvent {
    tokio::time::timeout(StdDuration::from_secs(10), async {
        loop {
            let e = stream.next().await.expect("stream ended");
            if e.event == kind {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no '{kind}' event"))
}

pub async fn next_change(stream: &mut (impl Stream<Item = SseEvent> + Unpin)) -> Change {
    let e = next_of(stream, "change").await;
    let change: Change = serde_json::from_str(&e.data).unwrap();
    assert_eq!(e.id, change.seq.to_string(), "the SSE id is the change's sequence number");
    change
}

pub fn event(
    key: &str,
    kind: &str,
    recipients: &[&str],
    actor: Option<(&str, &str)>,
    params: Value,
) -> Value {
    json!({
        "type": "notification",
        "idempotency_key": key,
        "kind": kind,
        "actor": actor.map(|(id, name)| json!({"id": id, "name": name})),
        "recipients": recipients,
        "params": params,
        "url": "https://app.qontak.com/crm/deals/7",
        "occurred_at": t0(),
    })
}

pub fn mention(key: &str, to: &str) -> Value {
    event(key, "mention", &[to], Some(("u-9", "Budi")), json!({"target": "deal", "object_name": "PT Maju"}))
}

/// An Inbox item: Agus blocked a contact.
pub fn blocked(key: &str, to: &str) -> Value {
    event(key, "contact_blocked", &[to], Some(("u-2", "Agus")), json!({"contact_name": "Andi"}))
}

pub fn chat(event_id: &str, to: &str) -> Value {
    json!({
        "type": "chat_message", "event_id": event_id, "conversation_id": "room-1", "channel": "whatsapp",
        "sender_name": "Siti", "preview": "Halo", "recipient_id": to,
        "url": "https://chat.qontak.com/inbox/room-1", "received_at": t0()
    })
}

pub fn created_ids(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Created { notification } => Some(notification.id.clone()),
            _ => None,
        })
        .collect()
}

/// Text as a query string's value.
pub fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
