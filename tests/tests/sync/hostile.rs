//! Servers that misbehave: a `Retry-After` of centuries, a change that does not decode in the feed
//! and in the stream, a session that panics, and a short maintenance that queues hundreds of items.
//! Sync must never stop for good, never flood the agent, and lose nothing that can be read.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use lonceng_client::sync::{BoxFut, EventStream, Pulled, Source, SourceError};
use lonceng_domain::net::MAX_SERVER_DELAY;
use lonceng_domain::protocol::{Change, ChangeBody};

use crate::util::*;

/// An answer: status, headers, body.
type Answer = (StatusCode, Vec<(&'static str, String)>, String);

/// A fake Lonceng server: `/v1/changes` and `/v1/stream` answer what the test sets.
#[derive(Default)]
struct Fake {
    changes: Mutex<Option<Answer>>,
    stream: Mutex<String>,
    requests: AtomicU64,
}

async fn changes(State(f): State<Arc<Fake>>) -> impl IntoResponse {
    f.requests.fetch_add(1, Ordering::SeqCst);
    let (status, headers, body) =
        f.changes.lock().unwrap().clone().unwrap_or((StatusCode::OK, vec![], String::new()));
    let mut map = HeaderMap::new();
    map.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
    for (k, v) in headers {
        map.insert(k, v.parse().unwrap());
    }
    (status, map, body)
}

async fn stream(State(f): State<Arc<Fake>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/event-stream")], f.stream.lock().unwrap().clone())
}

async fn maintenance() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"active": true, "until": null, "windows": []}"#)
}

async fn fake() -> (Arc<Fake>, String) {
    let f = Arc::new(Fake::default());
    let app = Router::new()
        .route("/v1/changes", get(changes))
        .route("/v1/stream", get(stream))
        .route("/v1/maintenance", get(maintenance))
        .with_state(f.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (f, url)
}

fn unavailable(retry_after: &str) -> Answer {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        vec![("retry-after", retry_after.to_owned())],
        r#"{"error": {"code": "maintenance", "message": "under maintenance"}}"#.to_owned(),
    )
}

// MW-2: a server (or a proxy in front of it) can ask for centuries; with no maintenance announced
// that long, the client backs off as usual (at most its cap) and keeps trying; a believable wait,
// half an hour, is obeyed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw2_a_retry_after_of_centuries_is_not_believed_and_sync_goes_on() {
    let (fake, url) = fake().await;
    *fake.changes.lock().unwrap() = Some(unavailable("99999999999999999999"));
    let clock = Arc::new(ManualClock::new(t0()));
    let sleeper = Arc::new(FastForward::new(clock.clone()));
    let source = LoncengSource::new(&url, "token").unwrap();
    let config = fast_config();
    let cap = config.backoff_max;
    let mut c =
        TestClient::start(source, Store::open_in_memory().unwrap(), clock.clone(), sleeper.clone(), config);
    c.until(WAIT, "three attempts", |_| fake.requests.load(Ordering::SeqCst) >= 3).await;
    // Per sleep, not per request counted: the engine may already be in its next sleep.
    let (slept, sleeps) = sleeper.sleeps();
    assert!(
        slept <= cap * sleeps,
        "never more than the backoff's cap each time: {slept:?} in {sleeps} sleeps"
    );
    assert!(slept < MAX_SERVER_DELAY, "{slept:?}");
    assert!(
        c.was(|s| matches!(s, ConnState::Maintenance { next_attempt_at, .. } if *next_attempt_at <= t0() + chrono::Duration::minutes(5))),
        "the status says when it tries again: {:?}",
        c.states.lock().unwrap()
    );

    // The date form: half an hour from now is believed, and waited.
    let asked = clock.now() + chrono::Duration::minutes(30);
    *fake.changes.lock().unwrap() = Some(unavailable(&asked.format("%a, %d %b %Y %H:%M:%S GMT").to_string()));
    let (before, requests) = (sleeper.slept(), fake.requests.load(Ordering::SeqCst));
    c.until(WAIT, "two more attempts", |_| fake.requests.load(Ordering::SeqCst) >= requests + 2).await;
    let waited = sleeper.slept() - before;
    assert!(waited >= Duration::from_secs(29 * 60), "the half hour was waited: {waited:?}");
    assert!(waited <= Duration::from_secs(2 * 35 * 60), "{waited:?}");
    c.stop().await;
}

// MW-2: the headless client never exits 0 while it should be syncing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw2_the_headless_client_keeps_running_through_an_absurd_retry_after() {
    let (fake, url) = fake().await;
    *fake.changes.lock().unwrap() = Some(unavailable("99999999999999999999"));
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sync-client"))
        .args(["--server", &url, "--token", "t", "--db"])
        .arg(dir.path().join("client.db"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let asked = poll_until(WAIT, || fake.requests.load(Ordering::SeqCst) > 0).await;
    assert!(asked, "the client never asked");
    // A quiet period: it must still be running (backing off between attempts).
    let running = holds_throughout(Duration::from_millis(800), || child.try_wait().unwrap().is_none()).await;
    assert!(running, "the client exited instead of waiting");
    child.kill().unwrap();
    let _ = child.wait();
}

fn created(seq: i64, id: &str) -> String {
    let n = lonceng_domain::model::Notification {
        id: id.into(),
        category: Category::Mention,
        kind: lonceng_domain::model::Kind::Mention,
        params: lonceng_domain::model::Params::new()
            .with("actor", "Budi")
            .with("target", "deal")
            .with("object_name", "PT Maju"),
        actor_id: Some("agent-budi".into()),
        recipient_id: AGENT.into(),
        url: format!("https://app.qontak.com/crm/deals/{id}"),
        created_at: t0(),
        read_at: None,
    };
    let change = Change { seq, at: t0(), body: ChangeBody::Created { notification: n.to_wire() } };
    serde_json::to_string(&change).unwrap()
}

/// A change of a type this version does not know, and a created item missing its URL.
fn bad_changes(first: i64) -> [String; 2] {
    [
        format!(r#"{{"seq": {first}, "at": "2026-01-20T01:00:00Z", "type": "archived", "ids": ["x"]}}"#),
        created(first + 1, "no-url").replace(r#","url":"https://app.qontak.com/crm/deals/no-url""#, ""),
    ]
}

// One bad change is quarantined with its reason; everything before and after it arrives, and the
// cursor moves past it, in the feed and in the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_a_change_that_does_not_decode_is_quarantined_and_sync_goes_past_it() {
    let (fake, url) = fake().await;
    let [unknown, missing] = bad_changes(2);
    let page = format!(
        r#"{{"changes": [{}, {unknown}, {missing}, {}], "cursor": 4, "more": false}}"#,
        created(1, "before"),
        created(4, "after")
    );
    *fake.changes.lock().unwrap() = Some((StatusCode::OK, vec![], page));
    let [unknown_live, _] = bad_changes(5);
    *fake.stream.lock().unwrap() = format!(
        "event: change\nid: 5\ndata: {unknown_live}\n\nevent: change\nid: 6\ndata: {}\n\n: keep-alive\n\n",
        created(6, "live")
    );
    let clock = Arc::new(ManualClock::new(t0()));
    let source = LoncengSource::new(&url, "token").unwrap();
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "the good changes, before and after the bad ones", |c| c.len() == 3).await;
    let store = c.store.clone();
    let cursor = || store.lock().unwrap().state(lonceng_client::store::CURSOR_KEY).unwrap();
    c.until(WAIT, "the cursor past the live bad change", |_| cursor().as_deref() == Some("6")).await;
    let quarantined = store.lock().unwrap().quarantined().unwrap();
    let reasons: Vec<&str> = quarantined.iter().map(|q| q.error.as_str()).collect();
    assert_eq!(quarantined.len(), 3, "each bad change once, with its reason: {reasons:?}");
    assert!(reasons.iter().all(|r| r.starts_with("change: ")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("archived")), "the unknown type is named: {reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("url")), "the missing field is named: {reasons:?}");
    // The report of an arrival may follow the cursor's write by a moment: wait for it.
    let all_arrived = |c: &TestClient| {
        let ids = arrived_ids(&c.seen);
        ["before", "after", "live"].iter().all(|id| ids.contains(&id.to_string()))
    };
    c.until(WAIT, "before, after and live reported as arrived", all_arrived).await;
    c.stop().await;
}

/// A source that panics on its first catch-up (a bug), then behaves.
struct PanicsOnce<S> {
    inner: S,
    panicked: std::sync::atomic::AtomicBool,
}

impl<S: Source> Source for PanicsOnce<S> {
    fn pull(&self, since: Option<String>) -> BoxFut<'_, Result<Pulled, SourceError>> {
        if !self.panicked.swap(true, Ordering::SeqCst) {
            panic!("a bug in a source");
        }
        self.inner.pull(since)
    }
    fn stream(&self, since: Option<String>) -> BoxFut<'_, Result<Option<EventStream>, SourceError>> {
        self.inner.stream(since)
    }
    fn push<'a>(
        &'a self,
        entry: &'a lonceng_client::store::OutboxEntry,
        covered: &'a [String],
    ) -> lonceng_client::sync::source::Sent<'a> {
        self.inner.push(entry, covered)
    }
    fn maintenance(
        &self,
    ) -> BoxFut<'_, Result<Option<lonceng_domain::protocol::MaintenanceStatus>, SourceError>> {
        self.inner.maintenance()
    }
    fn poll_interval(&self) -> Duration {
        self.inner.poll_interval()
    }
}

// A panic in a session is not the end of sync: the status says so, and sync starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw2_a_session_that_panics_is_reported_and_sync_starts_again() {
    let (clock, server, token) = memory_server().await;
    produce_n(&server, "p", 3, t0()).await;
    let source = PanicsOnce {
        inner: LoncengSource::new(&server.url(), &token).unwrap(),
        panicked: Default::default(),
    };
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "synced after the panic", |c| c.len() == 3 && connected(c)).await;
    assert!(
        c.was(|s| matches!(s, ConnState::Offline { reason, .. } if reason.contains("unexpectedly"))),
        "the status said what happened: {:?}",
        c.states.lock().unwrap()
    );
    c.stop().await;
    server.stop().await;
}

// MW-5: a maintenance of half a minute that queued 500 items ends with one summary, not 500 toasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw5_a_short_outage_that_queued_hundreds_ends_with_one_summary_not_a_flood() {
    let (clock, server, token) = memory_server().await;
    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "connected", connected).await;

    // The server says "retry in a second": the client comes back as soon as it ends.
    server.service.start_maintenance(Some(clock.now() + chrono::Duration::seconds(1))).await.unwrap();
    c.until(WAIT, "the outage seen", |c| c.was(|s| matches!(s, ConnState::Maintenance { .. }))).await;
    produce_n(&server, "queued", 500, clock.now()).await;
    clock.advance(chrono::Duration::seconds(30));
    server.service.end_maintenance(None).await.unwrap();
    c.until(WAIT, "the 500 items", |c| c.len() == 500 && connected(c)).await;
    c.until(WAIT, "the summary", |c| !summaries(&c.seen).is_empty()).await;
    c.stays(Duration::from_millis(400), "one summary only", |c| summaries(&c.seen).len() == 1).await;
    assert_eq!(summaries(&c.seen), vec![500]);
    let fresh = c.seen.iter().filter(|e| matches!(e, SyncEvent::Arrived { late: false, .. })).count();
    assert!(fresh <= lonceng_client::sync::engine::HANDFUL, "{fresh} items would have toasted one by one");
    c.stop().await;
    server.stop().await;
}
