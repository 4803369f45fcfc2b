//! Shared pieces of the end-to-end suites: the real server in-process (or as a process), producers,
//! and sync clients wired to a manual clock.

pub mod idp;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_client::store::Store;
use lonceng_client::sync::{ConnState, Source, SyncConfig, SyncEngine, SyncEvent, SyncHandle};
use lonceng_domain::clock::{Clock, Sleeper};
use lonceng_domain::model::{Kind, Params};
use lonceng_domain::rules::{Actor, DomainEvent, Origin, ProducerEvent};
use lonceng_server::sqlite::SqliteDb;
use lonceng_server::{start, Config, Running};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub const PRODUCER: &str = "producer-secret";
pub const ADMIN: &str = "admin-secret";
pub const AGENT: &str = "agent-sari";

/// Server settings for tests: fast ticks and keep-alives.
pub fn server_config() -> Config {
    let mut c = Config::new(PRODUCER, ADMIN);
    c.tick = Duration::from_millis(50);
    c.keep_alive = Duration::from_millis(300);
    c
}

/// Starts the server on `addr` (port 0 for any).
pub async fn start_server(
    db: SqliteDb,
    config: Config,
    clock: Arc<dyn Clock>,
    addr: SocketAddr,
) -> Running<SqliteDb> {
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    start(db, config, clock, listener).await.expect("server starts")
}

/// A mention for `to`, happening at `at`.
pub fn mention(key: &str, to: &str, at: DateTime<Utc>) -> ProducerEvent {
    ProducerEvent::Notification(DomainEvent {
        idempotency_key: key.into(),
        kind: Kind::Mention,
        actor: Some(Actor { id: "agent-budi".into(), name: "Budi Santoso".into() }),
        posted_by: None,
        origin: Origin::Manual,
        category: None,
        recipients: vec![to.into()],
        params: Params::new().with("target", "deal").with("object_name", format!("Deal {key}")),
        url: format!("https://app.qontak.com/crm/deals/{key}"),
        occurred_at: at,
    })
}

/// A conversation assigned to `to` (Inbox tab).
pub fn assignment(key: &str, to: &str, at: DateTime<Utc>) -> ProducerEvent {
    ProducerEvent::Notification(DomainEvent {
        idempotency_key: key.into(),
        kind: Kind::ConversationAssigned,
        actor: Some(Actor { id: "agent-dewi".into(), name: "Dewi Lestari".into() }),
        posted_by: None,
        origin: Origin::Manual,
        category: None,
        recipients: vec![to.into()],
        params: Params::new().with("contact_name", format!("Contact {key}")).with("channel", "whatsapp"),
        url: format!("https://chat.qontak.com/inbox/{key}"),
        occurred_at: at,
    })
}

/// The engine as the app runs it (wall clock, real waiting, default settings) on `store`, with the
/// channel its events arrive on.
pub fn real_engine<S: Source>(
    source: S,
    store: Arc<Mutex<Store>>,
) -> (SyncEngine<S>, SyncHandle, mpsc::UnboundedReceiver<SyncEvent>) {
    let (tx, events) = mpsc::unbounded_channel();
    let (engine, handle) = SyncEngine::new(
        source,
        store,
        Arc::new(lonceng_domain::clock::SystemClock),
        Arc::new(lonceng_domain::clock::TokioSleeper),
        SyncConfig::default(),
        tx,
    );
    (engine, handle, events)
}

/// A sync client under test: its store, its status, and everything it reported.
pub struct TestClient {
    pub store: Arc<Mutex<Store>>,
    pub handle: SyncHandle,
    pub events: mpsc::UnboundedReceiver<SyncEvent>,
    pub seen: Vec<SyncEvent>,
    /// Every connection state the engine went through, in order.
    pub states: Arc<Mutex<Vec<ConnState>>>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl TestClient {
    pub fn start<S: Source>(
        source: S,
        store: Store,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
        config: SyncConfig,
    ) -> TestClient {
        let store = Arc::new(Mutex::new(store));
        let (tx, events) = mpsc::unbounded_channel();
        let (engine, handle) = SyncEngine::new(source, store.clone(), clock, sleeper, config, tx);
        let shutdown = CancellationToken::new();
        let states = Arc::new(Mutex::new(Vec::new()));
        let (mut rx, log) = (handle.status.clone(), states.clone());
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let state = rx.borrow_and_update().state.clone();
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                if log.last() != Some(&state) {
                    log.push(state);
                }
            }
        });
        let task = tokio::spawn(engine.run(shutdown.clone()));
        TestClient { store, handle, events, seen: Vec::new(), states, shutdown, task }
    }

    pub fn len(&self) -> u64 {
        self.store.lock().unwrap_or_else(|p| p.into_inner()).len().expect("store readable")
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Collects reported events until `done` holds for this client (or panics after `limit`).
    pub async fn until(&mut self, limit: Duration, what: &str, done: impl Fn(&TestClient) -> bool) {
        if !poll_until(limit, || done(self.drain())).await {
            panic!("timed out waiting for: {what}; status {:?}", *self.handle.status.borrow());
        }
    }

    /// A quiet period: collects what is reported for `period`, asserting that `holds` stays true
    /// throughout (nothing more, nothing doubled arrives meanwhile).
    pub async fn stays(&mut self, period: Duration, what: &str, holds: impl Fn(&TestClient) -> bool) {
        if !holds_throughout(period, || holds(self.drain())).await {
            panic!("{what} stopped holding; status {:?}", *self.handle.status.borrow());
        }
    }

    fn drain(&mut self) -> &TestClient {
        while let Ok(e) = self.events.try_recv() {
            self.seen.push(e);
        }
        self
    }

    /// Whether the engine has been in a state matching `f`.
    pub fn was(&self, f: impl Fn(&ConnState) -> bool) -> bool {
        self.states.lock().unwrap_or_else(|p| p.into_inner()).iter().any(f)
    }

    /// Stops the engine and hands back its store.
    pub async fn into_store(self) -> Store {
        let store = self.store.clone();
        self.stop().await;
        // A store call the engine had started may still be finishing on the blocking pool, with
        // its handle on the store: wait for it to let go.
        let alone = poll_until(Duration::from_secs(5), || Arc::strong_count(&store) == 1).await;
        assert!(alone, "the store is still shared after the engine stopped");
        let mutex = Arc::try_unwrap(store).unwrap_or_else(|_| panic!("the store is still shared"));
        mutex.into_inner().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Polls `f` until it holds (`true`) or `limit` passes (`false`): a wait for a condition.
pub async fn poll_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Checks `f` throughout `period` (`false` as soon as it does not hold): a quiet period.
pub async fn holds_throughout(period: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + period;
    loop {
        if !f() {
            return false;
        }
        if tokio::time::Instant::now() >= end {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
