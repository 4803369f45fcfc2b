//! Integration tests: the real server on port 0 with an in-memory or file database, driven with a real
//! HTTP client and a real SSE client. The clock is manual, so maintenance windows and retention are
//! crossed in milliseconds. Rule ids are cited in the test names.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use eventsource_stream::{Event as SseEvent, Eventsource};
use futures_util::{Stream, StreamExt};
use lonceng_core::clock::{Clock, ManualClock};
use lonceng_core::protocol::{Change, ChangeBody, ChangesPage, Counts, MaintenanceStatus, NotificationsPage};
use lonceng_server::sqlite::SqliteDb;
use lonceng_server::{start, Config, Running};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PRODUCER: &str = "producer-secret";
const ADMIN: &str = "admin-secret";

fn t0() -> DateTime<Utc> {
    "2026-01-20T01:00:00Z".parse().unwrap()
}

struct Server {
    running: Running<SqliteDb>,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
}

fn config() -> Config {
    let mut c = Config::new(PRODUCER, ADMIN);
    // Ticks are driven by the tests (after moving the clock), not by wall time.
    c.tick = StdDuration::from_secs(3600);
    c.keep_alive = StdDuration::from_secs(1);
    c
}

async fn server() -> Server {
    server_with(SqliteDb::in_memory().unwrap(), config(), Arc::new(ManualClock::new(t0()))).await
}

async fn server_with(db: SqliteDb, config: Config, clock: Arc<ManualClock>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = start(db, config, clock.clone(), listener).await.unwrap();
    Server { running, clock, http: reqwest::Client::new() }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
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

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(token)).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).bearer_auth(token).json(&body)).await
    }

    async fn token(&self, user: &str, device: &str) -> String {
        let (s, b) =
            self.post(ADMIN, "/v1/admin/tokens", json!({"user_id": user, "device_id": device})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["token"].as_str().unwrap().to_owned()
    }

    async fn produce(&self, event: Value) -> (StatusCode, Value) {
        self.post(PRODUCER, "/v1/events", event).await
    }

    /// Posts an event that must create exactly one notification; returns its id.
    async fn notify(&self, event: Value) -> String {
        let (s, b) = self.produce(event).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["created"].as_array().unwrap().len(), 1, "{b}");
        b["created"][0]["id"].as_str().unwrap().to_owned()
    }

    async fn list(&self, token: &str, query: &str) -> NotificationsPage {
        let (s, b) = self.get(token, &format!("/v1/notifications?{query}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        serde_json::from_value(b).unwrap()
    }

    async fn counts(&self, token: &str) -> Counts {
        serde_json::from_value(self.get(token, "/v1/counts").await.1).unwrap()
    }

    async fn changes(&self, token: &str, since: i64) -> ChangesPage {
        let (s, b) = self.get(token, &format!("/v1/changes?since={since}")).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        serde_json::from_value(b).unwrap()
    }

    async fn stream(&self, token: &str, last_event_id: Option<i64>) -> impl Stream<Item = SseEvent> + Unpin {
        let mut req = self.http.get(self.url("/v1/stream")).bearer_auth(token);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        Box::pin(resp.bytes_stream().eventsource().map(|e| e.expect("SSE parses")))
    }

    async fn tick(&self) {
        self.running.app.tick().await.unwrap();
    }
}

/// The next event of a given type, within a generous hang guard.
async fn next_of(stream: &mut (impl Stream<Item = SseEvent> + Unpin), kind: &str) -> SseEvent {
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

async fn next_change(stream: &mut (impl Stream<Item = SseEvent> + Unpin)) -> Change {
    let e = next_of(stream, "change").await;
    let change: Change = serde_json::from_str(&e.data).unwrap();
    assert_eq!(e.id, change.seq.to_string(), "the SSE id is the change's sequence number");
    change
}

fn event(key: &str, kind: &str, recipients: &[&str], actor: Option<(&str, &str)>, params: Value) -> Value {
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

fn mention(key: &str, to: &str) -> Value {
    event(key, "mention", &[to], Some(("u-9", "Budi")), json!({"target": "deal", "object_name": "PT Maju"}))
}

fn chat(event_id: &str, to: &str) -> Value {
    json!({
        "type": "chat_message", "event_id": event_id, "conversation_id": "room-1", "channel": "whatsapp",
        "sender_name": "Siti", "preview": "Halo", "recipient_id": to,
        "url": "https://chat.qontak.com/inbox/room-1", "received_at": t0()
    })
}

fn created_ids(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match &c.body {
            ChangeBody::Created { notification } => Some(notification.id.clone()),
            _ => None,
        })
        .collect()
}

// NC-R1, NC-R2, NC-R4
#[tokio::test]
async fn producers_get_told_what_the_rules_did() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;

    let (status, b) = s
        .produce(event(
            "e1",
            "task_assigned",
            &["u-1"],
            Some(("u-1", "Sari")),
            json!({"task_name": "Call Budi"}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["created"], json!([]));
    assert_eq!(b["suppressed"], json!([{"recipient_id": "u-1", "reason": "self_assignment"}]), "NC-R1");

    let mut auto = event(
        "e2",
        "deal_owner_assigned",
        &["u-1"],
        Some(("owner", "Account Owner")),
        json!({"deal_name": "Toko Makmur"}),
    );
    auto["origin"] = json!("chatbot");
    let id = s.notify(auto).await;
    let page = s.list(&sari, "tab=general").await;
    let item = page.items.iter().find(|n| n.id == id).unwrap();
    assert_eq!(item.kind, "deal_owner_auto_assigned", "NC-R2");
    assert_eq!(item.actor_id, None);
    assert_eq!(item.params["source"], "chatbot");

    let (status, b) = s.produce(chat("wa-1", "u-1")).await;
    assert_eq!((status, b["status"].as_str()), (StatusCode::OK, Some("toast_only")), "NC-R4");
    assert_eq!(s.counts(&sari).await.total, 1, "chat messages are never counted");
    assert_eq!(s.list(&sari, "tab=inbox").await.items.len(), 0, "nor listed");
    let feed = s.changes(&sari, 0).await;
    assert!(feed
        .changes
        .iter()
        .any(|c| matches!(&c.body, ChangeBody::Chat { message } if message.event_id == "wa-1")));
}

// MW-4
#[tokio::test]
async fn mw4_a_resent_event_creates_one_notification_and_one_chat() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let first = s.notify(mention("same-key", "u-1")).await;
    let (status, again) = s.produce(mention("same-key", "u-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["created"][0]["id"], first.as_str(), "the first answer, again");
    s.produce(chat("wa-7", "u-1")).await;
    let (_, dup) = s.produce(chat("wa-7", "u-1")).await;
    assert_eq!(dup["duplicate"], true);
    assert_eq!(s.list(&sari, "tab=general").await.items.len(), 1);
    assert_eq!(s.changes(&sari, 0).await.changes.len(), 2, "one created, one chat");
}

// NC-R3
#[tokio::test]
async fn nc_r3_a_user_never_reads_or_changes_another_users_items() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let budi = s.token("u-2", "desktop").await;
    let mut budi_stream = s.stream(&budi, None).await;
    next_of(&mut budi_stream, "presence").await;
    let id = s.notify(mention("e1", "u-1")).await;

    assert!(s.list(&budi, "tab=general").await.items.is_empty());
    assert_eq!(s.counts(&budi).await.total, 0);
    assert!(s.changes(&budi, 0).await.changes.is_empty());
    let (status, body) = s.post(&budi, &format!("/v1/notifications/{id}/read"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "indistinguishable from a missing item");
    assert_eq!(body["error"]["code"], "not_found");
    let (_, r) = s.post(&budi, "/v1/notifications/read-all", json!({"tab": "general"})).await;
    assert_eq!(r["changed"], 0);
    assert!(s.list(&sari, "tab=general").await.items[0].read_at.is_none(), "Sari's item is untouched");

    // Budi's stream saw nothing of Sari's: the next change it gets is its own.
    s.notify(mention("e2", "u-2")).await;
    let c = next_change(&mut budi_stream).await;
    let ChangeBody::Created { notification } = c.body else { panic!("{c:?}") };
    assert_eq!(notification.recipient_id, "u-2");
}

#[tokio::test]
async fn lists_filter_by_tab_category_and_unread_with_cursor_pages() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut e = mention(&format!("m{i}"), "u-1");
        e["occurred_at"] = json!(t0() + Duration::minutes(i));
        ids.push(s.notify(e).await);
    }
    s.notify(event(
        "r1",
        "reminder",
        &["u-1"],
        None,
        json!({"object_type": "task", "object_name": "Follow up"}),
    ))
    .await;
    s.notify(event(
        "c1",
        "contact_blocked",
        &["u-1"],
        Some(("u-2", "Agus")),
        json!({"contact_name": "Andi"}),
    ))
    .await;

    let mut seen = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let q = match &cursor {
            Some(c) => format!("tab=general&category=mention&limit=3&cursor={c}"),
            None => "tab=general&category=mention&limit=3".to_owned(),
        };
        let page = s.list(&sari, &q).await;
        seen.extend(page.items.iter().map(|n| n.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    assert_eq!(s.list(&sari, "tab=general").await.items.len(), 8);
    assert_eq!(s.list(&sari, "tab=inbox").await.items.len(), 1);

    s.post(&sari, &format!("/v1/notifications/{}/read", ids[0]), json!({})).await;
    let unread = s.list(&sari, "tab=general&category=mention&unread=true").await;
    assert_eq!(unread.items.len(), 6);
    let counts = s.counts(&sari).await;
    assert_eq!((counts.total, counts.tabs[&lonceng_core::model::Tab::General]), (8, 7));
}

// NC-R6
#[tokio::test]
async fn nc_r6_mark_all_read_is_scoped_bounded_by_the_cursor_and_idempotent() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    s.notify(mention("m1", "u-1")).await;
    s.notify(mention("m2", "u-1")).await;
    let reminder = s
        .notify(event("r1", "reminder", &["u-1"], None, json!({"object_type": "task", "object_name": "x"})))
        .await;
    let inbox = s
        .notify(event(
            "c1",
            "contact_blocked",
            &["u-1"],
            Some(("u-2", "Agus")),
            json!({"contact_name": "Andi"}),
        ))
        .await;
    let cursor = s.changes(&sari, 0).await.cursor;
    let late = s.notify(mention("m3", "u-1")).await; // arrives after the agent looked

    let req = s
        .http
        .post(s.url("/v1/notifications/read-all"))
        .bearer_auth(&sari)
        .header("Idempotency-Key", "click-1")
        .json(&json!({"tab": "general", "category": "mention", "upto_cursor": cursor}));
    let (status, r) = s.send(req.try_clone().unwrap()).await;
    assert_eq!((status, r["changed"].as_u64()), (StatusCode::OK, Some(2)));
    let unread: Vec<String> =
        s.list(&sari, "unread=true&tab=general").await.items.into_iter().map(|n| n.id).collect();
    assert!(unread.contains(&reminder) && unread.contains(&late) && unread.len() == 2, "{unread:?}");
    assert_eq!(s.list(&sari, "unread=true&tab=inbox").await.items[0].id, inbox);

    let feed_before = s.changes(&sari, 0).await.changes.len();
    let (_, again) = s.send(req).await;
    assert_eq!(again["changed"], 2, "the same key returns the first answer");
    assert_eq!(s.changes(&sari, 0).await.changes.len(), feed_before, "and changes nothing");

    let (status, b) =
        s.post(&sari, "/v1/notifications/read-all", json!({"tab": "inbox", "category": "deals"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["error"]["message"].as_str().unwrap().contains("not in tab"));
}

// NC-R13
#[tokio::test]
async fn nc_r13_read_on_one_device_reaches_the_others_live() {
    let s = server().await;
    let desktop = s.token("u-1", "desktop").await;
    let web = s.token("u-1", "web").await;
    let id = s.notify(mention("m1", "u-1")).await;
    let mut stream = s.stream(&desktop, None).await;
    next_of(&mut stream, "presence").await;

    let (_, r) = s.post(&web, &format!("/v1/notifications/{id}/read"), json!({})).await;
    assert_eq!(r["changed"], true);
    let c = next_change(&mut stream).await;
    match c.body {
        ChangeBody::Read { ids, read_at } => {
            assert_eq!(ids, vec![id.clone()]);
            assert_eq!(read_at, t0());
        }
        other => panic!("{other:?}"),
    }
    let (_, again) = s.post(&desktop, &format!("/v1/notifications/{id}/read"), json!({})).await;
    assert_eq!(again["changed"], false);
}

// MW-3
#[tokio::test]
async fn mw3_a_dropped_stream_resumes_after_last_event_id_with_nothing_lost_or_doubled() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let mut stream = s.stream(&sari, None).await;
    s.notify(mention("m1", "u-1")).await;
    s.notify(mention("m2", "u-1")).await;
    next_change(&mut stream).await;
    let last = next_change(&mut stream).await.seq;
    drop(stream);

    for i in 3..6 {
        s.notify(mention(&format!("m{i}"), "u-1")).await;
    }
    let mut resumed = s.stream(&sari, Some(last)).await;
    let mut seqs = Vec::new();
    for _ in 0..3 {
        seqs.push(next_change(&mut resumed).await.seq);
    }
    assert_eq!(seqs, vec![last + 1, last + 2, last + 3]);
    s.notify(mention("m6", "u-1")).await;
    assert_eq!(next_change(&mut resumed).await.seq, last + 4, "then live, without a repeat");
}

// MW-3
#[tokio::test]
async fn mw3_streams_resume_after_a_server_restart_on_the_same_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let open = |p: &Path| SqliteDb::open(p).unwrap();

    let s = server_with(open(&path), config(), clock.clone()).await;
    let sari = s.token("u-1", "desktop").await;
    let mut stream = s.stream(&sari, None).await;
    s.notify(mention("m1", "u-1")).await;
    let last = next_change(&mut stream).await.seq;
    drop(stream);
    tokio::time::timeout(StdDuration::from_secs(10), s.running.stop()).await.expect("stops");

    let s = server_with(open(&path), config(), clock).await;
    s.notify(mention("m2", "u-1")).await;
    let (_, dup) = s.produce(mention("m1", "u-1")).await;
    assert_eq!(dup["duplicate"], true, "idempotency keys survive the restart");
    let mut resumed = s.stream(&sari, Some(last)).await; // the token survived too
    let c = next_change(&mut resumed).await;
    assert_eq!(c.seq, last + 1);
    assert_eq!(s.list(&sari, "tab=general").await.items.len(), 2);
}

// MW-2, MW-3, MW-4, MW-5 (server side)
#[tokio::test]
async fn maintenance_answers_503_queues_events_and_delivers_them_late_with_resends() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let mut stream = s.stream(&sari, None).await;
    next_of(&mut stream, "presence").await;
    let cursor = s.changes(&sari, 0).await.cursor;

    let until = t0() + Duration::hours(2);
    let (status, b) = s.post(ADMIN, "/v1/admin/maintenance/start", json!({"until": until})).await;
    assert_eq!((status, b["active"].as_bool()), (StatusCode::OK, Some(true)));
    let notice = next_of(&mut stream, "maintenance").await;
    let notice: MaintenanceStatus = serde_json::from_str(&notice.data).unwrap();
    assert_eq!(notice.until, Some(until));
    let ended = tokio::time::timeout(StdDuration::from_secs(10), stream.next()).await.expect("stream closes");
    assert!(ended.is_none(), "streams end when maintenance starts");

    let resp = s.http.get(s.url("/v1/counts")).bearer_auth(&sari).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "3600", "two hours away, capped at an hour");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "maintenance");
    let (status, m) = s.get(&sari, "/v1/maintenance").await;
    assert_eq!((status, m["active"].as_bool()), (StatusCode::OK, Some(true)), "status stays readable");

    for i in 0..6 {
        let mut e = mention(&format!("q{i}"), "u-1");
        e["occurred_at"] = json!(t0() + Duration::minutes(i));
        let (status, b) = s.produce(e).await;
        assert_eq!((status, b["status"].as_str()), (StatusCode::ACCEPTED, Some("queued")));
    }
    let (_, dup) = s.produce(mention("q0", "u-1")).await;
    assert_eq!(dup["duplicate"], true, "a re-sent event is queued once");
    s.produce(chat("wa-9", "u-1")).await;

    s.clock.advance(Duration::minutes(90));
    let (status, b) = s.post(ADMIN, "/v1/admin/maintenance/end", json!({"resend_every": 2})).await;
    assert_eq!((status, b["active"].as_bool()), (StatusCode::OK, Some(false)));

    let feed = s.changes(&sari, cursor).await;
    let created = created_ids(&feed.changes);
    let mut distinct = created.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "every queued event delivered once");
    assert_eq!(created.len(), 6 + 3, "every second item was sent again on purpose");
    let chats = feed.changes.iter().filter(|c| matches!(c.body, ChangeBody::Chat { .. })).count();
    assert_eq!(chats, 1, "the chat message is the 7th delivery: not re-sent with every 2nd");
    for c in &feed.changes {
        if let ChangeBody::Created { notification } = &c.body {
            assert!(
                c.at - notification.created_at >= Duration::minutes(84),
                "delivered late, dated when it happened"
            );
        }
    }
    let counts = s.counts(&sari).await;
    assert_eq!(counts.total, 6, "the server itself holds no doubles");
}

// MW-1
#[tokio::test]
async fn mw1_announced_windows_are_listed_then_enforced_then_over() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let (start, end) = (t0() + Duration::hours(3), t0() + Duration::hours(5));
    let (status, w) = s
        .post(
            ADMIN,
            "/v1/admin/maintenance/windows",
            json!({"starts_at": start, "ends_at": end, "message": "Upgrade"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{w}");
    let (_, m) = s.get(&sari, "/v1/maintenance").await;
    let m: MaintenanceStatus = serde_json::from_value(m).unwrap();
    assert!(!m.active);
    assert_eq!(
        (m.windows[0].starts_at, m.windows[0].ends_at, m.windows[0].message.as_str()),
        (start, end, "Upgrade")
    );

    s.clock.set(start + Duration::minutes(1));
    s.tick().await;
    let (_, b) = s.produce(mention("during", "u-1")).await;
    assert_eq!(b["status"], "queued");
    let resp = s.http.get(s.url("/v1/counts")).bearer_auth(&sari).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);

    s.clock.set(end + Duration::minutes(1));
    s.tick().await;
    assert_eq!(s.counts(&sari).await.total, 1, "the queued event arrived when the window ended");
    let (_, m) = s.get(&sari, "/v1/maintenance").await;
    assert_eq!(m["windows"], json!([]), "a past window is no longer announced");

    let (status, _) =
        s.post(ADMIN, "/v1/admin/maintenance/windows", json!({"starts_at": end, "ends_at": start})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

// NC-R5
#[tokio::test]
async fn nc_r5_retention_expires_items_through_the_change_feed() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let inbox = s
        .notify(event(
            "c1",
            "contact_blocked",
            &["u-1"],
            Some(("u-2", "Agus")),
            json!({"contact_name": "Andi"}),
        ))
        .await;
    let general = s.notify(mention("m1", "u-1")).await;
    let cursor = s.changes(&sari, 0).await.cursor;

    s.clock.advance(Duration::days(8));
    s.tick().await;
    let feed = s.changes(&sari, cursor).await;
    assert!(
        matches!(&feed.changes[..], [Change { body: ChangeBody::Expired { ids }, .. }] if *ids == vec![inbox.clone()])
    );
    assert!(s.list(&sari, "tab=inbox").await.items.is_empty());
    assert_eq!(s.list(&sari, "tab=general").await.items[0].id, general);

    // After 91 days the General item is gone too, and so is the old feed: an old cursor must relist.
    s.clock.advance(Duration::days(83));
    s.tick().await;
    assert!(s.list(&sari, "tab=general").await.items.is_empty());
    let (status, b) = s.get(&sari, "/v1/changes?since=1").await;
    assert_eq!((status, b["error"]["code"].as_str()), (StatusCode::GONE, Some("cursor_gone")));
    let (status, _) = s.get(&sari, "/v1/changes?since=0").await;
    assert_eq!(status, StatusCode::OK, "a replay from the start is always possible");
}

// NC-R12 input
#[tokio::test]
async fn presence_from_the_web_chat_reaches_the_desktop() {
    let s = server().await;
    let desktop = s.token("u-1", "desktop").await;
    let web = s.token("u-1", "web-chat-tab").await;
    let mut stream = s.stream(&desktop, None).await;
    let first: Value = serde_json::from_str(&next_of(&mut stream, "presence").await.data).unwrap();
    assert_eq!(first["active_in_web_chat"], false);

    let req = s
        .http
        .put(s.url("/v1/presence"))
        .bearer_auth(&web)
        .json(&json!({"surface": "web_chat", "active": true}));
    let (status, _) = s.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let live: Value = serde_json::from_str(&next_of(&mut stream, "presence").await.data).unwrap();
    assert_eq!(live["active_in_web_chat"], true);
    let (_, p) = s.get(&desktop, "/v1/presence").await;
    assert_eq!(p["devices"][0]["device_id"], "web-chat-tab");

    s.clock.advance(Duration::minutes(3));
    let (_, p) = s.get(&desktop, "/v1/presence").await;
    assert_eq!(p["active_in_web_chat"], false, "a silent device stops counting");
}

#[tokio::test]
async fn bad_requests_get_a_clear_json_error_and_nothing_breaks() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let raw = |method: reqwest::Method, path: &str| s.http.request(method, s.url(path));
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (raw(reqwest::Method::GET, "/v1/counts"), StatusCode::UNAUTHORIZED, "unauthorized"),
        (
            raw(reqwest::Method::GET, "/v1/counts").bearer_auth("wrong"),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events").bearer_auth(&sari).json(&mention("x", "u-1")),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            raw(reqwest::Method::POST, "/v1/admin/tokens").bearer_auth(PRODUCER).json(&json!({})),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events")
                .bearer_auth(PRODUCER)
                .header("content-type", "application/json")
                .body("{not json"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events").bearer_auth(PRODUCER).body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events")
                .bearer_auth(PRODUCER)
                .json(&json!({"type": "notification", "kind": "hologram"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events").bearer_auth(PRODUCER).json(&event(
                "k",
                "mention",
                &[],
                None,
                json!({}),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events").bearer_auth(PRODUCER).json(
                &event("k", "mention", &["u-1"], None, json!({"target": "deal", "object_name": "x"}))
                    .as_object()
                    .map(|o| {
                        let mut o = o.clone();
                        o.insert("url".into(), json!("javascript:alert(1)"));
                        Value::Object(o)
                    }),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_event",
        ),
        (
            raw(reqwest::Method::POST, "/v1/events")
                .bearer_auth(PRODUCER)
                .header("content-type", "application/json")
                .body(format!("{{\"pad\": \"{}\"}}", "x".repeat(70 * 1024))),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            raw(reqwest::Method::GET, "/v1/notifications?tab=spam").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            raw(reqwest::Method::GET, "/v1/notifications").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            raw(reqwest::Method::GET, "/v1/notifications?tab=general&category=deals").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            raw(reqwest::Method::GET, "/v1/notifications?tab=general&cursor=zzz").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            raw(reqwest::Method::GET, "/v1/notifications?tab=general&limit=100000").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            raw(reqwest::Method::GET, "/v1/changes?since=-4").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            raw(reqwest::Method::GET, "/v1/changes?since=abc").bearer_auth(&sari),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            raw(reqwest::Method::POST, "/v1/notifications/nope/read").bearer_auth(&sari),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            raw(reqwest::Method::DELETE, "/v1/counts").bearer_auth(&sari),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (raw(reqwest::Method::GET, "/v2/whatever"), StatusCode::NOT_FOUND, "not_found"),
        (
            raw(reqwest::Method::PUT, "/v1/presence")
                .bearer_auth(&sari)
                .json(&json!({"surface": "fridge", "active": true})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ];
    for (req, status, code) in cases {
        let desc = format!("{req:?}");
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{desc}");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(resp.headers()["www-authenticate"], "Bearer");
        }
        let body: Value = resp.json().await.unwrap_or_else(|e| panic!("{desc}: not JSON: {e}"));
        assert_eq!(body["error"]["code"], code, "{desc}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // And the server is fine afterwards.
    assert_eq!(s.get(&sari, "/healthz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn shutdown_does_not_wait_for_open_streams() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut st = s.stream(&sari, None).await;
        next_of(&mut st, "presence").await;
        streams.push(st);
    }
    tokio::time::timeout(StdDuration::from_secs(10), s.running.stop()).await.expect("graceful shutdown hung");
    for mut st in streams {
        let end = tokio::time::timeout(StdDuration::from_secs(10), st.next()).await.expect("stream ends");
        assert!(end.is_none());
    }
}

#[tokio::test]
async fn a_server_that_does_not_stream_says_so() {
    let mut c = config();
    c.streaming = false;
    let s = server_with(SqliteDb::in_memory().unwrap(), c, Arc::new(ManualClock::new(t0()))).await;
    let sari = s.token("u-1", "desktop").await;
    let (status, b) = s.get(&sari, "/v1/stream").await;
    assert_eq!(
        (status, b["error"]["code"].as_str()),
        (StatusCode::NOT_IMPLEMENTED, Some("streaming_disabled"))
    );
    assert_eq!(s.get(&sari, "/v1/changes").await.0, StatusCode::OK, "polling still works");
}

/// The OpenAPI document lists exactly the routes the router serves, and every documented operation
/// answers JSON.
#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let doc: Value = serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json parses");
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    let mut documented = std::collections::BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["responses"].is_object(), "{method} {path} documents its responses");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let source = include_str!("../src/api.rs");
    let mut served = std::collections::BTreeSet::new();
    for line in source.lines().map(str::trim).filter(|l| l.starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap().to_owned();
        for method in ["get", "post", "put", "delete", "patch"] {
            if line.contains(&format!("{method}(")) {
                served.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert_eq!(documented, served, "openapi.json and api.rs disagree");

    // $refs resolve.
    let text = include_str!("../openapi.json");
    for piece in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "missing schema {name}");
    }

    let s = server().await;
    for (method, path) in &served {
        let url = s.url(&path.replace("{id}", "n_0"));
        let resp = s.http.request(method.parse().unwrap(), url).send().await.unwrap();
        let ctype =
            resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(ctype.starts_with("application/json"), "{method} {path}: {ctype}");
    }
}

#[tokio::test]
async fn now_is_the_injected_clock() {
    let s = server().await;
    assert_eq!(s.clock.now(), t0());
    let sari = s.token("u-1", "desktop").await;
    let id = s.notify(mention("m", "u-1")).await;
    s.clock.advance(Duration::minutes(5));
    let (_, r) = s.post(&sari, &format!("/v1/notifications/{id}/read"), json!({})).await;
    assert_eq!(r["read_at"], json!(t0() + Duration::minutes(5)));
}
