//! The Qontak CRM API as a source, behind a stand-in for the Mekari gateway that checks signatures.

use crate::util::*;

/// A stand-in for the Mekari API gateway: verifies signatures as the gateway does and serves the
/// CRM notifications endpoints of the reference.
mod gateway {
    use crate::util::*;
    use axum::extract::{Path, Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, put};
    use axum::{Json, Router};

    pub const SECRET: &str = "gateway-secret";

    #[derive(Default)]
    pub struct Crm {
        pub now: Mutex<DateTime<Utc>>,
        pub read: Mutex<Vec<i64>>,
        pub calls: Mutex<Vec<String>>,
        pub refused: Mutex<u32>,
    }

    fn verify(crm: &Crm, headers: &HeaderMap, method: &str, path_and_query: &str) -> Result<(), StatusCode> {
        let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (date, auth) = (h("date"), h("authorization"));
        let signed_at = DateTime::parse_from_rfc2822(&date).map_err(|_| StatusCode::UNAUTHORIZED)?;
        let now = *crm.now.lock().unwrap();
        if (now - signed_at.with_timezone(&Utc)).num_seconds().abs() > 300 {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let expected = lonceng_core::crm::signature(SECRET, &date, method, path_and_query);
        let want = format!(
            r#"hmac username="lonceng-test", algorithm="hmac-sha256", headers="date request-line", signature="{expected}""#
        );
        if auth != want || h("x-crm-user-sso-id") != "sso-sari" {
            *crm.refused.lock().unwrap() += 1;
            return Err(StatusCode::UNAUTHORIZED);
        }
        crm.calls.lock().unwrap().push(format!("{method} {path_and_query}"));
        Ok(())
    }

    fn item(id: i64, type_id: i64, category_id: i64, read: bool) -> serde_json::Value {
        serde_json::json!({
            "id": id, "obj_id": null, "click_action": "OPEN_NOTIFICATIONS", "origin": "deal", "is_read": read,
            "is_reminder": false, "created_at": "2026-01-20T08:00:00.000+07:00", "updated_at": "2026-01-20T08:05:00.000+07:00",
            "user_id": 1, "description": format!("CRM notification {id}"),
            "click_action_url": format!("https://app.qontak.com/crm/deals/{id}/edit"),
            "notif_category_id": category_id, "notif_type_id": type_id
        })
    }

    async fn list(
        State(crm): State<Arc<Crm>>,
        headers: HeaderMap,
        Query(q): Query<BTreeMap<String, String>>,
    ) -> Result<Json<serde_json::Value>, StatusCode> {
        let page: i64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        verify(&crm, &headers, "GET", &format!("/qontak/crm/notifications?page={page}"))?;
        let read = crm.read.lock().unwrap().clone();
        let items: Vec<_> = match page {
            1 => vec![
                item(1, 1, 2, read.contains(&1)),
                item(2, 1, 5, read.contains(&2)),
                item(3, 2, 8, read.contains(&3)),
            ],
            2 => vec![item(4, 2, 9, read.contains(&4)), item(5, 1, 7, true), item(6, 3, 1, false)],
            _ => vec![],
        };
        Ok(Json(
            serde_json::json!({"meta": {"status": 200}, "response": items, "page": page, "total_page": 2}),
        ))
    }

    async fn mark(
        State(crm): State<Arc<Crm>>,
        headers: HeaderMap,
        Path(id): Path<i64>,
    ) -> Result<Json<serde_json::Value>, StatusCode> {
        verify(&crm, &headers, "PUT", &format!("/qontak/crm/notifications/{id}/mark_as_read"))?;
        crm.read.lock().unwrap().push(id);
        Ok(Json(serde_json::json!({"meta": {"status": 200}})))
    }

    async fn mark_all(State(crm): State<Arc<Crm>>) -> StatusCode {
        crm.calls.lock().unwrap().push("PUT /qontak/crm/notifications/mark_all_as_read".into());
        StatusCode::OK
    }

    pub async fn start(crm: Arc<Crm>) -> SocketAddr {
        let app = Router::new()
            .route("/qontak/crm/notifications", get(list))
            .route("/qontak/crm/notifications/mark_all_as_read", put(mark_all))
            .route("/qontak/crm/notifications/{id}/mark_as_read", put(mark))
            .with_state(crm);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }
}

fn creds(secret: &str) -> Credentials {
    Credentials { username: "lonceng-test".into(), secret: secret.into(), sso_user_id: "sso-sari".into() }
}

// NC-R6, NC-R13 against the Qontak CRM API
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nc_r6_nc_r13_the_qontak_crm_api_is_polled_with_valid_signatures_and_marked_read_per_item() {
    let clock = Arc::new(ManualClock::new("2026-01-20T02:00:00Z".parse().unwrap()));
    let crm = Arc::new(gateway::Crm::default());
    *crm.now.lock().unwrap() = clock.now();
    let addr = gateway::start(crm.clone()).await;
    let source = CrmSource::new(&format!("http://{addr}"), creds(gateway::SECRET), AGENT, clock.clone())
        .unwrap()
        .with_poll_interval(Duration::from_millis(100));
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "both pages polled", |c| c.len() == 5).await;
    {
        let store = c.store.lock().unwrap();
        let n = |id: &str| store.get(id).unwrap().unwrap();
        assert_eq!((n("crm_1").tab(), n("crm_1").category), (Tab::General, Category::Mention));
        assert_eq!(n("crm_2").category, Category::DownloadUpload);
        assert_eq!((n("crm_3").tab(), n("crm_3").category), (Tab::Approval, Category::Deals));
        assert_eq!(n("crm_4").category, Category::Expenses);
        assert!(n("crm_5").read_at.is_some());
        assert_eq!(store.quarantined().unwrap().len(), 1, "notif_type_id 3 is kept aside, not lost");
    }
    assert_eq!(*crm.refused.lock().unwrap(), 0, "every request was signed correctly");

    // Read on the web: the next poll brings it, and its toast can be withdrawn (NC-R13).
    crm.read.lock().unwrap().push(2);
    c.until(WAIT, "read elsewhere", |c| {
        c.seen.iter().any(|e| matches!(e, SyncEvent::Read { ids } if ids.contains(&"crm_2".to_string())))
    })
    .await;

    // Mark one read here, and mark all read in Approval / Deals only (NC-R6).
    {
        let mut store = c.store.lock().unwrap();
        store.mark_read("crm_1", clock.now()).unwrap();
        store.mark_all_read(Scope::new(Tab::Approval, Some(Category::Deals)).unwrap(), clock.now()).unwrap();
    }
    clock.advance(UNDO_WINDOW + chrono::Duration::seconds(1));
    *crm.now.lock().unwrap() = clock.now();
    c.handle.nudge();
    c.until(WAIT, "actions sent", |c| {
        c.store.lock().unwrap().outbox_pending(10, far_future()).unwrap().is_empty()
    })
    .await;
    let calls = crm.calls.lock().unwrap().clone();
    assert!(calls.contains(&"PUT /qontak/crm/notifications/1/mark_as_read".to_string()));
    assert!(calls.contains(&"PUT /qontak/crm/notifications/3/mark_as_read".to_string()));
    assert!(!calls.iter().any(|c| c.contains("/4/mark_as_read")), "the Expenses item is outside the scope");
    assert!(
        !calls.iter().any(|c| c.contains("mark_all_as_read")),
        "the CRM's global mark-all would break NC-R6"
    );
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_crm_secret_is_shown_as_a_refused_sign_in_not_retried_hot() {
    let clock = Arc::new(ManualClock::new("2026-01-20T02:00:00Z".parse().unwrap()));
    let crm = Arc::new(gateway::Crm::default());
    *crm.now.lock().unwrap() = clock.now();
    let addr = gateway::start(crm.clone()).await;
    let source =
        CrmSource::new(&format!("http://{addr}"), creds("wrong-secret"), AGENT, clock.clone()).unwrap();
    let mut c = in_real_time(source, clock.clone());
    c.until(WAIT, "offline with a reason", |c| {
        matches!(c.handle.status.borrow().state, ConnState::Offline { .. })
    })
    .await;
    c.stays(Duration::from_millis(300), "backing off to the maximum after a refused sign-in", |_| {
        *crm.refused.lock().unwrap() <= 2
    })
    .await;
    c.stop().await;
}
