//! Qontak Omnichannel webhooks posted to the running server: the public example payloads and their
//! variants (resolved, agent removed, re-delivered, reordered, unknown, extra and missing fields,
//! wrong secret, oversized), the right items for the right agents, nothing doubled, and the bad ones
//! kept in the dead letters with a clear reason.

use crate::util::*;

const ROOM: &str = "5113b80b-fa7d-4a50-9590-1dfd55325580";

/// The public example (shared/reference), with the room's agents, status and version given.
fn room(agents: &[&str], status: &str, at: DateTime<Utc>, data_event: &str) -> Value {
    json!({
        "id": ROOM, "name": "adrian", "status": status, "channel": "wa_cloud",
        "channel_account": "Sandbox Qontak 6", "organization_id": "859438e6-10ac-48ac-8d8c-d9d20bba8382",
        "last_message": {
            "id": "a667db6f-6b67-4320-bfc2-b098f4ed2e2a", "type": "text", "room_id": ROOM,
            "sender_type": "Models::Contact", "participant_type": "customer", "text": "asdasd",
            "channel": "wa_cloud", "created_at": "2024-05-15T16:36:04.000Z"
        },
        "unread_count": 1, "agent_ids": agents,
        "resolved_at": null, "resolved_by_id": null, "resolved_by_type": null,
        "updated_at": at, "data_event": data_event
    })
}

fn message(id: &str, room_id: &str, text: &str) -> Value {
    json!({
        "webhook_event": "message_interaction", "data_event": "receive_message_from_customer",
        "id": id, "room_id": room_id, "sender_id": "contact-1", "is_agent": false, "text": text,
        "created_at": t0(), "room": {"id": room_id, "name": "adrian", "channel": "wa_cloud"},
        "sender": {"name": "Adrian", "participant_type": "customer"}
    })
}

/// A server with Sari (`qa-1`) and Budi (`qa-2`) linked, and a webhook URL.
struct Qontak {
    s: Server,
    path: String,
    sari: String,
    budi: String,
}

async fn qontak() -> Qontak {
    let s = server().await;
    let sari = s.token("u-sari", "desktop").await;
    let budi = s.token("u-budi", "desktop").await;
    for (user, name, agent) in [("u-sari", "Sari", "qa-1"), ("u-budi", "Budi", "qa-2")] {
        let (st, b) = s.post(ADMIN, "/v1/admin/users", json!({"id": user, "name": name})).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
        let (st, b) =
            s.put(ADMIN, &format!("/v1/admin/users/{user}/qontak"), json!({"agent_id": agent})).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let (st, b) = s.post(ADMIN, "/v1/admin/qontak/webhook-secrets", json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let path = b["path"].as_str().unwrap().to_owned();
    Qontak { s, path, sari, budi }
}

impl Qontak {
    async fn hook(&self, body: &Value) -> (StatusCode, Value) {
        self.s.send(self.s.http.post(self.s.url(&self.path)).json(body)).await
    }

    async fn hook_raw(&self, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        self.s
            .send(
                self.s
                    .http
                    .post(self.s.url(&self.path))
                    .header("content-type", "application/json")
                    .body(body),
            )
            .await
    }

    async fn inbox(&self, token: &str) -> Vec<lonceng_domain::model::WireNotification> {
        self.s.list(token, "tab=inbox").await.items
    }

    async fn dead_letters(&self) -> Vec<Value> {
        let (st, b) = self.s.get(ADMIN, "/v1/admin/qontak/dead-letters").await;
        assert_eq!(st, StatusCode::OK, "{b}");
        b["items"].as_array().unwrap().clone()
    }
}

// NC-R1, NC-R3, MW-4 for Qontak room webhooks
#[tokio::test]
async fn room_webhooks_give_the_right_items_to_the_right_agents_once() {
    let q = qontak().await;
    let at = |m: i64| t0() + Duration::minutes(m);

    // The room arrives unassigned: nobody to tell.
    let (st, b) = q.hook(&room(&[], "unassigned", at(0), "room_created")).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("applied")), "{b}");
    assert!(q.inbox(&q.sari).await.is_empty());

    // Sari is added: Inbox · Assignment for her alone, opening the room.
    let (st, b) = q.hook(&room(&["qa-1"], "assigned", at(1), "add_agent")).await;
    assert_eq!((st, b["created"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    let items = q.inbox(&q.sari).await;
    assert_eq!(items.len(), 1);
    let n = &items[0];
    assert_eq!((n.kind.as_str(), n.category.as_str()), ("conversation_assigned", "chat_assignment"));
    assert_eq!(
        (n.params["contact_name"].as_str(), n.params["channel"].as_str()),
        (Some("adrian"), Some("whatsapp"))
    );
    assert_eq!(n.url, format!("https://chat.qontak.com/inbox/{ROOM}"));
    assert!(q.inbox(&q.budi).await.is_empty(), "NC-R3: Budi is not in the room");

    // Re-delivered (Qontak re-sends), here to the URL as registered with a trailing slash: it
    // is the same webhook, and nothing is doubled.
    let slash = q.s.http.post(q.s.url(&format!("{}/", q.path)));
    let (st, b) = q.s.send(slash.json(&room(&["qa-1"], "assigned", at(1), "add_agent"))).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{b}");
    // Budi joins: only Budi hears of it (Sari was there already); an extra field changes nothing.
    let mut joined = room(&["qa-1", "qa-2"], "assigned", at(2), "add_agent");
    joined["a_field_from_the_future"] = json!({"nested": [1, 2]});
    assert_eq!(q.hook(&joined).await.1["created"], 1);
    assert_eq!(q.inbox(&q.sari).await.len(), 1);
    assert_eq!(q.inbox(&q.budi).await.len(), 1);

    // Reordered: the older "unassigned" version arriving late changes nothing.
    let (st, b) = q.hook(&room(&[], "unassigned", at(0) + Duration::seconds(30), "room_updated")).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("stale")), "{b}");

    // Budi resolves it: Sari gets Inbox · Resolved naming him; Budi nothing (NC-R1: his own act).
    let mut resolved = room(&["qa-1", "qa-2"], "resolved", at(3), "resolve_room");
    resolved["resolved_by_id"] = json!("qa-2");
    resolved["resolved_by_type"] = json!("Models::User");
    assert_eq!(q.hook(&resolved).await.1["created"], 1);
    let sari = q.inbox(&q.sari).await;
    assert_eq!(sari[0].kind.as_str(), "conversation_resolved");
    assert_eq!(sari[0].params["actor"].as_str(), Some("Budi"));
    assert_eq!(q.inbox(&q.budi).await.len(), 1, "no Resolved for the agent who resolved it");

    // Reopened without Budi: removing an agent tells nobody.
    let (_, b) = q.hook(&room(&["qa-1"], "assigned", at(4), "remove_agent")).await;
    assert_eq!(b["created"], 0, "{b}");
    assert_eq!(q.counts(&q.budi).await, 1);

    // The public example verbatim (May 2024): accepted, and past Inbox's retention (NC-R5).
    let mut old = room(&["qa-1"], "assigned", "2024-05-15T16:36:05.702Z".parse().unwrap(), "add_agent");
    old["id"] = json!("another-room");
    let (st, b) = q.hook(&old).await;
    assert_eq!((st, b["created"].as_u64()), (StatusCode::OK, Some(0)), "{b}");
    assert!(q.dead_letters().await.is_empty());
}

impl Qontak {
    async fn counts(&self, token: &str) -> u64 {
        self.s.counts(token).await.total
    }
}

// NC-R4, MW-4 for Qontak message webhooks
#[tokio::test]
async fn nc_r4_a_customer_message_is_a_chat_toast_for_the_rooms_agents_and_never_listed() {
    let q = qontak().await;
    let mut sari = q.s.stream(&q.sari, Some(0)).await;
    q.hook(&room(&["qa-1", "qa-2"], "assigned", t0(), "add_agent")).await;
    let _assigned = next_change(&mut sari).await;
    let before = q.counts(&q.sari).await;

    let (st, b) = q.hook(&message("m-1", ROOM, "Halo kak, pesanan saya?")).await;
    assert_eq!((st, b["chats"].as_u64()), (StatusCode::OK, Some(2)), "{b}");
    let change = next_change(&mut sari).await;
    let ChangeBody::Chat { message: chat } = change.body else { panic!("{change:?}") };
    assert_eq!((chat.sender_name.as_str(), chat.preview.as_str()), ("Adrian", "Halo kak, pesanan saya?"));
    assert_eq!((chat.conversation_id.as_str(), chat.channel.as_str()), (ROOM, "whatsapp"));
    assert_eq!(q.counts(&q.sari).await, before, "never listed or counted");

    // Re-delivered: nothing new; an agent's own message and a delivery status are not notified.
    assert_eq!(q.hook(&message("m-1", ROOM, "Halo kak, pesanan saya?")).await.1["status"], "duplicate");
    let mut own = message("m-2", ROOM, "Baik kak");
    own["data_event"] = json!("receive_message_from_agent");
    own["is_agent"] = json!(true);
    assert_eq!(q.hook(&own).await.1["status"], "ignored");
    let seq = q.s.changes(&q.sari, 0).await.cursor;
    assert_eq!(seq, change.seq, "nothing after the one chat message");

    // A message for a room not known yet is kept; replayed once the room is known, it is delivered.
    let (st, b) = q.hook(&message("m-3", "room-later", "Hi")).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::ACCEPTED, Some("dead_letter")), "{b}");
    assert!(b["reason"].as_str().unwrap().contains("room room-later is not known yet"));
    let id = b["dead_letter_id"].as_i64().unwrap();
    let mut later = room(&["qa-1"], "assigned", t0(), "add_agent");
    later["id"] = json!("room-later");
    q.hook(&later).await;
    let (st, b) = q.s.post(ADMIN, &format!("/v1/admin/qontak/dead-letters/{id}/replay"), json!({})).await;
    assert_eq!((st, b["chats"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    assert!(q.dead_letters().await.is_empty(), "a replayed letter goes");
}

#[tokio::test]
async fn bad_bodies_are_kept_with_their_reason_never_5xx_and_never_twice() {
    let q = qontak().await;
    let cases: [(&str, Vec<u8>); 6] = [
        ("the body is not JSON", b"{not json".to_vec()),
        ("not an object", b"[1, 2, 3]".to_vec()),
        (
            "unknown event: data_event 'contact_merged'",
            br#"{"data_event": "contact_merged", "id": "x"}"#.to_vec(),
        ),
        (
            "a room event without id",
            br#"{"status": "assigned", "agent_ids": [], "updated_at": "2026-01-20T01:00:00Z"}"#.to_vec(),
        ),
        ("without updated_at", br#"{"id": "r", "status": "assigned", "agent_ids": ["qa-1"]}"#.to_vec()),
        (
            "agent_ids is not valid",
            br#"{"id": "r", "agent_ids": [{"x": 1}], "updated_at": "2026-01-20T01:00:00Z"}"#.to_vec(),
        ),
    ];
    for (why, body) in &cases {
        let (st, b) = q.hook_raw(body.clone()).await;
        assert_eq!((st, b["status"].as_str()), (StatusCode::ACCEPTED, Some("dead_letter")), "{why}: {b}");
        assert!(b["reason"].as_str().unwrap().contains(why), "{why}: {b}");
        // Re-sent as Qontak does: kept once.
        assert_eq!(q.hook_raw(body.clone()).await.1["dead_letter_id"], b["dead_letter_id"]);
    }
    let letters = q.dead_letters().await;
    assert_eq!(letters.len(), cases.len());
    assert_eq!(letters[0]["source"], "qontak_webhook");
    assert_eq!(
        letters[0]["body"],
        String::from_utf8_lossy(&cases[5].1).as_ref(),
        "newest first, body as received"
    );

    // Paged with `before`.
    let (_, page) = q.s.get(ADMIN, "/v1/admin/qontak/dead-letters?limit=4").await;
    let before = page["next_before"].as_i64().unwrap();
    let (_, rest) = q.s.get(ADMIN, &format!("/v1/admin/qontak/dead-letters?limit=4&before={before}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert!(rest["next_before"].is_null());

    // A replay that still fails keeps the letter and counts the attempt.
    let id = letters[0]["id"].as_i64().unwrap();
    let (st, b) = q.s.post(ADMIN, &format!("/v1/admin/qontak/dead-letters/{id}/replay"), json!({})).await;
    assert_eq!((st, b["status"].as_str()), (StatusCode::OK, Some("dead_letter")), "{b}");
    assert_eq!(q.dead_letters().await[0]["replays"], 1);
    let (st, _) = q.s.post(ADMIN, "/v1/admin/qontak/dead-letters/999999/replay", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) = q.s.post(ADMIN, "/v1/admin/qontak/dead-letters/n_0/replay", json!({})).await;
    assert_eq!((st, b["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_path")), "{b}");

    // Oversized: refused (413) without keeping it, but only for a caller with the secret.
    let huge = format!(r#"{{"id": "r", "name": "{}"}}"#, "x".repeat(300 * 1024));
    let (st, b) = q.hook_raw(huge.clone()).await;
    assert_eq!(
        (st, b["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")),
        "{b}"
    );
    let (st, _) = q.s.send(q.s.http.post(q.s.url("/v1/integrations/qontak/webhooks/wrong")).body(huge)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(q.dead_letters().await.len(), cases.len());
}

#[tokio::test]
async fn webhook_secrets_are_created_listed_rotated_and_only_shown_once() {
    let q = qontak().await;
    let body = room(&[], "unassigned", t0(), "room_created");
    // Wrong, truncated or extended secrets: "no such path", like any path that does not exist.
    let secret = q.path.rsplit('/').next().unwrap().to_owned();
    for wrong in ["nope".to_owned(), secret[..secret.len() - 1].to_owned(), format!("{secret}0")] {
        let (st, b) = q
            .s
            .send(q.s.http.post(q.s.url(&format!("/v1/integrations/qontak/webhooks/{wrong}"))).json(&body))
            .await;
        assert_eq!((st, b["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{wrong}");
    }
    assert_eq!(q.hook(&body).await.0, StatusCode::OK);

    let (st, list) = q.s.get(ADMIN, "/v1/admin/qontak/webhook-secrets").await;
    assert_eq!(st, StatusCode::OK);
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert!(!list.to_string().contains(&secret), "the secret is shown once, at creation");
    assert!(list[0]["last_used_at"].is_string());
    assert_eq!(q.s.get("not-admin", "/v1/admin/qontak/webhook-secrets").await.0, StatusCode::UNAUTHORIZED);

    // Rotated: both work for a day, so that Qontak's settings can be changed; then only the new one.
    let (st, rotated) =
        q.s.post(ADMIN, &format!("/v1/admin/qontak/webhook-secrets/{id}/rotate"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{rotated}");
    let new_path = rotated["path"].as_str().unwrap().to_owned();
    assert_ne!(new_path, q.path);
    assert_eq!(q.hook(&body).await.0, StatusCode::OK, "the old secret still works");
    q.s.clock.advance(Duration::hours(25));
    assert_eq!(q.hook(&body).await.0, StatusCode::NOT_FOUND, "the old secret has expired");
    let (st, _) = q.s.send(q.s.http.post(q.s.url(&new_path)).json(&body)).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = q.s.post(ADMIN, "/v1/admin/qontak/webhook-secrets/wh_none/rotate", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn agent_links_are_checked_unique_and_listed() {
    let q = qontak().await;
    let link = |user: &str, body: Value| {
        let path = format!("/v1/admin/users/{user}/qontak");
        let req = q.s.http.put(q.s.url(&path)).bearer_auth(ADMIN).json(&body);
        q.s.send(req)
    };
    let (st, b) = link("u-nobody", json!({"agent_id": "qa-9"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{b}");
    let (st, b) = link("u-budi", json!({"agent_id": "qa-1"})).await;
    assert_eq!((st, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("linked to user 'u-sari'"));
    let (st, _) = link("u-budi", json!({"agent_id": "x".repeat(129)})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = link("u-budi", json!({"agent": "qa-2"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields are refused, not ignored");
    let (st, b) = link("u-budi", json!(["qa-2", "sso-budi"])).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "an array is not an object: {b}");
    let (st, _) = link("u-budi", json!({"agent_id": "qa\u{7}2"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "control characters are refused as in webhooks");
    let (st, b) = link("u-budi", json!({"agent_id": "qa-2", "crm_sso_id": "sso-budi"})).await;
    assert_eq!((st, b["crm_sso_id"].as_str()), (StatusCode::OK, Some("sso-budi")), "{b}");

    let (_, agents) = q.s.get(ADMIN, "/v1/admin/qontak/agents").await;
    let ids: Vec<_> =
        agents.as_array().unwrap().iter().map(|a| (a["user_id"].clone(), a["agent_id"].clone())).collect();
    assert_eq!(ids, vec![(json!("u-budi"), json!("qa-2")), (json!("u-sari"), json!("qa-1"))]);
    assert!(agents[0]["crm"].is_null(), "no CRM credentials: never polled");

    // Unlinked: a room naming Sari's agent id tells her nothing.
    assert_eq!(link("u-sari", json!({})).await.0, StatusCode::OK);
    assert_eq!(q.hook(&room(&["qa-1"], "assigned", t0(), "add_agent")).await.1["created"], 0);
}

/// Where the test's log lines go.
#[derive(Clone, Default)]
struct Logs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_webhook_secret_never_reaches_the_logs_even_at_trace_level() {
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || sink.clone())
        .finish();
    // The process's subscriber (the only test of this binary that sets one): a subscriber scoped to
    // this thread missed spans whose callsites other tests had registered meanwhile. Other tests'
    // lines land here too; none can hold this test's secret, which is made fresh below.
    tracing::subscriber::set_global_default(subscriber).expect("no other test sets a subscriber");
    let q = qontak().await;
    let secret = q.path.rsplit('/').next().unwrap().to_owned();
    q.hook(&room(&["qa-1"], "assigned", t0(), "add_agent")).await;
    q.hook_raw(b"{broken".to_vec()).await;
    q.hook_raw(vec![b' '; 300 * 1024]).await;
    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(text.contains("/v1/integrations/qontak/webhooks/…"), "the requests were logged: {text}");
    assert!(text.contains("kept as a dead letter"));
    assert!(!text.contains(&secret), "the secret is in the log");
}

// MW-4 under load: webhooks that arrive together are committed together (group commit), and each
// still gets its own answer; re-deliveries racing their first delivery create nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw4_webhooks_arriving_together_each_count_once() {
    let q = Arc::new(qontak().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        for _copy in 0..2 {
            let q = q.clone();
            tasks.push(tokio::spawn(async move {
                let mut body = room(&["qa-1"], "assigned", t0(), "add_agent");
                body["id"] = json!(format!("room-{i}"));
                let (st, b) = q.hook(&body).await;
                assert_eq!(st, StatusCode::OK, "{b}");
                b["created"].as_u64().unwrap()
            }));
        }
    }
    let mut created = 0;
    for t in tasks {
        created += t.await.unwrap();
    }
    assert_eq!(created, 40, "one Assignment per room, whatever raced");
    assert_eq!(q.inbox(&q.sari).await.len(), 40);
}
