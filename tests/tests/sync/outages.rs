//! Outages and maintenance: the server killed, an hour of 503 with Retry-After (MW-2, MW-5), deliberate re-sends (MW-4).

use crate::util::*;

// MW-2, MW-3, MW-4
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_the_server_killed_mid_stream_and_restarted_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let (clock, server, token) = file_server(&path).await;
    let addr = server.addr;
    produce_n(&server, "a", 10, t0()).await;

    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "first ten", |c| c.len() == 10 && connected(c)).await;

    server.stop().await;
    c.until(WAIT, "reconnecting, calmly", |c| {
        matches!(c.handle.status.borrow().state, ConnState::Reconnecting { .. })
    })
    .await;
    // The list stays usable while the server is away (MW-2).
    let counts = c.store.lock().unwrap().unread_counts().unwrap();
    assert_eq!(counts.total(), 10);

    let server = start_server(SqliteDb::open(&path).unwrap(), server_config(), clock.clone(), addr).await;
    produce_n(&server, "b", 15, t0()).await;
    // A producer re-sends some of the first batch: the idempotency keys hold across the restart.
    produce_n(&server, "a", 5, t0()).await;
    c.until(WAIT, "caught up after the restart", |c| c.len() == 25 && connected(c)).await;
    assert_eq!(server_total(&server).await, 25);
    // The report of an arrival may follow the store's write by a moment (seen under Wine).
    c.until(WAIT, "25 arrivals reported", |c| arrived_ids(&c.seen).len() >= 25).await;
    c.stays(Duration::from_millis(400), "25 arrivals, no more", |c| arrived_ids(&c.seen).len() == 25).await;
    assert_no_duplicates(&arrived_ids(&c.seen));
    c.stop().await;
    server.stop().await;
}

// MW-2, MW-3, MW-5
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw2_mw5_an_hour_of_503_with_retry_after_is_waited_out_and_summarised_once() {
    let (clock, server, token) = memory_server().await;
    produce_n(&server, "before", 3, t0()).await;

    let sleeper = Arc::new(FastForward::new(clock.clone()));
    let mut c = client(&server, &token, &clock, sleeper.clone());
    c.until(WAIT, "connected", |c| c.len() == 3 && connected(c)).await;

    // Maintenance from now for one hour; 23 events happen during it.
    let (start, end) = (clock.now(), clock.now() + chrono::Duration::hours(1));
    server.service.announce(start, end, "Performance enhancements".into()).await.unwrap();
    for i in 0..23 {
        let at = start + chrono::Duration::minutes(2 + i);
        server.service.submit(mention(&format!("during{i}"), AGENT, at)).await.unwrap();
    }
    c.until(WAIT, "the 23 queued items, late", |c| c.len() == 26 && connected(c)).await;
    assert!(
        c.was(|s| matches!(s, ConnState::Maintenance { until: Some(u), .. } if *u == end)),
        "the status said maintenance until its end (MW-2): {:?}",
        c.states.lock().unwrap()
    );
    c.until(WAIT, "the one summary", |c| !summaries(&c.seen).is_empty()).await;
    c.stays(Duration::from_millis(600), "one summary, no second", |c| summaries(&c.seen).len() == 1).await;

    assert_eq!(summaries(&c.seen), vec![23], "exactly one summary for the outage (MW-5)");
    let slept = sleeper.slept();
    assert!(slept >= Duration::from_secs(3600 - 60), "waited the maintenance out: {slept:?}");
    assert!(slept <= Duration::from_secs(3 * 3600), "and not absurdly longer: {slept:?}");
    let late_flags: BTreeMap<bool, usize> = c.seen.iter().fold(BTreeMap::new(), |mut m, e| {
        if let SyncEvent::Arrived { notification, late } = e {
            if notification.params.text("object_name").is_some_and(|n| n.starts_with("Deal during")) {
                *m.entry(*late).or_default() += 1;
            }
        }
        m
    });
    assert_eq!(late_flags.get(&true), Some(&23), "all arrived late: no toast each");
    assert_eq!(late_flags.get(&false), None);
    assert_no_duplicates(&arrived_ids(&c.seen));
    c.stop().await;
    server.stop().await;
}

// MW-4
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw4_deliberate_resends_after_maintenance_are_recognised_by_id() {
    let (clock, server, token) = memory_server().await;
    let mut c = client(&server, &token, &clock, Arc::new(FastForward::new(clock.clone())));
    c.until(WAIT, "connected", connected).await;

    server.service.start_maintenance(None).await.unwrap();
    c.until(WAIT, "maintenance noticed", |c| c.was(|s| matches!(s, ConnState::Maintenance { .. }))).await;
    produce_n(&server, "q", 12, t0()).await;
    for i in 0..4 {
        server.service.submit(chat_message(&format!("wa-{i}"), clock.now())).await.unwrap();
    }
    // Every second delivery is sent twice on purpose.
    server.service.end_maintenance(Some(2)).await.unwrap();
    c.until(WAIT, "all twelve", |c| c.len() == 12 && connected(c)).await;
    c.stays(Duration::from_millis(500), "twelve arrivals, none doubled", |c| {
        arrived_ids(&c.seen).len() == 12
    })
    .await;

    let feed = server.service.changes(AGENT, 0, 1000).await.unwrap();
    assert!(feed.changes.len() >= 12 + 4 + 8, "the server did re-send: {}", feed.changes.len());
    let ids = arrived_ids(&c.seen);
    assert_eq!(ids.len(), 12);
    assert_no_duplicates(&ids);
    let chats: Vec<String> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Chat(m) => Some(m.event_id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(chats.len(), 4, "each chat message once: {chats:?}");
    assert_no_duplicates(&chats);
    c.stop().await;
    server.stop().await;
}
