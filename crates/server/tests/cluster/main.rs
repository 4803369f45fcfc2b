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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

    // Each stream got every change once, in order: a stream maintenance closed catches up when it
    // reconnects, which may be after node C serves again.
    until("both streams have both items", || async {
        on_b.created().len() >= 2 && on_c.created().len() >= 2
    })
    .await;
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
    // A stream that resumes needs the database too: 503 with Retry-After like the rest, not a 200
    // that ends at once (a browser would reconnect every second).
    let resp = http
        .get(d.nginx.url("/v1/stream"))
        .bearer_auth(&desk)
        .header("Last-Event-ID", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
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
    assert_eq!(follower.connections(), 1, "the open stream stayed open through the outage");
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

/// A stream opened once (never again): whether it is open, and when it ended.
struct Watched {
    open: Arc<AtomicBool>,
    ended: Arc<Mutex<Option<Instant>>>,
}

fn watch_stream(url: String, token: String) -> Watched {
    let (open, ended) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(None)));
    let (o, e) = (open.clone(), ended.clone());
    tokio::spawn(async move {
        let resp = reqwest::Client::new().get(url).bearer_auth(token).send().await.expect("the stream opens");
        assert_eq!(resp.status(), StatusCode::OK);
        let mut body = resp.bytes_stream();
        // The first frame (presence) says the stream is being served.
        if let Some(Ok(_)) = futures_util::StreamExt::next(&mut body).await {
            o.store(true, Ordering::SeqCst);
        }
        while let Some(Ok(_)) = futures_util::StreamExt::next(&mut body).await {}
        *e.lock().unwrap() = Some(Instant::now());
    });
    Watched { open, ended }
}

// ORG-2
#[tokio::test]
#[ignore = "needs PostgreSQL and nginx: scripts/test.sh"]
async fn org_2_a_device_signed_out_on_one_node_is_signed_out_on_every_node_within_a_second() {
    let d = deploy().await;
    let urls: Vec<String> = d.nodes.iter().map(|n| n.url("")).collect();
    let lost = token(&urls[0], "u-1", "lost-laptop").await;
    let kept = token(&urls[0], "u-1", "desktop").await;
    let http = reqwest::Client::new();
    // The lost laptop streams from every node (as it would after failovers); the desktop from C.
    let streams: Vec<_> = urls.iter().map(|u| watch_stream(format!("{u}/v1/stream"), lost.clone())).collect();
    let desktop = Follower::start(format!("{}/v1/stream", urls[2]), kept.clone());
    until("every stream is open", || async {
        streams.iter().all(|s| s.open.load(Ordering::SeqCst)) && desktop.connections() == 1
    })
    .await;
    for u in &urls {
        // Each node has the laptop's token in its memory of recent tokens.
        assert_eq!(send(http.get(format!("{u}/v1/me")).bearer_auth(&lost)).await.0, StatusCode::OK);
    }

    // Timed from the admin's request: the revocation is done before its answer arrives.
    let revoked_at = Instant::now();
    let (s, body) = send(
        http.post(format!("{}/v1/admin/users/u-1/devices/lost-laptop/revoke", urls[0])).bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    until("every node ended the laptop's stream", || async {
        streams.iter().all(|s| s.ended.lock().unwrap().is_some())
    })
    .await;
    for (node, watched) in urls.iter().zip(&streams) {
        let after = watched.ended.lock().unwrap().unwrap().saturating_duration_since(revoked_at);
        eprintln!("{node}: the revoked device's stream ended {after:?} after the admin asked");
        assert!(after < Duration::from_secs(1), "{node}: the stream ended {after:?} after the revocation");
    }
    // Each node reports its health to the database; any node lists all three.
    until("three nodes report", || async {
        let (_, b) = send(http.get(d.nginx.url("/v1/admin/nodes")).bearer_auth(ADMIN)).await;
        b["nodes"].as_array().is_some_and(|n| n.len() == 3 && n.iter().all(|n| n["stale"] == false))
    })
    .await;
    for u in &urls {
        assert_eq!(
            send(http.get(format!("{u}/v1/me")).bearer_auth(&lost)).await.0,
            StatusCode::UNAUTHORIZED,
            "{u}"
        );
        assert_eq!(send(http.get(format!("{u}/v1/me")).bearer_auth(&kept)).await.0, StatusCode::OK, "{u}");
    }
    // The desktop's stream goes on: an item still reaches it.
    assert_eq!(produce(&urls[1], &mention("after", "u-1")).await.0, StatusCode::OK);
    until("the desktop still receives", || async { desktop.created() == ["after"] }).await;
}

// ORG-1, ORG-2
#[tokio::test]
#[ignore = "needs PostgreSQL and nginx: scripts/test.sh"]
async fn org_1_a_sign_in_through_nginx_may_cross_nodes_and_a_revoked_device_cannot_renew() {
    use lonceng_e2e::idp::{browser, Flow, Idp, Person, CLIENT_ID, CLIENT_SECRET};
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start();
    let db = pg.url("postgres");
    let clock = Arc::new(lonceng_domain::clock::ManualClock::new(chrono::Utc::now()));
    let idp = Idp::start(clock, Person::new("sub-sari", "sari@example.co.id")).await;
    // Browsers and the provider reach the nodes through nginx: that is the public address.
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let args: Vec<String> = [
        "--oidc-issuer",
        &idp.issuer,
        "--oidc-client-id",
        CLIENT_ID,
        "--public-url",
        &public,
        "--oidc-allowed-domain",
        "example.co.id",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let mut nodes = Vec::new();
    for name in ["a", "b", "c"] {
        nodes.push(
            node_with(&db, dir.path(), name, &args, &[("LONCENG_OIDC_CLIENT_SECRET", CLIENT_SECRET)]).await,
        );
    }
    let nginx = Nginx::start_on(port, dir.path(), &nodes.iter().collect::<Vec<_>>()).await;
    let flow = Flow { base: nginx.url(""), browser: browser() };
    // Each step of a sign-in may land on another node: the sign-in is kept in the database.
    let creds = flow.sign_in().await;
    let access = creds["access_token"].as_str().unwrap().to_owned();
    let device = creds["device_id"].as_str().unwrap().to_owned();
    let streams: Vec<_> = nodes.iter().map(|n| watch_stream(n.url("/v1/stream"), access.clone())).collect();
    until("the streams are open", || async { streams.iter().all(|s| s.open.load(Ordering::SeqCst)) }).await;

    let http = reqwest::Client::new();
    let (s, body) = send(
        http.post(nginx.url(&format!("/v1/admin/users/sari@example.co.id/devices/{device}/revoke")))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    until("every node ended the device's stream", || async {
        streams.iter().all(|s| s.ended.lock().unwrap().is_some())
    })
    .await;
    let (s, e) = flow.refresh(creds["refresh_token"].as_str().unwrap()).await;
    assert_eq!((s, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
    for n in &nodes {
        assert_eq!(send(http.get(n.url("/v1/me")).bearer_auth(&access)).await.0, StatusCode::UNAUTHORIZED);
    }
}
