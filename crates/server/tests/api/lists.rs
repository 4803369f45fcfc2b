//! What a user may see and how lists page (NC-R3, NC-R9).

use crate::util::*;

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
async fn nc_r9_lists_filter_by_tab_category_and_unread_with_cursor_pages() {
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
    s.notify(blocked("c1", "u-1")).await;

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
    assert_eq!((counts.total, counts.tabs[&lonceng_domain::model::Tab::General]), (8, 7));
}
