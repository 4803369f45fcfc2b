//! Malformed, hostile and huge requests: a clear JSON error each, and nothing breaks.

use crate::util::*;

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

// NC-R5 at ingest, and times and links that cannot be trusted: refused with a reason, or accepted
// and listed to nobody; nothing outside RFC 3339 ever comes back.
#[tokio::test]
async fn nc_r5_times_out_of_range_links_elsewhere_and_expired_items_never_reach_a_list() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let at = |key: &str, when: Value| {
        let mut e = mention(key, "u-1");
        e["occurred_at"] = when;
        e
    };
    for (key, when) in [("y1969", json!("1969-12-31T00:00:00Z")), ("ahead", json!(t0() + Duration::days(2)))]
    {
        let (status, body) = s.produce(at(key, when)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {body}");
        assert_eq!(body["error"]["code"], "invalid_event");
        assert!(body["error"]["message"].as_str().unwrap().contains("not believable"), "{body}");
    }
    let (status, _) = s.produce(at("y10000", json!("+10000-01-01T00:00:00Z"))).await;
    assert!(status.is_client_error(), "{status}");
    let (status, body) = s.produce(at("old", json!(t0() - Duration::days(100)))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["suppressed"][0]["reason"], "expired", "{body}");
    let mut evil = mention("evil", "u-1");
    evil["url"] = json!("https://app.qontak.com@evil.example/");
    let (status, body) = s.produce(evil).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("link is refused"), "{body}");
    assert!(s.list(&sari, "tab=general").await.items.is_empty(), "nothing of it is listed");
}

/// What openapi.json publishes is exactly what the server enforces (schemathesis found each of
/// these): a query or header outside the schema is refused, and one inside it is never refused.
#[tokio::test]
async fn the_server_enforces_exactly_the_published_forms() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    for (query, want) in [
        ("tab=general&category=", StatusCode::BAD_REQUEST),
        ("tab=general&cursor=", StatusCode::BAD_REQUEST),
        ("tab=general&cursor=12:", StatusCode::BAD_REQUEST),
        ("tab=general&cursor=12345678901234:n_1", StatusCode::BAD_REQUEST),
        ("tab=general&cursor=1:n%0A1", StatusCode::BAD_REQUEST),
        // Any cursor of the published form is a position in the list, not an error.
        ("tab=general&cursor=0:0", StatusCode::OK),
        ("tab=general&cursor=9999999999999:zz-Z_9", StatusCode::OK),
    ] {
        let (status, b) = s.get(&sari, &format!("/v1/notifications?{query}")).await;
        assert_eq!(status, want, "{query}: {b}");
    }
    let (status, _) = s.get(&sari, "/v1/changes?since=99999999999999999999").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "beyond int64, as published");

    let read_all = |key: &'static [u8]| {
        s.http
            .post(s.url("/v1/notifications/read-all"))
            .bearer_auth(&sari)
            .header("Idempotency-Key", reqwest::header::HeaderValue::from_bytes(key).unwrap())
            .json(&json!({"tab": "general"}))
            .send()
    };
    for key in [&b"caf\xc3\xa9"[..], b"two words", b""] {
        let status = read_all(key).await.unwrap().status();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{:?} is not 1 to 200 visible ASCII characters", key);
    }
    assert_eq!(read_all(b"k-1").await.unwrap().status(), StatusCode::OK);

    for (body, want) in [
        (json!({"user_id": "u-1", "device_id": "x".repeat(129)}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"user_id": "é".repeat(128), "device_id": "d"}), StatusCode::OK),
        (json!({"user_id": "u-\u{0}", "device_id": "d"}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, b) = s.post(ADMIN, "/v1/admin/tokens", body).await;
        assert_eq!(status, want, "{b}");
    }
}

/// NUL and other control characters in ids are refused with a clear 422 on both backends
/// (PostgreSQL cannot keep NUL in text; SQLite could, so the rule is the same for both), and a
/// webhook body full of NULs is still kept as a dead letter.
#[tokio::test]
async fn control_characters_in_ids_are_refused_and_garbage_is_still_kept() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    for event in [
        mention("k\u{0}", "u-1"),
        mention("k-1", "u-\u{0}"),
        mention("k-2", &"u".repeat(201)),
        event(
            "k-3",
            "mention",
            &["u-1"],
            Some(("u-\u{1b}", "Budi")),
            json!({"target": "deal", "object_name": "PT"}),
        ),
        json!({"type": "chat_message", "event_id": "c\u{0}", "conversation_id": "room-1", "channel": "whatsapp",
               "sender_name": "Siti", "preview": "Halo", "recipient_id": "u-1",
               "url": "https://chat.qontak.com/inbox/room-1", "received_at": t0()}),
    ] {
        let (status, b) = s.produce(event.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{event}: {b}");
        assert_eq!(b["error"]["code"], "invalid_event", "{b}");
    }
    // Text with NUL inside parameters is data, kept and returned as it came.
    s.notify(event(
        "k-4",
        "mention",
        &["u-1"],
        Some(("u-9", "Bu\u{0}di")),
        json!({"target": "deal", "object_name": "P\u{0}T"}),
    ))
    .await;
    let items = s.list(&sari, "tab=general").await.items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].params["object_name"], "P\u{0}T");

    let (_, b) = s.post(ADMIN, "/v1/admin/qontak/webhook-secrets", json!({})).await;
    let path = b["path"].as_str().unwrap().to_owned();
    let resp = s
        .http
        .post(s.url(&path))
        .header("content-type", "application/json")
        .body(b"\x00{\"x\x00\": 1}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["status"], "dead_letter", "{answer}");
    let (_, letters) = s.get(ADMIN, "/v1/admin/qontak/dead-letters").await;
    let body = letters["items"][0]["body"].as_str().unwrap();
    assert!(!body.contains('\0') && body.contains('\u{fffd}'), "{body:?}");
}
