//! Actions taken offline are sent when back and never undone (MW-6, NC-R13).

use crate::util::*;

// MW-6, NC-R13
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw6_actions_taken_offline_are_sent_when_back_and_never_undone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.db");
    let (clock, server, token) = file_server(&path).await;
    let addr = server.addr;
    produce_n(&server, "x", 9, t0()).await; // 3 Inbox, 6 General
    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "synced", |c| c.len() == 9 && connected(c)).await;
    server.stop().await;
    c.until(WAIT, "offline", |c| !connected(c)).await;

    let one_general = {
        let mut store = c.store.lock().unwrap();
        let page = store
            .page(&lonceng_client::store::ListQuery {
                scope: Scope::new(Tab::General, None).unwrap(),
                unread_only: false,
                after: None,
                limit: 1,
            })
            .unwrap();
        let id = page.items[0].id.clone();
        assert!(store.mark_read(&id, clock.now()).unwrap());
        store
            .mark_all_read(Scope::new(Tab::Inbox, Some(Category::ChatAssignment)).unwrap(), clock.now())
            .unwrap();
        assert_eq!(store.outbox_pending(10, clock.now() + UNDO_WINDOW).unwrap().len(), 2);
        id
    };
    // Past the mark-all's undo window, both actions are due.
    clock.advance(UNDO_WINDOW + chrono::Duration::seconds(1));
    c.handle.nudge();

    let server = start_server(SqliteDb::open(&path).unwrap(), server_config(), clock.clone(), addr).await;
    c.until(WAIT, "outbox drained", |c| {
        connected(c) && c.store.lock().unwrap().outbox_pending(10, far_future()).unwrap().is_empty()
    })
    .await;
    let counts = server.service.counts(AGENT).await.unwrap();
    assert_eq!(counts.tabs[&Tab::Inbox], 0, "the offline mark-all reached the server");
    assert_eq!(counts.tabs[&Tab::General], 5, "and the offline mark-read");
    // Stale copies (every original, unread `created` change, replayed from the start of the feed by a
    // restarted client) do not undo what was read.
    let mut store = c.into_store().await;
    store.set_state(lonceng_client::store::CURSOR_KEY, "0").unwrap();
    server.service.submit(mention("later", AGENT, t0())).await.unwrap();
    let source = LoncengSource::new(&server.url(), &token).unwrap();
    let mut c = TestClient::start(source, store, clock.clone(), Arc::new(TokioSleeper), fast_config());
    c.until(WAIT, "the replay and the next item", |c| c.len() == 10 && connected(c)).await;
    {
        let store = c.store.lock().unwrap();
        assert!(store.get(&one_general).unwrap().unwrap().read_at.is_some());
        assert_eq!(store.unread_counts().unwrap().tab(Tab::Inbox), 0);
        assert_eq!(store.unread_counts().unwrap().tab(Tab::General), 6, "5 left from before, 1 new");
    }
    // The report of an arrival may follow the store's write by a moment.
    c.until(WAIT, "the new item reported", |c| !arrived_ids(&c.seen).is_empty()).await;
    c.stays(Duration::from_millis(400), "only the new item is new", |c| arrived_ids(&c.seen).len() == 1)
        .await;
    c.stop().await;
    server.stop().await;
}

// ORG-7 (as NC-R13 for a read): unread again on this device reaches the server, and unread again
// on another device (after a mark-all here) reaches this one, live, with the counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_7_unread_again_is_synced_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, server, token) = file_server(&dir.path().join("server.db")).await;
    produce_n(&server, "u", 3, t0()).await; // 1 Inbox, 2 General
    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "synced", |c| c.len() == 3 && connected(c)).await;
    let general = Scope::new(Tab::General, None).unwrap();
    let ids: Vec<String> = {
        let store = c.store.lock().unwrap();
        let q =
            lonceng_client::store::ListQuery { scope: general, unread_only: false, after: None, limit: 10 };
        store.page(&q).unwrap().items.into_iter().map(|n| n.id).collect()
    };
    // Read here, then unread here: the server ends with it unread.
    let general_unread = || async { server.service.counts(AGENT).await.unwrap().tabs[&Tab::General] };
    c.store.lock().unwrap().mark_read(&ids[0], clock.now()).unwrap();
    c.handle.nudge();
    c.until(WAIT, "the read sent", outbox_sent).await;
    assert_eq!(general_unread().await, 1, "the read reached the server");
    assert!(c.store.lock().unwrap().mark_unread(&ids[0], clock.now()).unwrap());
    c.handle.nudge();
    c.until(WAIT, "the unread sent", outbox_sent).await;
    assert_eq!(general_unread().await, 2, "the unread reached the server");

    // A mark-all here, then the web marks one unread: it comes back here, counted.
    c.store.lock().unwrap().mark_all_read(general, clock.now()).unwrap();
    clock.advance(UNDO_WINDOW + chrono::Duration::seconds(1));
    c.handle.nudge();
    c.until(WAIT, "the mark-all sent", outbox_sent).await;
    assert_eq!(general_unread().await, 0, "the mark-all reached the server");
    server.service.mark_unread(AGENT, &ids[1]).await.unwrap();
    c.until(WAIT, "unread again here", |c| {
        let store = c.store.lock().unwrap();
        store.get(&ids[1]).unwrap().is_some_and(|n| n.read_at.is_none())
            && store.unread_counts().unwrap().tab(Tab::General) == 1
    })
    .await;
    c.stop().await;
    server.stop().await;
}

/// Every action this client took has been accepted by the server.
fn outbox_sent(c: &TestClient) -> bool {
    c.store.lock().unwrap().outbox_pending(10, far_future()).unwrap().is_empty()
}
