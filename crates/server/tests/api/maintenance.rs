//! Maintenance windows: announced (MW-1), enforced with 503 and a queue (MW-2), delivered late with re-sends (MW-4).

use crate::util::*;

// MW-2, MW-3, MW-4, MW-5 (server side)
#[tokio::test]
async fn mw2_mw3_mw4_mw5_maintenance_answers_503_queues_events_and_delivers_them_late_with_resends() {
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
