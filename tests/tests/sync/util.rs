//! What every topic of the sync suite shares: clients on a manual clock, producers, the server's
//! own counts, and what the engine reported.

pub use std::collections::{BTreeMap, HashSet};
pub use std::net::SocketAddr;
pub use std::sync::atomic::{AtomicU64, Ordering};
pub use std::sync::{Arc, Mutex};
pub use std::time::Duration;

pub use chrono::{DateTime, Utc};
pub use lonceng_client::store::{Scope, Store, UNDO_WINDOW};
pub use lonceng_client::sync::crm_source::CrmSource;
pub use lonceng_client::sync::lonceng::LoncengSource;
pub use lonceng_client::sync::{ConnState, Source, SyncConfig, SyncEvent};
pub use lonceng_domain::clock::{Clock, FastForward, ManualClock, Sleeper, TokioSleeper};
pub use lonceng_domain::crm::Credentials;
pub use lonceng_domain::model::{Category, Tab};
pub use lonceng_e2e::*;
pub use lonceng_server::sqlite::SqliteDb;
pub use lonceng_server::Running;

pub const WAIT: Duration = Duration::from_secs(20);

pub fn t0() -> DateTime<Utc> {
    "2026-01-20T01:00:00Z".parse().unwrap()
}

/// A sync client of `server` with a fresh store, on the shared `clock`; `sleeper` decides how waiting
/// passes (real time, or fast-forwarding the clock).
pub fn client(
    server: &Running<SqliteDb>,
    token: &str,
    clock: &Arc<ManualClock>,
    sleeper: Arc<dyn Sleeper>,
) -> TestClient {
    let source = LoncengSource::new(&server.url(), token).unwrap();
    TestClient::start(source, Store::open_in_memory().unwrap(), clock.clone(), sleeper, fast_config())
}

/// The real server on a fresh in-memory database, on a manual clock at [`t0`], and a device token of
/// [`AGENT`]: what most topics start from.
pub async fn memory_server() -> (Arc<ManualClock>, Running<SqliteDb>, String) {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    (clock, server, token)
}

/// The same on a database file, which outlives a server killed and started again.
pub async fn file_server(path: &std::path::Path) -> (Arc<ManualClock>, Running<SqliteDb>, String) {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::open(path).unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    (clock, server, token)
}

/// A client of any source with a fresh store, waiting in real time.
pub fn in_real_time<S: Source>(source: S, clock: Arc<ManualClock>) -> TestClient {
    TestClient::start(source, Store::open_in_memory().unwrap(), clock, Arc::new(TokioSleeper), fast_config())
}

pub fn far_future() -> DateTime<Utc> {
    "2100-01-01T00:00:00Z".parse().unwrap()
}

pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub fn fast_config() -> SyncConfig {
    SyncConfig {
        keepalive_timeout: Duration::from_secs(2),
        summary_settle: Duration::from_millis(300),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        wake_check: Duration::from_millis(100),
        ..SyncConfig::default()
    }
}

pub async fn produce_n(server: &Running<SqliteDb>, prefix: &str, n: usize, at: DateTime<Utc>) {
    for i in 0..n {
        let event = if i % 3 == 0 {
            assignment(&format!("{prefix}{i}"), AGENT, at)
        } else {
            mention(&format!("{prefix}{i}"), AGENT, at)
        };
        server.service.submit(event).await.expect("event accepted");
    }
}

/// The server's count of the agent's notifications.
pub async fn server_total(server: &Running<SqliteDb>) -> u64 {
    let mut total = 0;
    for tab in Tab::ALL {
        let filter = lonceng_server::db::ListFilter {
            tab: *tab,
            category: None,
            unread_only: false,
            after: None,
            limit: 100_000,
        };
        total += server.service.list(AGENT, filter).await.unwrap().len() as u64;
    }
    total
}

pub fn arrived_ids(seen: &[SyncEvent]) -> Vec<String> {
    seen.iter()
        .filter_map(|e| match e {
            SyncEvent::Arrived { notification, .. } => Some(notification.id.clone()),
            _ => None,
        })
        .collect()
}

pub fn summaries(seen: &[SyncEvent]) -> Vec<usize> {
    seen.iter()
        .filter_map(|e| match e {
            SyncEvent::LateSummary { count } => Some(*count),
            _ => None,
        })
        .collect()
}

pub fn assert_no_duplicates(ids: &[String]) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item was reported twice");
}

pub fn connected(c: &TestClient) -> bool {
    matches!(c.handle.status.borrow().state, ConnState::Connected { .. })
}

pub fn chat_message(event_id: &str, at: DateTime<Utc>) -> lonceng_domain::rules::ProducerEvent {
    lonceng_domain::rules::ProducerEvent::ChatMessage(lonceng_domain::model::ChatMessage {
        event_id: event_id.into(),
        conversation_id: "room-1".into(),
        channel: "whatsapp".into(),
        sender_name: "Siti".into(),
        preview: "Halo".into(),
        recipient_id: AGENT.into(),
        url: "https://chat.qontak.com/inbox/room-1".into(),
        received_at: at,
    })
}

/// A TCP proxy that can black-hole its open connections without closing them.
pub struct Proxy {
    pub addr: SocketAddr,
    generation: Arc<AtomicU64>,
    frozen_below: Arc<AtomicU64>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let frozen_below = Arc::new(AtomicU64::new(0));
        let generation = Arc::new(AtomicU64::new(0));
        let (frozen, counter) = (frozen_below.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let me = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let frozen = frozen.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let f1 = frozen.clone();
                    let up = pump(&mut cr, &mut sw, me, f1);
                    let down = pump(&mut sr, &mut cw, me, frozen);
                    let _ = tokio::join!(up, down);
                });
            }
        });
        Proxy { addr, generation, frozen_below }
    }

    /// Every connection open now stops carrying bytes but stays open; new ones work.
    pub fn freeze_open_connections(&self) {
        self.frozen_below.store(self.generation.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
    }
}

async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    me: u64,
    frozen_below: Arc<AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if me < frozen_below.load(Ordering::SeqCst) {
            continue; // swallowed: the black hole
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
