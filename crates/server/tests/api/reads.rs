//! Marking read: exactly the scope (NC-R6), and on every device (NC-R13).

use crate::util::*;

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
    let inbox = s.notify(blocked("c1", "u-1")).await;
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

// ORG-7: unread again on one device reaches the others live, and the counts; another user's item
// is not found (NC-R3); a second unread changes nothing.
#[tokio::test]
async fn org_7_unread_on_one_device_reaches_the_others_and_the_counts() {
    let s = server().await;
    let desktop = s.token("u-1", "desktop").await;
    let web = s.token("u-1", "web").await;
    let other = s.token("u-2", "desktop").await;
    let id = s.notify(mention("m1", "u-1")).await;
    let (_, r) = s.post(&web, &format!("/v1/notifications/{id}/read"), json!({})).await;
    assert_eq!(r["changed"], true);
    assert_eq!(s.counts(&desktop).await.total, 0);
    let mut stream = s.stream(&desktop, None).await;
    next_of(&mut stream, "presence").await;

    let (status, r) = s.post(&web, &format!("/v1/notifications/{id}/unread"), json!({})).await;
    assert_eq!((status, r["changed"].as_bool()), (StatusCode::OK, Some(true)), "{r}");
    match next_change(&mut stream).await.body {
        ChangeBody::Unread { ids } => assert_eq!(ids, vec![id.clone()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.counts(&desktop).await.total, 1);
    let listed = s.list(&desktop, "unread=true&tab=general").await.items;
    assert_eq!(listed.iter().map(|n| (n.id.as_str(), n.read_at)).collect::<Vec<_>>(), [(id.as_str(), None)]);
    // In the feed, after the read: a device catching up ends unread too.
    let kinds: Vec<String> = s
        .changes(&desktop, 0)
        .await
        .changes
        .iter()
        .map(|c| serde_json::to_value(&c.body).unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["created", "read", "unread"]);

    let (_, again) = s.post(&desktop, &format!("/v1/notifications/{id}/unread"), json!({})).await;
    assert_eq!(again["changed"], false);
    let (status, _) = s.post(&other, &format!("/v1/notifications/{id}/unread"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "NC-R3: another user's item is not there");
    let (status, _) = s.post(&desktop, "/v1/notifications/nope/unread", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
