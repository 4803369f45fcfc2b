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

// MW-4, MW-3: events sent at once are committed together (group commit), and that changes nothing
// a producer or a device can see: each send has its own answer, a key applies once however many
// times it is in one commit, and every user's feed numbers its changes without a gap.
#[tokio::test]
async fn mw4_mw3_events_sent_at_once_each_get_their_answer_and_every_feed_stays_whole() {
    let s = server().await;
    let users = ["u-1", "u-2", "u-3", "u-4"];
    let mut tokens = Vec::new();
    for u in users {
        tokens.push(s.token(u, "desktop").await);
    }
    // 60 sends at once: each to two users (in either order), and one key sent six times.
    let sends = (0..60).map(|i| {
        let key = if i % 10 == 3 { "burst-shared".to_owned() } else { format!("burst-{i}") };
        let (a, b) = (users[i % 4], users[(i + 1 + i / 4) % 4]);
        let to = if a == b { vec![a] } else { vec![b, a] };
        let e = event(
            &key,
            "mention",
            &to,
            Some(("u-9", "Budi")),
            json!({"target": "deal", "object_name": "PT Maju"}),
        );
        let s = &s;
        async move { (key, s.produce(e).await) }
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut firsts = 0;
    let mut shared = std::collections::BTreeSet::new();
    for (key, (status, body)) in &answers {
        assert_eq!(*status, StatusCode::OK, "{key}: {body}");
        assert_eq!(body["status"], "applied", "{key}: {body}");
        let created: Vec<String> =
            body["created"].as_array().unwrap().iter().map(|c| c["id"].to_string()).collect();
        assert!(!created.is_empty(), "{key}: {body}");
        if key == "burst-shared" {
            firsts += usize::from(body["duplicate"] == false);
            shared.insert(created);
        } else {
            assert_eq!(body["duplicate"], false, "{key}: {body}");
        }
    }
    assert_eq!(firsts, 1, "the shared key applied once");
    assert_eq!(shared.len(), 1, "and every send of it was given that one's answer");
    let mut listed = 0;
    for t in &tokens {
        let feed = s.changes(t, 0).await;
        let seqs: Vec<i64> = feed.changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap, no repeat");
        let page = s.list(t, "tab=general&limit=100").await;
        assert_eq!(page.items.len(), feed.changes.len(), "one item per change");
        listed += page.items.len();
    }
    // 54 unique keys plus the shared one, each to one or two users.
    let expected: usize = (0..60)
        .filter(|i| i % 10 != 3 || *i == 3)
        .map(|i| if users[i % 4] == users[(i + 1 + i / 4) % 4] { 1 } else { 2 })
        .sum();
    assert_eq!(listed, expected);
}

// MW-3: chat toasts and items sent at once to the same users share commits (on PostgreSQL, a
// commit's items are one statement and its chats one each, in between): every feed still numbers
// its changes without a gap, each item is announced once, and each chat reaches its user once.
#[tokio::test]
async fn mw3_chats_and_items_sent_at_once_keep_every_feed_whole() {
    let s = server().await;
    let users = ["u-1", "u-2", "u-3"];
    let mut tokens = Vec::new();
    for u in users {
        tokens.push(s.token(u, "desktop").await);
    }
    let sends = (0..48).map(|i| {
        let to = users[i % 3];
        let e = if i % 4 == 1 { chat(&format!("wa-{i}"), to) } else { mention(&format!("m-{i}"), to) };
        let s = &s;
        async move { s.produce(e).await }
    });
    for (status, body) in futures_util::future::join_all(sends).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for (u, t) in users.iter().zip(&tokens) {
        let feed = s.changes(t, 0).await;
        let seqs: Vec<i64> = feed.changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "{u}: no gap, no repeat");
        let mut announced: Vec<String> = feed
            .changes
            .iter()
            .filter_map(|c| match &c.body {
                ChangeBody::Created { notification } => Some(notification.id.clone()),
                _ => None,
            })
            .collect();
        let chats = feed.changes.iter().filter(|c| matches!(c.body, ChangeBody::Chat { .. })).count();
        let mut listed: Vec<String> =
            s.list(t, "tab=general&limit=100").await.items.into_iter().map(|n| n.id).collect();
        announced.sort();
        listed.sort();
        assert_eq!(announced, listed, "{u}: each item announced once");
        assert_eq!((listed.len(), chats), (12, 4), "{u}: 12 mentions and 4 chats");
    }
}
