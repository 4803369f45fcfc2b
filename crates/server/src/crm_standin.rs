//! A stand-in for the Mekari API gateway in front of the Qontak CRM notifications API
//! (shared/reference/qontak-crm-notifications.openapi.yaml): it verifies HMAC signatures as the
//! gateway does (the `Date` within 300 s of its clock, the signature over the request line, a known
//! `X-Crm-User-Sso-Id`) and serves the list and `mark_as_read` per SSO user. The demo's simulated
//! CRM lives here, and tests use it with the errors a real gateway gives injected: 401 for a bad
//! signature (with its `Date`, so a client can tell clock skew), 403 for an unknown SSO id, 429 and
//! 503 with `Retry-After`, 5xx, and pages holding items Lonceng cannot map.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use lonceng_domain::clock::Clock;
use lonceng_domain::crm::{http_date, signature};
use tokio_util::sync::CancellationToken;

/// Items per page, as the CRM pages them.
pub const PAGE_SIZE: usize = 10;

/// One CRM notification of a user.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmItem {
    pub id: i64,
    pub type_id: i64,
    pub category_id: i64,
    pub origin: String,
    pub description: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

impl CrmItem {
    /// The item as the CRM's list returns it (the reference's fields).
    pub fn to_json(&self, updated_at: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "obj_id": null, "click_action": "OPEN_NOTIFICATIONS", "origin": self.origin,
            "task_status_id": null, "is_read": self.read, "is_reminder": self.category_id == 1,
            "created_at": self.created_at.to_rfc3339(), "updated_at": updated_at.to_rfc3339(),
            "user_id": 1, "description": self.description, "click_action_url": self.url,
            "notif_category_id": self.category_id, "notif_type_id": self.type_id
        })
    }
}

/// An error the next request gets instead of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A status, with `Retry-After` seconds when given (429, 503).
    Status(u16, Option<u64>),
}

#[derive(Default)]
struct Users {
    /// Per SSO user id, newest first.
    items: BTreeMap<String, Vec<CrmItem>>,
    /// Raw entries served at the top of a user's first page (items the CRM sends that Lonceng
    /// cannot map, say).
    raw: BTreeMap<String, Vec<serde_json::Value>>,
    next_id: i64,
}

/// The gateway's state: credentials, users and their items, faults to inject, and what it saw.
pub struct Gateway {
    client_id: String,
    secret: String,
    clock: Arc<dyn Clock>,
    users: Mutex<Users>,
    faults: Mutex<VecDeque<Fault>>,
    calls: Mutex<Vec<String>>,
    refused: Mutex<u64>,
}

impl Gateway {
    pub fn new(client_id: &str, secret: &str, clock: Arc<dyn Clock>) -> Arc<Gateway> {
        Arc::new(Gateway {
            client_id: client_id.into(),
            secret: secret.into(),
            clock,
            users: Mutex::new(Users { next_id: 1, ..Users::default() }),
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
            refused: Mutex::new(0),
        })
    }

    fn users(&self) -> std::sync::MutexGuard<'_, Users> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A CRM user the gateway knows (with no items yet).
    pub fn add_user(&self, sso: &str) {
        self.users().items.entry(sso.to_owned()).or_default();
    }

    /// A new notification for `sso`; returns its CRM id.
    pub fn notify(&self, sso: &str, type_id: i64, category_id: i64, origin: &str, description: &str) -> i64 {
        let mut users = self.users();
        let id = users.next_id;
        users.next_id = id.saturating_add(1);
        let item = CrmItem {
            id,
            type_id,
            category_id,
            origin: origin.into(),
            description: description.into(),
            url: format!("https://app.qontak.com/crm/{origin}s/{id}"),
            created_at: self.clock.now(),
            read: false,
        };
        users.items.entry(sso.to_owned()).or_default().insert(0, item);
        id
    }

    /// An entry served as is at the top of `sso`'s first page.
    pub fn serve_raw(&self, sso: &str, entry: serde_json::Value) {
        self.users().raw.entry(sso.to_owned()).or_default().push(entry);
    }

    /// The agent read it in the Qontak web.
    pub fn read_on_web(&self, sso: &str, id: i64) {
        if let Some(item) = self.users().items.get_mut(sso).and_then(|v| v.iter_mut().find(|i| i.id == id)) {
            item.read = true;
        }
    }

    pub fn is_read(&self, sso: &str, id: i64) -> bool {
        self.users().items.get(sso).and_then(|v| v.iter().find(|i| i.id == id)).is_some_and(|i| i.read)
    }

    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).push_back(fault);
    }

    /// Requests that passed the signature check, as `METHOD path?query sso`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Requests refused for their signature.
    pub fn refused(&self) -> u64 {
        *self.refused.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Checks a request as the gateway does.
    fn verify(
        &self,
        headers: &HeaderMap,
        method: &str,
        path_and_query: &str,
    ) -> Result<String, Box<Response>> {
        let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let (date, auth, sso) = (h("date"), h("authorization"), h("x-crm-user-sso-id"));
        let now = self.clock.now();
        let fresh = DateTime::parse_from_rfc2822(&date)
            .is_ok_and(|t| now.signed_duration_since(t.with_timezone(&Utc)).num_seconds().abs() <= 300);
        let expected = format!(
            r#"hmac username="{}", algorithm="hmac-sha256", headers="date request-line", signature="{}""#,
            self.client_id,
            signature(&self.secret, &date, method, path_and_query)
        );
        if !fresh || auth != expected {
            *self.refused.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            let mut r = error(StatusCode::UNAUTHORIZED, "HMAC signature cannot be verified");
            if let Ok(v) = HeaderValue::from_str(&http_date(now)) {
                r.headers_mut().insert("date", v);
            }
            return Err(Box::new(r));
        }
        if !self.users().items.contains_key(&sso) {
            return Err(Box::new(error(StatusCode::FORBIDDEN, "user not found")));
        }
        if let Some(Fault::Status(code, retry)) =
            self.faults.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
        {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = error(status, "injected");
            if let Some(s) = retry {
                r.headers_mut().insert("retry-after", HeaderValue::from(s));
            }
            return Err(Box::new(r));
        }
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{method} {path_and_query} {sso}"));
        Ok(sso)
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"meta": {"status": status.as_u16(), "message": message}});
    (status, Json(body)).into_response()
}

async fn list(
    State(g): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let sso = match g.verify(&headers, "GET", &format!("/qontak/crm/notifications?page={page}")) {
        Ok(sso) => sso,
        Err(r) => return *r,
    };
    let now = g.clock.now();
    let users = g.users();
    let items = users.items.get(&sso).map(Vec::as_slice).unwrap_or_default();
    let mut response: Vec<serde_json::Value> = items
        .iter()
        .skip((page - 1).saturating_mul(PAGE_SIZE))
        .take(PAGE_SIZE)
        .map(|i| i.to_json(now))
        .collect();
    if page == 1 {
        response.splice(0..0, users.raw.get(&sso).cloned().unwrap_or_default());
    }
    let total_page = items.len().div_ceil(PAGE_SIZE).max(1);
    Json(serde_json::json!({
        "meta": {"status": 200, "type": "OK", "error_code": null, "info": null,
                 "developer_message": "Notifications found", "message": "Success"},
        "response": response, "page": page, "total_page": total_page
    }))
    .into_response()
}

async fn mark(State(g): State<Arc<Gateway>>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let sso = match g.verify(&headers, "PUT", &format!("/qontak/crm/notifications/{id}/mark_as_read")) {
        Ok(sso) => sso,
        Err(r) => return *r,
    };
    let mut users = g.users();
    match users.items.get_mut(&sso).and_then(|v| v.iter_mut().find(|i| i.id == id)) {
        Some(item) => {
            item.read = true;
            Json(serde_json::json!({"meta": {"status": 200, "message": "Success"}})).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "notification not found"),
    }
}

async fn mark_all(State(g): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    // Recorded so that tests can prove Lonceng never calls it (it is not scoped: NC-R6).
    match g.verify(&headers, "PUT", "/qontak/crm/notifications/mark_all_as_read") {
        Ok(_) => Json(serde_json::json!({"meta": {"status": 200}})).into_response(),
        Err(r) => *r,
    }
}

/// A running stand-in; it stops with `stop`.
pub struct StandIn {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    stop: CancellationToken,
}

impl StandIn {
    /// Serves `gateway` on a loopback port.
    pub async fn start(gateway: Arc<Gateway>) -> std::io::Result<StandIn> {
        let app = Router::new()
            .route("/qontak/crm/notifications", get(list))
            .route("/qontak/crm/notifications/mark_all_as_read", put(mark_all))
            .route("/qontak/crm/notifications/{id}/mark_as_read", put(mark))
            .with_state(gateway.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let until = stop.clone();
        tokio::spawn(async move {
            let served =
                axum::serve(listener, app).with_graceful_shutdown(async move { until.cancelled().await });
            if let Err(e) = served.await {
                tracing::warn!(error = %e, "the CRM stand-in stopped");
            }
        });
        Ok(StandIn { addr, gateway, stop })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}
