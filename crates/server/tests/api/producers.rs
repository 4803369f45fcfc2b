//! Producer events: what the rules did with them (NC-R1, NC-R2, NC-R4), and re-sends (MW-4).

use crate::util::*;

// NC-R1, NC-R2, NC-R4
#[tokio::test]
async fn nc_r1_nc_r2_nc_r4_producers_get_told_what_the_rules_did() {
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
