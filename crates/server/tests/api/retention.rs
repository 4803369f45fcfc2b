//! Retention through the change feed (NC-R5).

use crate::util::*;

// NC-R5
#[tokio::test]
async fn nc_r5_retention_expires_items_through_the_change_feed() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let inbox = s.notify(blocked("c1", "u-1")).await;
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
