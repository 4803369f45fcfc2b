//! The Qontak CRM API as a source, behind a stand-in for the Mekari gateway that checks signatures.

use crate::util::*;

use lonceng_server::crm_standin::{Gateway, StandIn, PAGE_SIZE};

const CLIENT: &str = "lonceng-test";
const SECRET: &str = "gateway-secret";

/// The gateway stand-in (it verifies every signature, as the Mekari gateway does) with Sari's
/// notifications: a mention, a download, a deal approval, an expense approval, one read on the web
/// already, a page's worth more (so that the list has two pages), and an item of a type Lonceng
/// cannot map.
async fn gateway(clock: Arc<ManualClock>) -> StandIn {
    let g = Gateway::new(CLIENT, SECRET, clock);
    g.add_user("sso-sari");
    for n in 0..PAGE_SIZE {
        g.notify("sso-sari", 1, 1, "task", &format!("Reminder {n}"));
    }
    g.notify("sso-sari", 2, 9, "expense", "Approve expense Flight JKT–DPS");
    let read = g.notify("sso-sari", 1, 7, "deal", "Deal PT Maju moved to Won");
    g.read_on_web("sso-sari", read);
    g.notify("sso-sari", 2, 8, "deal", "Approve deal PT Maju");
    g.notify("sso-sari", 1, 5, "deal", "Your export is ready");
    g.notify("sso-sari", 1, 2, "deal", "Budi mentioned you");
    g.serve_raw("sso-sari", serde_json::json!({"id": 99, "is_read": false, "created_at": "2026-01-20T08:00:00+07:00",
        "user_id": 1, "description": "?", "click_action_url": "https://app.qontak.com/x", "notif_category_id": 1, "notif_type_id": 3}));
    StandIn::start(g).await.unwrap()
}

fn creds(secret: &str) -> Credentials {
    Credentials { username: CLIENT.into(), secret: secret.into(), sso_user_id: "sso-sari".into() }
}

// NC-R6, NC-R13 against the Qontak CRM API
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nc_r6_nc_r13_the_qontak_crm_api_is_polled_with_valid_signatures_and_marked_read_per_item() {
    let clock = Arc::new(ManualClock::new("2026-01-20T02:00:00Z".parse().unwrap()));
    let crm = gateway(clock.clone()).await;
    let g = crm.gateway.clone();
    let source = CrmSource::new(&crm.url(), creds(SECRET), AGENT, clock.clone())
        .unwrap()
        .with_poll_interval(Duration::from_millis(100));
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "both pages polled", |c| c.len() == PAGE_SIZE as u64 + 5).await;
    {
        let store = c.store.lock().unwrap();
        let n = |id: &str| store.get(id).unwrap().unwrap();
        assert_eq!((n("crm_15").tab(), n("crm_15").category), (Tab::General, Category::Mention));
        assert_eq!(n("crm_14").category, Category::DownloadUpload);
        assert_eq!((n("crm_13").tab(), n("crm_13").category), (Tab::Approval, Category::Deals));
        assert_eq!(n("crm_11").category, Category::Expenses);
        assert!(n("crm_12").read_at.is_some(), "read on the web before");
        assert_eq!(n("crm_1").category, Category::Reminder, "the second page too");
        assert_eq!(store.quarantined().unwrap().len(), 1, "notif_type_id 3 is kept aside, not lost");
    }
    assert_eq!(g.refused(), 0, "every request was signed correctly");

    // Read on the web: the next poll brings it, and its toast can be withdrawn (NC-R13).
    g.read_on_web("sso-sari", 14);
    c.until(WAIT, "read elsewhere", |c| {
        c.seen.iter().any(|e| matches!(e, SyncEvent::Read { ids } if ids.contains(&"crm_14".to_string())))
    })
    .await;

    // Mark one read here, and mark all read in Approval / Deals only (NC-R6).
    {
        let mut store = c.store.lock().unwrap();
        store.mark_read("crm_15", clock.now()).unwrap();
        store.mark_all_read(Scope::new(Tab::Approval, Some(Category::Deals)).unwrap(), clock.now()).unwrap();
    }
    clock.advance(UNDO_WINDOW + chrono::Duration::seconds(1));
    c.handle.nudge();
    c.until(WAIT, "actions sent", |c| {
        c.store.lock().unwrap().outbox_pending(10, far_future()).unwrap().is_empty()
    })
    .await;
    let calls = g.calls();
    assert!(
        calls.contains(&"PUT /qontak/crm/notifications/15/mark_as_read sso-sari".to_string()),
        "{calls:?}"
    );
    assert!(calls.contains(&"PUT /qontak/crm/notifications/13/mark_as_read sso-sari".to_string()));
    assert!(!calls.iter().any(|c| c.contains("/11/mark_as_read")), "the Expenses item is outside the scope");
    assert!(
        !calls.iter().any(|c| c.contains("mark_all_as_read")),
        "the CRM's global mark-all would break NC-R6"
    );
    assert!(g.is_read("sso-sari", 13) && !g.is_read("sso-sari", 11));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_crm_secret_is_shown_as_a_refused_sign_in_not_retried_hot() {
    let clock = Arc::new(ManualClock::new("2026-01-20T02:00:00Z".parse().unwrap()));
    let crm = gateway(clock.clone()).await;
    let source = CrmSource::new(&crm.url(), creds("wrong-secret"), AGENT, clock.clone()).unwrap();
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "offline with a reason", |c| {
        matches!(&c.handle.status.borrow().state, ConnState::Offline { reason, .. } if reason.contains("check the client id and client secret"))
    })
    .await;
    c.stays(Duration::from_millis(300), "backing off to the maximum after a refused sign-in", |_| {
        crm.gateway.refused() <= 2
    })
    .await;
    c.stop().await;
}
