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

/// A stream opened on a raw connection: the response head, as text, and the connection.
async fn raw_stream(s: &Server, token: &str) -> (String, tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.running.url().trim_start_matches("http://").to_owned();
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n");
    c.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(c.read(&mut b).await.unwrap(), 1, "the head arrives");
        head.push(b[0]);
    }
    (String::from_utf8(head).unwrap(), c)
}

/// Reads from `c` until `want` has arrived (or fails after 10 s).
async fn read_until(c: &mut tokio::net::TcpStream, want: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    tokio::time::timeout(StdDuration::from_secs(10), async {
        while !String::from_utf8_lossy(&got).contains(want) {
            let mut b = [0u8; 512];
            let n = c.read(&mut b).await.unwrap();
            assert!(n > 0, "the stream ended before {want:?}: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&b[..n]);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {want:?} in {:?}", String::from_utf8_lossy(&got)));
    String::from_utf8(got).unwrap()
}

async fn open_streams(s: &Server) -> u64 {
    let text = s.http.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("lonceng_streams_open "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

// An open stream goes on outside the HTTP machinery once its head is written (it keeps no
// per-connection buffers; docs/PERFORMANCE.md): the body runs until the connection closes, events
// and keep-alives arrive, bytes a client sends after its request change nothing, and a client that
// goes away frees its place.
#[tokio::test]
async fn an_open_stream_runs_on_its_socket_until_the_client_leaves() {
    use tokio::io::AsyncWriteExt;
    let s = server().await;
    let sari = s.token("u-1", "desktop").await;
    let (head, mut c) = raw_stream(&s, &sari).await;
    assert!(head.starts_with("HTTP/1.0 200 OK\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("content-type: text/event-stream\r\n"), "{head}");
    assert!(lower.contains("connection: close\r\n"), "{head}");
    assert!(!lower.contains("content-length") && !lower.contains("transfer-encoding"), "until close: {head}");
    read_until(&mut c, "event: presence\n").await;
    // A quiet stream says it is alive (the test server's keep-alive is 1 s).
    read_until(&mut c, ":\n\n").await;
    // Whatever the client sends now is ignored, a request included.
    c.write_all(b"GET /v1/me HTTP/1.1\r\n\r\n\x00\xff garbage").await.unwrap();
    s.notify(mention("raw-1", "u-1")).await;
    let got = read_until(&mut c, "event: change\nid: ").await;
    assert!(!got.contains("HTTP/1."), "no second answer on a stream's connection: {got}");

    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(raw_stream(&s, &sari).await.1);
    }
    let before = open_streams(&s).await;
    assert!(before >= 4, "{before}");
    drop(c);
    drop(others);
    until("the streams of clients that left to close", || async { open_streams(&s).await == 0 }).await;
}
