//! Connections that die quietly, machines that sleep, servers that do not stream, and absences longer than retention.

use crate::util::*;

// MW-2 (dead connections)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw2_a_connection_that_goes_silent_is_detected_by_missing_keepalives_and_replaced() {
    let (clock, server, token) = memory_server().await;
    let proxy = Proxy::start(server.addr).await;
    let source = LoncengSource::new(&format!("http://{}", proxy.addr), &token).unwrap();
    let config = SyncConfig { keepalive_timeout: Duration::from_millis(1200), ..fast_config() };
    let mut c = TestClient::start(
        source,
        Store::open_in_memory().unwrap(),
        clock.clone(),
        Arc::new(TokioSleeper),
        config,
    );
    c.until(WAIT, "connected through the proxy", connected).await;

    proxy.freeze_open_connections();
    server.service.submit(mention("lost-in-the-hole", AGENT, t0())).await.unwrap();
    c.until(WAIT, "reconnected through a new connection and caught up", |c| c.len() == 1 && connected(c))
        .await;
    assert!(c.was(|s| matches!(s, ConnState::Reconnecting { .. })), "the silent stream was declared dead");
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jump_of_the_wall_clock_reconnects_at_once() {
    let (clock, server, token) = memory_server().await;
    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "connected", connected).await;
    let before = c.handle.status.borrow().last_synced_at.unwrap();

    // The laptop slept for two hours: wall time moved, monotonic time did not.
    clock.advance(chrono::Duration::hours(2));
    c.until(WAIT, "a fresh session after waking", |c| {
        c.handle.status.borrow().last_synced_at.is_some_and(|t| t >= before + chrono::Duration::hours(2))
    })
    .await;
    assert!(connected(&c));
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_streaming_the_engine_polls() {
    let clock = Arc::new(ManualClock::new(t0()));
    let mut config = server_config();
    config.streaming = false;
    let server = start_server(SqliteDb::in_memory().unwrap(), config, clock.clone(), any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    let source =
        LoncengSource::new(&server.url(), &token).unwrap().with_poll_interval(Duration::from_millis(100));
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "connected, polling", |c| {
        matches!(c.handle.status.borrow().state, ConnState::Connected { streaming: false })
    })
    .await;
    produce_n(&server, "p", 4, t0()).await;
    c.until(WAIT, "polled in", |c| c.len() == 4).await;
    c.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nc_r5_away_longer_than_a_tab_keeps_items_is_reported_per_tab() {
    let (clock, server, token) = memory_server().await;
    let mut store = Store::open_in_memory().unwrap();
    store.set_state("last_synced_at", &(t0() - chrono::Duration::days(8)).to_rfc3339()).unwrap();
    let source = LoncengSource::new(&server.url(), &token).unwrap();
    let mut c = TestClient::start(source, store, clock.clone(), Arc::new(TokioSleeper), fast_config());
    c.until(WAIT, "connected", connected).await;
    let gaps: Vec<Tab> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Gap { tab } => Some(*tab),
            _ => None,
        })
        .collect();
    assert_eq!(
        gaps,
        vec![Tab::Inbox],
        "8 days away: Inbox (7 days) may have lost items, General and Approval not"
    );
    // Kept for the window, which shows it in that tab until dismissed.
    {
        let mut store = c.store.lock().unwrap();
        assert_eq!(store.gaps().unwrap(), vec![Tab::Inbox]);
        store.dismiss_gap(Tab::Inbox).unwrap();
        assert!(store.gaps().unwrap().is_empty());
    }
    c.stop().await;
    server.stop().await;
}
