//! The CRM bridge against the stand-in for the Mekari gateway (it checks every signature): CRM
//! items reach the linked agent's feed, reads go both ways (NC-R13) and item by item for a scoped
//! mark-all (NC-R6), and the errors a real gateway gives are reported per agent and waited out.

use std::sync::Arc;

use lonceng_server::bridge::CrmConfig;
use lonceng_server::crm_standin::{Fault, Gateway, StandIn};

use crate::util::*;

const CLIENT: &str = "lonceng-org";
const SECRET: &str = "org-hmac-secret";

struct Bridged {
    s: Server,
    crm: StandIn,
    sari: String,
}

/// A server whose bridge polls the stand-in every 100 ms, with Sari linked to `sso-sari`.
async fn bridged(secret: &str, budget_per_minute: u32) -> Bridged {
    let clock = Arc::new(ManualClock::new(t0()));
    let gateway = Gateway::new(CLIENT, SECRET, clock.clone());
    gateway.add_user("sso-sari");
    let crm = StandIn::start(gateway).await.unwrap();
    let mut c = config();
    c.crm = Some(CrmConfig {
        base_url: crm.url(),
        client_id: CLIENT.into(),
        client_secret: secret.into(),
        budget_per_minute,
        poll_interval: StdDuration::from_millis(100),
    });
    let s = server_with(fresh_db().await, c, clock).await;
    let sari = s.token("u-sari", "desktop").await;
    s.post(ADMIN, "/v1/admin/users", json!({"id": "u-sari", "name": "Sari"})).await;
    let (st, b) = s.put(ADMIN, "/v1/admin/users/u-sari/qontak", json!({"crm_sso_id": "sso-sari"})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    Bridged { s, crm, sari }
}

impl Bridged {
    async fn agent(&self) -> Value {
        let (_, agents) = self.s.get(ADMIN, "/v1/admin/qontak/agents").await;
        agents.as_array().unwrap().iter().find(|a| a["user_id"] == "u-sari").cloned().unwrap()
    }
}

// NC-R6, NC-R13 through the server's CRM bridge
#[tokio::test]
async fn nc_r6_nc_r13_crm_items_reach_the_agent_and_reads_follow_her_both_ways() {
    let b = bridged(SECRET, 6_000).await;
    let g = &b.crm.gateway;
    let mention = g.notify("sso-sari", 1, 2, "deal", "Budi mentioned you in deal PT Maju");
    let deal = g.notify("sso-sari", 2, 8, "deal", "Approve deal PT Maju (Rp 3.400.000)");
    let expense = g.notify("sso-sari", 2, 9, "expense", "Approve expense Flight JKT–DPS");
    let mut stream = b.s.stream(&b.sari, Some(0)).await;
    until("three CRM items listed", || async { b.s.counts(&b.sari).await.total == 3 }).await;
    let general = b.s.list(&b.sari, "tab=general").await.items;
    assert_eq!(general[0].id, format!("crm_{mention}"));
    assert_eq!(
        (general[0].kind.as_str(), general[0].params["description"].as_str()),
        ("crm_notice", Some("Budi mentioned you in deal PT Maju"))
    );
    let approval = b.s.list(&b.sari, "tab=approval&category=deals").await.items;
    assert_eq!(approval.len(), 1);

    // Read in the Qontak web: read here on the next poll; the stream says so (toasts withdrawn).
    g.read_on_web("sso-sari", mention);
    loop {
        let c = next_change(&mut stream).await;
        if matches!(&c.body, ChangeBody::Read { ids, .. } if ids == &[format!("crm_{mention}")]) {
            break;
        }
    }

    // Read here: the CRM is told item by item; a scoped mark-all covers exactly Approval · Deals.
    let (st, _) = b.s.post(&b.sari, &format!("/v1/notifications/crm_{expense}/read"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) =
        b.s.post(&b.sari, "/v1/notifications/read-all", json!({"tab": "approval", "category": "deals"}))
            .await;
    assert_eq!(st, StatusCode::OK);
    until("both reads sent to the CRM", || async {
        g.is_read("sso-sari", expense) && g.is_read("sso-sari", deal)
    })
    .await;
    let calls = g.calls();
    assert!(
        !calls.iter().any(|c| c.contains("mark_all_as_read")),
        "the CRM's unscoped mark-all breaks NC-R6"
    );
    assert_eq!(calls.iter().filter(|c| c.contains(&format!("/{deal}/mark_as_read"))).count(), 1, "sent once");
    assert_eq!(g.refused(), 0, "every request was signed correctly");
    let agent = b.agent().await;
    assert!(agent["crm"]["last_success_at"].is_string(), "{agent}");
    assert!(agent["crm"]["last_error"].is_null(), "{agent}");
}

#[tokio::test]
async fn gateway_errors_are_reported_per_agent_and_waited_out() {
    let b = bridged(SECRET, 6_000).await;
    let g = &b.crm.gateway;
    until("a first poll", || async { b.agent().await["crm"]["last_success_at"].is_string() }).await;

    // 429 with Retry-After, then 503, then a 500: each reported, then the bridge goes on by itself.
    for (n, (fault, words)) in [
        (Fault::Status(429, Some(1)), "asked to slow down; waiting 1 s"),
        (Fault::Status(503, Some(1)), "asked to slow down"),
        (Fault::Status(500, None), "failed (500)"),
    ]
    .into_iter()
    .enumerate()
    {
        g.inject(fault);
        until(words, || async {
            b.agent().await["crm"]["last_error"].as_str().is_some_and(|e| e.contains(words))
        })
        .await;
        g.notify("sso-sari", 1, 1, "task", "Reminder: call back Ibu Ratna");
        until("polling resumed", || async { b.s.counts(&b.sari).await.total == n as u64 + 1 }).await;
    }

    // A page holding an item Lonceng cannot map: the rest comes in, the odd one is kept once.
    g.serve_raw(
        "sso-sari",
        json!({"id": 77, "is_read": false, "created_at": "2026-01-20T08:00:00+07:00",
        "user_id": 1, "description": "A new kind", "click_action_url": "https://app.qontak.com/crm/x/77",
        "notif_category_id": 1, "notif_type_id": 3}),
    );
    g.notify("sso-sari", 1, 2, "deal", "Dewi mentioned you");
    until("the mappable item listed", || async { b.s.counts(&b.sari).await.total == 4 }).await;
    let polled = g.calls().len();
    until("several more polls", || async { g.calls().len() > polled + 4 }).await;
    let (_, letters) = b.s.get(ADMIN, "/v1/admin/qontak/dead-letters").await;
    let letters = letters["items"].as_array().unwrap().clone();
    assert_eq!(letters.len(), 1, "kept once however often it is polled: {letters:?}");
    assert_eq!(letters[0]["source"], "crm");
    assert!(letters[0]["reason"].as_str().unwrap().contains("unknown notif_type_id 3"), "{letters:?}");
    let (st, _) =
        b.s.post(ADMIN, &format!("/v1/admin/qontak/dead-letters/{}/replay", letters[0]["id"]), json!({}))
            .await;
    assert_eq!(st, StatusCode::CONFLICT, "CRM items are retried by every poll");

    // An SSO id the CRM does not know: that agent's status says so.
    b.s.post(ADMIN, "/v1/admin/users", json!({"id": "u-budi", "name": "Budi"})).await;
    b.s.put(ADMIN, "/v1/admin/users/u-budi/qontak", json!({"crm_sso_id": "sso-unknown"})).await;
    until("Budi's status", || async {
        let (_, agents) = b.s.get(ADMIN, "/v1/admin/qontak/agents").await;
        agents.as_array().unwrap().iter().any(|a| {
            a["user_id"] == "u-budi"
                && a["crm"]["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("does not know the SSO user id 'sso-unknown'"))
        })
    })
    .await;
}

#[tokio::test]
async fn a_wrong_company_secret_is_reported_and_the_bridge_stays_polite() {
    // 60 requests a minute: one a second.
    let b = bridged("not-the-secret", 60).await;
    let started = tokio::time::Instant::now();
    until("the refusal reported", || async {
        b.agent().await["crm"]["last_error"].as_str().is_some_and(|e| e.contains("refused the signature"))
    })
    .await;
    // A refused signature pauses everyone for minutes: no request more while we watch.
    let refused = b.crm.gateway.refused();
    holds_for("no retry of a refused signature", StdDuration::from_millis(600), || async {
        b.crm.gateway.refused() == refused
    })
    .await;
    assert!(refused <= 1 + started.elapsed().as_secs(), "the budget is kept: {refused} requests");
}
