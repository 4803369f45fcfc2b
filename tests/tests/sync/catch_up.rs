//! Catching up from the cursor (MW-3): a new client, and a client killed in the middle.

use crate::util::*;

// MW-3
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_a_new_client_catches_up_then_follows_live_without_toasting_the_backlog() {
    let (clock, server, token) = memory_server().await;
    produce_n(&server, "old", 30, t0() - chrono::Duration::hours(3)).await;

    let mut c = client(&server, &token, &clock, Arc::new(TokioSleeper));
    c.until(WAIT, "backlog stored and live", |c| c.len() == 30 && connected(c)).await;
    assert!(matches!(c.handle.status.borrow().state, ConnState::Connected { streaming: true }));

    server.service.submit(mention("fresh", AGENT, t0())).await.unwrap();
    c.until(WAIT, "the live item", |c| c.len() == 31).await;
    // Its arrival is reported just after it is stored.
    c.until(WAIT, "the live item's arrival reported", |c| arrived_ids(&c.seen).len() == 31).await;
    c.stays(Duration::from_millis(400), "31 arrivals, no more", |c| arrived_ids(&c.seen).len() == 31).await;
    let fresh: Vec<bool> = c
        .seen
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Arrived { late, .. } => Some(*late),
            _ => None,
        })
        .collect();
    assert_eq!(fresh.iter().filter(|l| **l).count(), 30, "the backlog is late: quiet");
    assert_eq!(fresh.iter().filter(|l| !**l).count(), 1, "the live item is fresh: it may toast");
    assert!(summaries(&c.seen).is_empty(), "a first sync is not an outage: no summary");
    assert_no_duplicates(&arrived_ids(&c.seen));
    c.stop().await;
    server.stop().await;
}

// MW-3 (client killed mid-catch-up)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mw3_a_client_killed_in_the_middle_of_a_catch_up_resumes_exactly() {
    let clock = Arc::new(lonceng_domain::clock::SystemClock);
    let server = start_server(SqliteDb::in_memory().unwrap(), server_config(), clock, any_port()).await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    produce_n(&server, "k", 6_000, Utc::now()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("client.db");
    let client = |until: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_sync-client"));
        cmd.args(["--server", &server.url(), "--token", &token]).arg("--db").arg(&db);
        if until {
            cmd.arg("--until-caught-up");
        }
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
        cmd.spawn().expect("sync-client starts")
    };

    // First run: killed as soon as it has stored part of the backlog.
    let mut child = client(false);
    let stdout = child.stdout.take().unwrap();
    let partial = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("progress items=").and_then(|n| n.parse::<u64>().ok()) {
                if n > 0 {
                    return n;
                }
            }
        }
        0
    })
    .await
    .unwrap();
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(partial > 0 && partial < 6_000, "killed mid-catch-up: {partial}");

    // What survived is consistent: counters match the rows, the cursor matches the items.
    {
        let store = Store::open(&db).unwrap();
        assert_eq!(store.unread_counts().unwrap(), store.recount_unread().unwrap());
        let stored = store.len().unwrap();
        assert!(stored >= partial, "{stored} < {partial}");
    }

    // Second run: resumes from its cursor and completes.
    let child = client(true);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("caught-up items=6000"), "{text}");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.len().unwrap(), 6_000);
    assert_eq!(store.unread_counts().unwrap().total(), 6_000);
    server.stop().await;
}
