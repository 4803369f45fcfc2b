//! The sync engine against the real server, with faults injected: the server killed mid-stream, an
//! hour of 503 with Retry-After (crossed in milliseconds with a manual clock), re-sends after
//! maintenance, the client process killed mid-catch-up, a black-holed connection, a wake from sleep,
//! offline actions, and the Qontak CRM API behind a gateway that checks signatures.
//! Every test asserts 0 lost and 0 duplicated where items flow.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_core::clock::{Clock, FastForward, ManualClock, Sleeper, TokioSleeper};
use lonceng_core::crm::Credentials;
use lonceng_core::model::{Category, Tab};
use lonceng_core::store::{Scope, Store, UNDO_WINDOW};
use lonceng_core::sync::crm_source::CrmSource;
use lonceng_core::sync::lonceng::LoncengSource;
use lonceng_core::sync::{ConnState, SyncConfig, SyncEvent};
use lonceng_e2e::*;
use lonceng_server::sqlite::SqliteDb;
use lonceng_server::Running;

const WAIT: Duration = Duration::from_secs(20);

fn t0() -> DateTime<Utc> {
    "2026-01-20T01:00:00Z".parse().unwrap()
}

/// A sync client of `server` with a fresh store, on the shared `clock`; `sleeper` decides how waiting
/// passes (real time, or fast-forwarding the clock).
fn client(
    server: &Running<SqliteDb>,
    token: &str,
    clock: &Arc<ManualClock>,
    sleeper: Arc<dyn Sleeper>,
) -> TestClient {
    let source = LoncengSource::new(&server.url(), token).unwrap();
    TestClient::start(source, Store::open_in_memory().unwrap(), clock.clone(), sleeper, fast_config())
}

fn far_future() -> DateTime<Utc> {
    "2100-01-01T00:00:00Z".parse().unwrap()
}

fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn fast_config() -> SyncConfig {
    SyncConfig {
        keepalive_timeout: Duration::from_secs(2),
        summary_settle: Duration::from_millis(300),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        wake_check: Duration::from_millis(100),
        ..SyncConfig::default()
    }
}

async fn produce_n(server: &Running<SqliteDb>, prefix: &str, n: usize, at: DateTime<Utc>) {
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
async fn server_total(server: &Running<SqliteDb>) -> u64 {
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

fn arrived_ids(seen: &[SyncEvent]) -> Vec<String> {
    seen.iter()
        .filter_map(|e| match e {
            SyncEvent::Arrived { notification, .. } => Some(notification.id.clone()),
            _ => None,
        })
        .collect()
}

fn summaries(seen: &[SyncEvent]) -> Vec<usize> {
    seen.iter()
        .filter_map(|e| match e {
            SyncEvent::LateSummary { count } => Some(*count),
            _ => None,
        })
        .collect()
}

fn assert_no_duplicates(ids: &[String]) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item was reported twice");
}

fn connected(c: &TestClient) -> bool {
    matches!(c.handle.status.borrow().state, ConnState::Connected { .. })
}

// MW-3
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_a_new_client_catches_up_then_follows_live_without_toasting_the_backlog() {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    produce_n(&server, "old", 30, t0() - chrono::Duration::hours(3)).await;

    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "backlog stored and live", |c| c.len() == 30 && connected(c)).await;
    assert!(matches!(c.handle.status.borrow().state, ConnState::Connected { streaming: true }));

    server.service.submit(mention("fresh", AGENT, t0())).await.unwrap();
    c.until(WAIT, "the live item", |c| c.len() == 31).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.until(WAIT, "events drained", |_| true).await;
    let fresh: Vec<bool> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Arrived { late, .. } => Some(*late),
            _ => None,
        })
        .collect();
    assert_eq!(fresh.iter().filter(|l| **l).count(), 30, "the backlog is late: quiet");
    assert_eq!(fresh.iter().filter(|l| !**l).count(), 1, "the live item is fresh: it may toast");
    assert!(summaries(&c.seen).is_empty(), "a first sync is not an outage: no summary");
    assert_no_duplicates(&arrived_ids(&c.seen));
    c.stop().await;
    server.stop().await;
}

// MW-2, MW-3, MW-4
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_the_server_killed_mid_stream_and_restarted_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::open(&path).unwrap(), server_config(), clock.clone(), any_port()).await;
    let addr = server.addr;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    produce_n(&server, "a", 10, t0()).await;

    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "first ten", |c| c.len() == 10 && connected(c)).await;

    server.stop().await;
    c.until(WAIT, "reconnecting, calmly", |c| {
        matches!(c.handle.status.borrow().state, ConnState::Reconnecting { .. })
    })
    .await;
    // The list stays usable while the server is away (MW-2).
    let counts = c.store.lock().unwrap().unread_counts().unwrap();
    assert_eq!(counts.total(), 10);

    let server = start_server(SqliteDb::open(&path).unwrap(), server_config(), clock.clone(), addr).await;
    produce_n(&server, "b", 15, t0()).await;
    // A producer re-sends some of the first batch: the idempotency keys hold across the restart.
    produce_n(&server, "a", 5, t0()).await;
    c.until(WAIT, "caught up after the restart", |c| c.len() == 25 && connected(c)).await;
    assert_eq!(server_total(&server).await, 25);
    let ids = arrived_ids(&c.seen);
    assert_eq!(ids.len(), 25);
    assert_no_duplicates(&ids);
    c.stop().await;
    server.stop().await;
}

// MW-2, MW-3, MW-5
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw2_an_hour_of_503_with_retry_after_is_waited_out_and_summarised_once() {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    produce_n(&server, "before", 3, t0()).await;

    let sleeper = Arc::new(FastForward::new(clock.clone()));
    let mut c = client(&server, &token, &clock, sleeper.clone());
    c.until(WAIT, "connected", |c| c.len() == 3 && connected(c)).await;

    // Maintenance from now for one hour; 23 events happen during it.
    let (start, end) = (clock.now(), clock.now() + chrono::Duration::hours(1));
    server.service.announce(start, end, "Performance enhancements".into()).await.unwrap();
    for i in 0..23 {
        let at = start + chrono::Duration::minutes(2 + i);
        server.service.submit(mention(&format!("during{i}"), AGENT, at)).await.unwrap();
    }
    c.until(WAIT, "the 23 queued items, late", |c| c.len() == 26 && connected(c)).await;
    assert!(
        c.was(|s| matches!(s, ConnState::Maintenance { until: Some(u), .. } if *u == end)),
        "the status said maintenance until its end (MW-2): {:?}",
        c.states.lock().unwrap()
    );
    c.until(WAIT, "the one summary", |c| !summaries(&c.seen).is_empty()).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    c.until(WAIT, "drained", |_| true).await;

    assert_eq!(summaries(&c.seen), vec![23], "exactly one summary for the outage (MW-5)");
    let slept = sleeper.slept();
    assert!(slept >= Duration::from_secs(3600 - 60), "waited the maintenance out: {slept:?}");
    assert!(slept <= Duration::from_secs(3 * 3600), "and not absurdly longer: {slept:?}");
    let late_flags: BTreeMap<bool, usize> = c.seen.iter().fold(BTreeMap::new(), |mut m, e| {
        if let SyncEvent::Arrived { notification, late } = e {
            if notification.params.text("object_name").is_some_and(|n| n.starts_with("Deal during")) {
                *m.entry(*late).or_default() += 1;
            }
        }
        m
    });
    assert_eq!(late_flags.get(&true), Some(&23), "all arrived late: no toast each");
    assert_eq!(late_flags.get(&false), None);
    assert_no_duplicates(&arrived_ids(&c.seen));
    c.stop().await;
    server.stop().await;
}

// MW-4
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw4_deliberate_resends_after_maintenance_are_recognised_by_id() {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    let mut c = client(&server, &token, &clock, Arc::new(FastForward::new(clock.clone())));
    c.until(WAIT, "connected", connected).await;

    server.service.start_maintenance(None).await.unwrap();
    c.until(WAIT, "maintenance noticed", |c| c.was(|s| matches!(s, ConnState::Maintenance { .. }))).await;
    produce_n(&server, "q", 12, t0()).await;
    for i in 0..4 {
        server.service.submit(chat_message(&format!("wa-{i}"), clock.now())).await.unwrap();
    }
    // Every second delivery is sent twice on purpose.
    server.service.end_maintenance(Some(2)).await.unwrap();
    c.until(WAIT, "all twelve", |c| c.len() == 12 && connected(c)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.until(WAIT, "drained", |_| true).await;

    let feed = server.service.changes(AGENT, 0, 1000).await.unwrap();
    assert!(feed.changes.len() >= 12 + 4 + 8, "the server did re-send: {}", feed.changes.len());
    let ids = arrived_ids(&c.seen);
    assert_eq!(ids.len(), 12);
    assert_no_duplicates(&ids);
    let chats: Vec<String> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Chat(m) => Some(m.event_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(chats.len(), 4, "each chat message once: {chats:?}");
    assert_no_duplicates(&chats);
    c.stop().await;
    server.stop().await;
}

fn chat_message(event_id: &str, at: DateTime<Utc>) -> lonceng_core::rules::ProducerEvent {
    lonceng_core::rules::ProducerEvent::ChatMessage(lonceng_core::model::ChatMessage {
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

// MW-6, NC-R13
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw6_actions_taken_offline_are_sent_when_back_and_never_undone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::open(&path).unwrap(), server_config(), clock.clone(), any_port()).await;
    let addr = server.addr;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    produce_n(&server, "x", 9, t0()).await; // 3 Inbox, 6 General
    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "synced", |c| c.len() == 9 && connected(c)).await;
    server.stop().await;
    c.until(WAIT, "offline", |c| !connected(c)).await;

    let one_general = {
        let mut store = c.store.lock().unwrap();
        let page = store
            .page(&lonceng_core::store::ListQuery {
                scope: Scope::new(Tab::General, None).unwrap(),
                unread_only: false,
                after: None,
                limit: 1,
            })
            .unwrap();
        let id = page.items[0].id.clone();
        assert!(store.mark_read(&id, clock.now()).unwrap());
        store
            .mark_all_read(Scope::new(Tab::Inbox, Some(Category::ChatAssignment)).unwrap(), clock.now())
            .unwrap();
        assert_eq!(store.outbox_pending(10, clock.now() + UNDO_WINDOW).unwrap().len(), 2);
        id
    };
    // Past the mark-all's undo window, both actions are due.
    clock.advance(UNDO_WINDOW + chrono::Duration::seconds(1));
    c.handle.nudge();

    let server = start_server(SqliteDb::open(&path).unwrap(), server_config(), clock.clone(), addr).await;
    c.until(WAIT, "outbox drained", |c| {
        connected(c) && c.store.lock().unwrap().outbox_pending(10, far_future()).unwrap().is_empty()
    })
    .await;
    let counts = server.service.counts(AGENT).await.unwrap();
    assert_eq!(counts.tabs[&Tab::Inbox], 0, "the offline mark-all reached the server");
    assert_eq!(counts.tabs[&Tab::General], 5, "and the offline mark-read");
    // Stale copies (every original, unread `created` change, replayed from the start of the feed by a
    // restarted client) do not undo what was read.
    let mut store = c.into_store().await;
    store.set_state(lonceng_core::store::CURSOR_KEY, "0").unwrap();
    server.service.submit(mention("later", AGENT, t0())).await.unwrap();
    let source = LoncengSource::new(&server.url(), &token).unwrap();
    let mut c = TestClient::start(source, store, clock.clone(), Arc::new(TokioSleeper), fast_config());
    c.until(WAIT, "the replay and the next item", |c| c.len() == 10 && connected(c)).await;
    {
        let store = c.store.lock().unwrap();
        assert!(store.get(&one_general).unwrap().unwrap().read_at.is_some());
        assert_eq!(store.unread_counts().unwrap().tab(Tab::Inbox), 0);
        assert_eq!(store.unread_counts().unwrap().tab(Tab::General), 6, "5 left from before, 1 new");
    }
    assert!(arrived_ids(&c.seen) == vec![arrived_ids(&c.seen)[0].clone()], "only the new item is new");
    c.stop().await;
    server.stop().await;
}

/// A TCP proxy that can black-hole its open connections without closing them.
struct Proxy {
    addr: SocketAddr,
    generation: Arc<AtomicU64>,
    frozen_below: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
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
    fn freeze_open_connections(&self) {
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

// MW-2 (dead connections)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_goes_silent_is_detected_by_missing_keepalives_and_replaced() {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    let proxy = Proxy::start(server.addr).await;
    let source = LoncengSource::new(&format!("http://{}", proxy.addr), &token).unwrap();
    let config = SyncConfig { keepalive_timeout: Duration::from_millis(1200), ..fast_config() };
    let mut c = TestClient::start(
        source,
        Store::open_in_memory().unwrap(),
        clock.clone(),
        Arc::new(TokioSleeper),
        config,
    );
    c.until(WAIT, "connected through the proxy", connected).await;

    proxy.freeze_open_connections();
    server.service.submit(mention("lost-in-the-hole", AGENT, t0())).await.unwrap();
    c.until(WAIT, "reconnected through a new connection and caught up", |c| c.len() == 1 && connected(c))
        .await;
    assert!(c.was(|s| matches!(s, ConnState::Reconnecting { .. })), "the silent stream was declared dead");
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_of_the_wall_clock_reconnects_at_once() {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "connected", connected).await;
    let before = c.handle.status.borrow().last_synced_at.unwrap();

    // The laptop slept for two hours: wall time moved, monotonic time did not.
    clock.advance(chrono::Duration::hours(2));
    c.until(WAIT, "a fresh session after waking", |c| {
        c.handle.status.borrow().last_synced_at.is_some_and(|t| t >= before + chrono::Duration::hours(2))
    })
    .await;
    assert!(connected(&c));
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_streaming_the_engine_polls() {
    let clock = Arc::new(ManualClock::new(t0()));
    let mut config = server_config();
    config.streaming = false;
    let server = start_server(SqliteDb::in_memory().unwrap(), config, clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    let source =
        LoncengSource::new(&server.url(), &token).unwrap().with_poll_interval(Duration::from_millis(100));
    let mut c = TestClient::start(
        source,
        Store::open_in_memory().unwrap(),
        clock.clone(),
        Arc::new(TokioSleeper),
        fast_config(),
    );
    c.until(WAIT, "connected, polling", |c| {
        matches!(c.handle.status.borrow().state, ConnState::Connected { streaming: false })
    })
    .await;
    produce_n(&server, "p", 4, t0()).await;
    c.until(WAIT, "polled in", |c| c.len() == 4).await;
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn away_longer_than_a_tab_keeps_items_is_reported_per_tab() {
    let clock = Arc::new(ManualClock::new(t0()));
    let server =
        start_server(SqliteDb::in_memory().unwrap(), server_config(), clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    let mut store = Store::open_in_memory().unwrap();
    store.set_state("last_synced_at", &(t0() - chrono::Duration::days(8)).to_rfc3339()).unwrap();
    let source = LoncengSource::new(&server.url(), &token).unwrap();
    let mut c = TestClient::start(source, store, clock.clone(), Arc::new(TokioSleeper), fast_config());
    c.until(WAIT, "connected", connected).await;
    let gaps: Vec<Tab> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Gap { tab } => Some(*tab),
            _ => None,
        })
        .collect();
    assert_eq!(
        gaps,
        vec![Tab::Inbox],
        "8 days away: Inbox (7 days) may have lost items, General and Approval not"
    );
    c.stop().await;
    server.stop().await;
}

// MW-3 (client killed mid-catch-up)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_a_client_killed_in_the_middle_of_a_catch_up_resumes_exactly() {
    let clock = Arc::new(lonceng_core::clock::SystemClock);
    let server = start_server(SqliteDb::in_memory().unwrap(), server_config(), clock, any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    produce_n(&server, "k", 6_000, Utc::now()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("client.db");
    let client = |until: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sync-client"));
        cmd.args(["--server", &server.url(), "--token", &token]).arg("--db").arg(&db);
        if until {
            cmd.arg("--until-caught-up");
        }
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
        cmd.spawn().expect("sync-client starts")
    };

    // First run: killed as soon as it has stored part of the backlog.
    let mut child = client(false);
    let stdout = child.stdout.take().unwrap();
    let partial = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("progress items=").and_then(|n| n.parse::<u64>().ok()) {
                if n > 0 {
                    return n;
                }
            }
        }
        0
    })
    .await
    .unwrap();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(partial > 0 && partial < 6_000, "killed mid-catch-up: {partial}");

    // What survived is consistent: counters match the rows, the cursor matches the items.
    {
        let store = Store::open(&db).unwrap();
        assert_eq!(store.unread_counts().unwrap(), store.recount_unread().unwrap());
        let stored = store.len().unwrap();
        assert!(stored >= partial, "{stored} < {partial}");
    }

    // Second run: resumes from its cursor and completes.
    let child = client(true);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("caught-up items=6000"), "{text}");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.len().unwrap(), 6_000);
    assert_eq!(store.unread_counts().unwrap().total(), 6_000);
    server.stop().await;
}

/// A stand-in for the Mekari API gateway: verifies signatures as the gateway does and serves the
/// CRM notifications endpoints of the reference.
mod gateway {
    use super::*;
    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, put};
    use axum::{Json, Router};

    pub const SECRET: &str = "gateway-secret";

    #[derive(Default)]
    pub struct Crm {
        pub now: Mutex<DateTime<Utc>>,
        pub read: Mutex<Vec<i64>>,
        pub calls: Mutex<Vec<String>>,
        pub refused: Mutex<u32>,
    }

    fn verify(crm: &Crm, headers: &HeaderMap, method: &str, path_and_query: &str) -> Result<(), StatusCode> {
        let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (date, auth) = (h("date"), h("authorization"));
        let signed_at = DateTime::parse_from_rfc2822(&date).map_err(|_| StatusCode::UNAUTHORIZED)?;
        let now = *crm.now.lock().unwrap();
        if (now - signed_at.with_timezone(&Utc)).num_seconds().abs() > 300 {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let expected = lonceng_core::crm::signature(SECRET, &date, method, path_and_query);
        let want = format!(
            r#"hmac username="lonceng-test", algorithm="hmac-sha256", headers="date request-line", signature="{expected}""#
        );
        if auth != want || h("x-crm-user-sso-id") != "sso-sari" {
            *crm.refused.lock().unwrap() += 1;
            return Err(StatusCode::UNAUTHORIZED);
        }
        crm.calls.lock().unwrap().push(format!("{method} {path_and_query}"));
        Ok(())
    }

    fn item(id: i64, type_id: i64, category_id: i64, read: bool) -> serde_json::Value {
        serde_json::json!({
            "id": id, "obj_id": null, "click_action": "OPEN_NOTIFICATIONS", "origin": "deal", "is_read": read,
            "is_reminder": false, "created_at": "2026-01-20T08:00:00.000+07:00", "updated_at": "2026-01-20T08:05:00.000+07:00",
            "user_id": 1, "description": format!("CRM notification {id}"),
            "click_action_url": format!("https://app.qontak.com/crm/deals/{id}/edit"),
            "notif_category_id": category_id, "notif_type_id": type_id
        })
    }

    async fn list(
        State(crm): State<Arc<Crm>>,
        headers: HeaderMap,
        Query(q): Query<BTreeMap<String, String>>,
    ) -> Result<Json<serde_json::Value>, StatusCode> {
        let page: i64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        verify(&crm, &headers, "GET", &format!("/qontak/crm/notifications?page={page}"))?;
        let read = crm.read.lock().unwrap().clone();
        let items: Vec<_> = match page {
            1 => vec![
                item(1, 1, 2, read.contains(&1)),
                item(2, 1, 5, read.contains(&2)),
                item(3, 2, 8, read.contains(&3)),
            ],
            2 => vec![item(4, 2, 9, read.contains(&4)), item(5, 1, 7, true), item(6, 3, 1, false)],
            _ => vec![],
        };
        Ok(Json(
            serde_json::json!({"meta": {"status": 200}, "response": items, "page": page, "total_page": 2}),
        ))
    }

    async fn mark(
        State(crm): State<Arc<Crm>>,
        headers: HeaderMap,
        Path(id): Path<i64>,
    ) -> Result<Json<serde_json::Value>, StatusCode> {
        verify(&crm, &headers, "PUT", &format!("/qontak/crm/notifications/{id}/mark_as_read"))?;
        crm.read.lock().unwrap().push(id);
        Ok(Json(serde_json::json!({"meta": {"status": 200}})))
    }

    async fn mark_all(State(crm): State<Arc<Crm>>) -> StatusCode {
        crm.calls.lock().unwrap().push("PUT /qontak/crm/notifications/mark_all_as_read".into());
        StatusCode::OK
    }

    pub async fn start(crm: Arc<Crm>) -> SocketAddr {
        let app = Router::new()
            .route("/qontak/crm/notifications", get(list))
            .route("/qontak/crm/notifications/mark_all_as_read", put(mark_all))
            .route("/qontak/crm/notifications/{id}/mark_as_read", put(mark))
            .with_state(crm);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }
}

fn creds(secret: &str) -> Credentials {
    Credentials { username: "lonceng-test".into(), secret: secret.into(), sso_user_id: "sso-sari".into() }
}

// NC-R6, NC-R13 against the Qontak CRM API
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_qontak_crm_api_is_polled_with_valid_signatures_and_marked_read_per_item() {
    let clock = Arc::new(ManualClock::new("2026-01-20T02:00:00Z".parse().unwrap()));
    let crm = Arc::new(gateway::Crm::default());
    *crm.now.lock().unwrap() = clock.now();
    let addr = gateway::start(crm.clone()).await;
    let source = CrmSource::new(&format!("http://{addr}"), creds(gateway::SECRET), AGENT, clock.clone())
        .unwrap()
        .with_poll_interval(Duration::from_millis(100));
    let mut c = TestClient::start(
        source,
        Store::open_in_memory().unwrap(),
        clock.clone(),
        Arc::new(TokioSleeper),
        fast_config(),
    );
    c.until(WAIT, "both pages polled", |c| c.len() == 5).await;
    {
        let store = c.store.lock().unwrap();
        let n = |id: &str| store.get(id).unwrap().unwrap();
        assert_eq!((n("crm:1").tab(), n("crm:1").category), (Tab::General, Category::Mention));
        assert_eq!(n("crm:2").category, Category::DownloadUpload);
        assert_eq!((n("crm:3").tab(), n("crm:3").category), (Tab::Approval, Category::Deals));
        assert_eq!(n("crm:4").category, Category::Expenses);
        assert!(n("crm:5").read_at.is_some());
        assert_eq!(store.quarantined().unwrap().len(), 1, "notif_type_id 3 is kept aside, not lost");
    }
    assert_eq!(*crm.refused.lock().unwrap(), 0, "every request was signed correctly");

    // Read on the web: the next poll brings it, and its toast can be withdrawn (NC-R13).
    crm.read.lock().unwrap().push(2);
    c.until(WAIT, "read elsewhere", |c| {
        c.seen.iter().any(|e| matches!(e, SyncEvent::Read { ids } if ids.contains(&"crm:2".to_string())))
    })
    .await;

    // Mark one read here, and mark all read in Approval / Deals only (NC-R6).
    {
        let mut store = c.store.lock().unwrap();
        store.mark_read("crm:1", clock.now()).unwrap();
        store.mark_all_read(Scope::new(Tab::Approval, Some(Category::Deals)).unwrap(), clock.now()).unwrap();
    }
    clock.advance(UNDO_WINDOW + chrono::Duration::seconds(1));
    *crm.now.lock().unwrap() = clock.now();
    c.handle.nudge();
    c.until(WAIT, "actions sent", |c| {
        c.store.lock().unwrap().outbox_pending(10, far_future()).unwrap().is_empty()
    })
    .await;
    let calls = crm.calls.lock().unwrap().clone();
    assert!(calls.contains(&"PUT /qontak/crm/notifications/1/mark_as_read".to_string()));
    assert!(calls.contains(&"PUT /qontak/crm/notifications/3/mark_as_read".to_string()));
    assert!(!calls.iter().any(|c| c.contains("/4/mark_as_read")), "the Expenses item is outside the scope");
    assert!(
        !calls.iter().any(|c| c.contains("mark_all_as_read")),
        "the CRM's global mark-all would break NC-R6"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_crm_secret_is_shown_as_a_refused_sign_in_not_retried_hot() {
    let clock = Arc::new(ManualClock::new("2026-01-20T02:00:00Z".parse().unwrap()));
    let crm = Arc::new(gateway::Crm::default());
    *crm.now.lock().unwrap() = clock.now();
    let addr = gateway::start(crm.clone()).await;
    let source =
        CrmSource::new(&format!("http://{addr}"), creds("wrong-secret"), AGENT, clock.clone()).unwrap();
    let mut c = TestClient::start(
        source,
        Store::open_in_memory().unwrap(),
        clock.clone(),
        Arc::new(TokioSleeper),
        fast_config(),
    );
    c.until(WAIT, "offline with a reason", |c| {
        matches!(c.handle.status.borrow().state, ConnState::Offline { .. })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(*crm.refused.lock().unwrap() <= 2, "backs off to the maximum after a refused sign-in");
    c.stop().await;
}
