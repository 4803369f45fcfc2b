//! Several server nodes on one PostgreSQL database behind nginx, as docs/DEPLOY.md deploys them, and
//! what an agent must not notice: which node she streams from, a node killed under her, PostgreSQL
//! restarting.
//!
//! The tests are `#[ignore]`d: they need PostgreSQL's and nginx's programs, which `scripts/test.sh`
//! installs before it runs them (`cargo test -p lonceng-server --test cluster -- --ignored`). Unix
//! only: the deployment is Linux's (Debian's PostgreSQL and nginx, signals, `runuser`).
#![cfg(unix)]

mod harness;

use std::collections::BTreeSet;

use harness::*;
use reqwest::StatusCode;
use serde_json::json;

/// Three nodes on a fresh cluster, and nginx in front.
struct Deployment {
    dir: tempfile::TempDir,
    pg: Postgres,
    nodes: Vec<Node>,
    nginx: Nginx,
}

async fn deploy() -> Deployment {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.url("postgres");
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        nodes.push(node(&db, dir.path(), name).await);
    }
    let nginx = Nginx::start(dir.path(), &nodes.iter().collect::<Vec<_>>()).await;
    Deployment { dir, pg, nodes, nginx }
}

// NC-R13
#[tokio::test]
#[ignore = "needs PostgreSQL and nginx: scripts/test.sh"]
async fn nc_r13_events_reads_presence_and_maintenance_cross_nodes() {
    let d = deploy().await;
    let (a, b, c) = (d.nodes[0].url(""), d.nodes[1].url(""), d.nodes[2].url(""));
    let desk = token(&a, "u-1", "desktop").await;
    let phone = token(&b, "u-1", "phone").await;
    let on_c = Follower::start(format!("{c}/v1/stream"), desk.clone());
    let on_b = Follower::start(format!("{b}/v1/stream"), phone.clone());
    until("both streams are open", || async { on_c.connections() == 1 && on_b.connections() == 1 }).await;

    // An event posted to node A reaches the streams on B and C.
    let (s, body) = produce(&a, &mention("e1", "u-1")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let id = body["created"][0]["id"].as_str().unwrap().to_owned();
    until("the item reaches node C's stream", || async { on_c.created() == ["e1"] }).await;
    until("and node B's", || async { on_b.created() == ["e1"] }).await;

    // NC-R13: read on the desktop (through node A), the phone on node B hears of it.
    let http = reqwest::Client::new();
    let (s, _) = send(http.post(format!("{a}/v1/notifications/{id}/read")).bearer_auth(&desk)).await;
    assert_eq!(s, StatusCode::OK);
    let read_on_b = || async {
        on_b.changes.lock().unwrap().iter().any(|c| matches!(&c.body, lonceng_domain::protocol::ChangeBody::Read { ids, .. } if ids == std::slice::from_ref(&id)))
    };
    until("the read reaches node B's stream", read_on_b).await;

    // NC-R12's input: presence reported on node A reaches the desktop streaming from node C.
    let (s, _) = send(
        http.put(format!("{a}/v1/presence"))
            .bearer_auth(&phone)
            .json(&json!({"surface": "web_chat", "active": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    until("presence reaches node C's stream", || async {
        on_c.presence.lock().unwrap().iter().any(|p| p["active_in_web_chat"] == true)
    })
    .await;

    // MW-4 across nodes: one event posted to two nodes at once is applied once.
    let event = mention("twice", "u-1");
    let (x, y) = tokio::join!(produce(&a, &event), produce(&b, &event));
    assert_eq!((x.0, y.0), (StatusCode::OK, StatusCode::OK));
    let dups: Vec<bool> = [&x.1, &y.1].iter().map(|b| b["duplicate"] == true).collect();
    assert_eq!(dups.iter().filter(|d| **d).count(), 1, "exactly one is the duplicate: {x:?} {y:?}");
    until("the event's item arrives", || async { on_c.created().contains(&"twice".to_owned()) }).await;

    // MW-2 across nodes: maintenance started on node A closes client routes on node C; ended on A,
    // C serves again.
    let (s, _) =
        send(http.post(format!("{a}/v1/admin/maintenance/start")).bearer_auth(ADMIN).json(&json!({}))).await;
    assert_eq!(s, StatusCode::OK);
    until("node C is in maintenance", || async {
        http.get(format!("{c}/v1/counts"))
            .bearer_auth(&desk)
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
    })
    .await;
    let (s, _) =
        send(http.post(format!("{a}/v1/admin/maintenance/end")).bearer_auth(ADMIN).json(&json!({}))).await;
    assert_eq!(s, StatusCode::OK);
    until("node C serves again", || async {
        http.get(format!("{c}/v1/counts"))
            .bearer_auth(&desk)
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
    })
    .await;

    // Each stream got every change once, in order.
    for f in [&on_b, &on_c] {
        let seqs = f.seqs();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        assert_eq!(f.created(), ["e1", "twice"]);
    }
    drop(d.dir);
}

/// The node whose `/metrics` shows the one open stream.
async fn streaming_node(nodes: &[Node]) -> Option<usize> {
    for (i, n) in nodes.iter().enumerate() {
        if open_streams(n).await == 1 {
            return Some(i);
        }
    }
    None
}

// MW-3
#[tokio::test]
#[ignore = "needs PostgreSQL and nginx: scripts/test.sh"]
async fn mw3_a_node_killed_under_a_stream_loses_and_doubles_nothing() {
    let mut d = deploy().await;
    let lb = d.nginx.url("");
    let desk = token(&lb, "u-1", "desktop").await;
    let follower = Follower::start(d.nginx.url("/v1/stream"), desk);
    until("the stream is open", || async { follower.connections() == 1 }).await;
    until("a node reports the stream", || async { streaming_node(&d.nodes).await.is_some() }).await;
    let serving = streaming_node(&d.nodes).await.unwrap();

    let mut posted = Vec::new();
    for i in 0..5 {
        let key = format!("before-{i}");
        assert_eq!(produce(&lb, &mention(&key, "u-1")).await.0, StatusCode::OK);
        posted.push(key);
    }
    until("the first five arrive", || async { follower.created().len() == 5 }).await;

    d.nodes[serving].kill();
    // Posted while the desktop reconnects: nginx sends these to the nodes that are left.
    for i in 0..5 {
        let key = format!("after-{i}");
        assert_eq!(produce(&lb, &mention(&key, "u-1")).await.0, StatusCode::OK, "{key}");
        posted.push(key);
    }
    until("all ten arrive", || async { follower.created().len() >= 10 }).await;
    holds_for("nothing more arrives", std::time::Duration::from_secs(1), || async {
        follower.created().len() == 10
    })
    .await;
    assert_eq!(follower.created(), posted, "each once, in order");
    let seqs = follower.seqs();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no gap, no repeat");
    assert!(follower.connections() >= 2, "the stream came back through nginx");
    let others: Vec<&Node> =
        d.nodes.iter().enumerate().filter(|(i, _)| *i != serving).map(|(_, n)| n).collect();
    let mut streaming = 0;
    for n in others {
        streaming += open_streams(n).await;
    }
    assert_eq!(streaming, 1, "the stream is on one of the nodes left");
}

// MW-2, MW-3
#[tokio::test]
#[ignore = "needs PostgreSQL and nginx: scripts/test.sh"]
async fn mw2_mw3_postgres_restarting_gives_clear_503s_and_loses_nothing_acknowledged() {
    let d = deploy().await;
    let lb = d.nginx.url("");
    let desk = token(&lb, "u-1", "desktop").await;
    let follower = Follower::start(d.nginx.url("/v1/stream"), desk.clone());
    until("the stream is open", || async { follower.connections() == 1 }).await;
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let key = format!("before-{i}");
        assert_eq!(produce(&lb, &mention(&key, "u-1")).await.0, StatusCode::OK);
        acknowledged.push(key);
    }

    d.pg.down();
    let http = reqwest::Client::new();
    // Producers get 503 with Retry-After (never 500, never a hang); readiness fails on every node.
    for i in 0..6 {
        let resp = http
            .post(d.nginx.url("/v1/events"))
            .bearer_auth(PRODUCER)
            .header("X-Request-Id", format!("while-down-{i}"))
            .json(&mention(&format!("down-{i}"), "u-1"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(resp.headers().contains_key("retry-after"));
        assert_eq!(resp.headers()["x-request-id"], format!("while-down-{i}").as_str());
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
    }
    for n in &d.nodes {
        assert_eq!(
            http.get(n.url("/readyz")).send().await.unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            http.get(n.url("/healthz")).send().await.unwrap().status(),
            StatusCode::OK,
            "alive all the same"
        );
    }
    // Structured logs: the node that answered logged the failure with the request's id.
    let logged = || {
        d.nodes.iter().any(|n| {
            n.logs().lines().any(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .is_ok_and(|v| v["span"]["request_id"] == "while-down-0" && v["level"] == "WARN")
            })
        })
    };
    if !logged() {
        let logs: Vec<String> = d.nodes.iter().map(Node::logs).collect();
        panic!("no node logged the failure with the request id:\n{}", logs.join("\n---\n"));
    }

    d.pg.up();
    until("every node is ready again", || async {
        let mut ready = true;
        for n in &d.nodes {
            ready &= http.get(n.url("/readyz")).send().await.is_ok_and(|r| r.status() == StatusCode::OK);
        }
        ready
    })
    .await;
    for i in 0..3 {
        let key = format!("after-{i}");
        assert_eq!(produce(&lb, &mention(&key, "u-1")).await.0, StatusCode::OK);
        acknowledged.push(key);
    }
    until("everything acknowledged reaches the desktop", || async {
        follower.created().len() >= acknowledged.len()
    })
    .await;
    assert_eq!(follower.created(), acknowledged, "each once; nothing refused was kept");
    let (s, list) =
        send(http.get(d.nginx.url("/v1/notifications?tab=general&limit=50")).bearer_auth(&desk)).await;
    assert_eq!(s, StatusCode::OK);
    let listed: BTreeSet<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["params"]["object_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, acknowledged.iter().cloned().collect::<BTreeSet<_>>());
}
