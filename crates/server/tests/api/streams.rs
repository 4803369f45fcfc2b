//! The SSE stream: resume without loss or doubles (MW-3), shutdown, and servers that do not stream.

use crate::util::*;

// MW-3
#[tokio::test]
async fn mw3_a_dropped_stream_resumes_after_last_event_id_with_nothing_lost_or_doubled() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let mut stream = s.stream(&sari, None).await;
    s.notify(mention("m1", "u-1")).await;
    s.notify(mention("m2", "u-1")).await;
    next_change(&mut stream).await;
    let last = next_change(&mut stream).await.seq;
    drop(stream);

    for i in 3..6 {
        s.notify(mention(&format!("m{i}"), "u-1")).await;
    }
    let mut resumed = s.stream(&sari, Some(last)).await;
    let mut seqs = Vec::new();
    for _ in 0..3 {
        seqs.push(next_change(&mut resumed).await.seq);
    }
    assert_eq!(seqs, vec![last + 1, last + 2, last + 3]);
    s.notify(mention("m6", "u-1")).await;
    assert_eq!(next_change(&mut resumed).await.seq, last + 4, "then live, without a repeat");
}

// MW-3
#[tokio::test]
async fn mw3_streams_resume_after_a_server_restart_on_the_same_database() {
    let db = Durable::new().await;
    let clock = Arc::new(ManualClock::new(t0()));

    let s = server_with(db.open().await, config(), clock.clone()).await;
    let sari = s.token("u-1", "desktop").await;
    let mut stream = s.stream(&sari, None).await;
    s.notify(mention("m1", "u-1")).await;
    let last = next_change(&mut stream).await.seq;
    drop(stream);
    tokio::time::timeout(StdDuration::from_secs(10), s.running.stop()).await.expect("stops");

    let s = server_with(db.open().await, config(), clock).await;
    s.notify(mention("m2", "u-1")).await;
    let (_, dup) = s.produce(mention("m1", "u-1")).await;
    assert_eq!(dup["duplicate"], true, "idempotency keys survive the restart");
    let mut resumed = s.stream(&sari, Some(last)).await; // the token survived too
    let c = next_change(&mut resumed).await;
    assert_eq!(c.seq, last + 1);
    assert_eq!(s.list(&sari, "tab=general").await.items.len(), 2);
}

#[tokio::test]
async fn shutdown_does_not_wait_for_open_streams() {
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut st = s.stream(&sari, None).await;
        next_of(&mut st, "presence").await;
        streams.push(st);
    }
    tokio::time::timeout(StdDuration::from_secs(10), s.running.stop()).await.expect("graceful shutdown hung");
    for mut st in streams {
        let end = tokio::time::timeout(StdDuration::from_secs(10), st.next()).await.expect("stream ends");
        assert!(end.is_none());
    }
}

#[tokio::test]
async fn a_server_that_does_not_stream_says_so() {
    let mut c = config();
    c.streaming = false;
    let s = server_with(fresh_db().await, c, Arc::new(ManualClock::new(t0()))).await;
    let sari = s.token("u-1", "desktop").await;
    let (status, b) = s.get(&sari, "/v1/stream").await;
    assert_eq!(
        (status, b["error"]["code"].as_str()),
        (StatusCode::NOT_IMPLEMENTED, Some("streaming_disabled"))
    );
    assert_eq!(s.get(&sari, "/v1/changes").await.0, StatusCode::OK, "polling still works");
}
