//! One handler per endpoint: parse what HTTP carries, call the service once, answer.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use lonceng_domain::model::{check_scope, Category, Tab};
use lonceng_domain::protocol::{
    ChangesPage, Counts, EventResponse, EventStatus, MaintenanceStatus, MaintenanceWindow,
    MarkAllReadRequest, MarkAllReadResponse, MarkReadResponse, MarkUnreadResponse, NotificationsPage,
    Presence, PresenceReport,
};
use lonceng_domain::rules::ProducerEvent;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Admin, AdminActor, Body, Client, Producer, P, Q};
use crate::db::{Database, ListFilter};
use crate::service::{Service, ServiceError};

pub type Svc<D> = State<Arc<Service<D>>>;
type Answer<T> = Result<Json<T>, ApiError>;

pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `/metrics`, for Prometheus (see `crate::metrics`). Unauthenticated, like most exporters: it
/// shows counts only; docs/DEPLOY.md keeps it off the public side of the proxy.
pub async fn metrics<D: Database>(
    State(service): State<Arc<Service<D>>>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        crate::metrics::METRICS.render(service.streams()),
    )
}

/// Ready to serve: the database answers. `/healthz` stays 200 meanwhile (the process is alive and
/// streams keep running); a load balancer sends new requests elsewhere.
pub async fn ready<D: Database>(
    State(service): State<Arc<Service<D>>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    service.ready().await.map_err(|e| match e {
        ServiceError::Storage(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::Unavailable
        }
        other => other.into(),
    })?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

#[derive(Serialize, Deserialize)]
pub struct Me {
    pub user_id: String,
    pub device_id: String,
}

pub async fn me(Client(d): Client) -> Json<Me> {
    Json(Me { user_id: d.user_id, device_id: d.device_id })
}

#[derive(Deserialize)]
pub struct ListParams {
    tab: String,
    category: Option<String>,
    #[serde(default)]
    unread: bool,
    cursor: Option<String>,
    limit: Option<usize>,
}

fn parse_scope(tab: &str, category: Option<&str>) -> Result<(Tab, Option<Category>), ApiError> {
    let tab: Tab = tab.parse().map_err(|_| {
        ApiError::bad("invalid_query", format!("unknown tab '{tab}' (general, inbox, approval)"))
    })?;
    let category = match category {
        None => None,
        Some(c) => {
            Some(c.parse().map_err(|_| ApiError::bad("invalid_query", format!("unknown category '{c}'")))?)
        }
    };
    check_scope(tab, category).map_err(|e| ApiError::bad("invalid_query", e.to_string()))?;
    Ok((tab, category))
}

/// Page cursors are `<created_at ms>:<id>`, opaque to clients. Exactly the form openapi.json
/// publishes (`^[0-9]{1,13}:[A-Za-z0-9_-]{1,64}$`): any cursor of that form is a position in the
/// list, so a well-formed one is never refused.
fn parse_cursor(s: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    let bad = || ApiError::bad("invalid_cursor", "the cursor is not one this server gave out");
    let (ms, id) = s.split_once(':').ok_or_else(bad)?;
    let ms_ok = (1..=13).contains(&ms.len()) && ms.bytes().all(|b| b.is_ascii_digit());
    let id_ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !(ms_ok && id_ok) {
        return Err(bad());
    }
    let at = ms.parse().ok().and_then(lonceng_domain::time::from_ms).ok_or_else(bad)?;
    Ok((at, id.to_owned()))
}

pub async fn list<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
    Q(p): Q<ListParams>,
) -> Result<Json<NotificationsPage>, ApiError> {
    let (tab, category) = parse_scope(&p.tab, p.category.as_deref())?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad("invalid_query", "limit must be between 1 and 200"));
    }
    let after = p.cursor.as_deref().map(parse_cursor).transpose()?;
    let filter = ListFilter { tab, category, unread_only: p.unread, after, limit };
    let items = service.list(&d.user_id, filter).await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|n| format!("{}:{}", lonceng_domain::time::to_ms(n.created_at), n.id)))
        .flatten();
    Ok(Json(NotificationsPage { items, next_cursor }))
}

pub async fn counts<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
) -> Result<Json<Counts>, ApiError> {
    Ok(Json(service.counts(&d.user_id).await?))
}

#[derive(Deserialize)]
pub struct ChangesParams {
    #[serde(default)]
    since: i64,
    limit: Option<usize>,
}

pub async fn changes<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
    Q(p): Q<ChangesParams>,
) -> Result<Json<ChangesPage>, ApiError> {
    let limit = p.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) || p.since < 0 {
        return Err(ApiError::bad("invalid_query", "limit must be 1 to 1000 and since ≥ 0"));
    }
    Ok(Json(service.changes(&d.user_id, p.since, limit).await?))
}

pub async fn mark_read<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
    P(id): P<String>,
) -> Result<Json<MarkReadResponse>, ApiError> {
    Ok(Json(service.mark_read(&d.user_id, &id).await?))
}

/// ORG-7.
pub async fn mark_unread<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
    P(id): P<String>,
) -> Result<Json<MarkUnreadResponse>, ApiError> {
    Ok(Json(service.mark_unread(&d.user_id, &id).await?))
}

pub async fn mark_all_read<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
    headers: HeaderMap,
    Body(req): Body<MarkAllReadRequest>,
) -> Result<Json<MarkAllReadResponse>, ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) if (1..=200).contains(&v.len()) && v.as_bytes().iter().all(|b| b.is_ascii_graphic()) => {
            Some(String::from_utf8_lossy(v.as_bytes()).into_owned())
        }
        Some(_) => {
            return Err(ApiError::bad(
                "invalid_header",
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            ))
        }
    };
    Ok(Json(service.mark_all_read(&d.user_id, req, key).await?))
}

#[derive(Serialize, Deserialize)]
pub struct StreamTicket {
    pub ticket: String,
    pub expires_at: DateTime<Utc>,
}

/// A ticket for `GET /v1/stream?ticket=`, for web pages whose `EventSource` cannot send headers.
pub async fn stream_ticket<D: Database>(State(service): Svc<D>, Client(d): Client) -> Json<StreamTicket> {
    let (ticket, expires_at) = service.stream_ticket(&d);
    Json(StreamTicket { ticket, expires_at })
}

pub async fn get_presence<D: Database>(State(service): Svc<D>, Client(d): Client) -> Json<Presence> {
    Json(service.presence(&d.user_id))
}

pub async fn put_presence<D: Database>(
    State(service): Svc<D>,
    Client(d): Client,
    Body(report): Body<PresenceReport>,
) -> Json<Presence> {
    Json(service.report_presence(&d, report).await)
}

pub async fn maintenance<D: Database>(State(service): Svc<D>) -> Json<MaintenanceStatus> {
    Json(service.maintenance_status())
}

pub async fn post_event<D: Database>(
    Producer(service): Producer<D>,
    Body(event): Body<ProducerEvent>,
) -> Result<(StatusCode, Json<EventResponse>), ApiError> {
    let response = service.submit(event).await?;
    let status = if response.status == EventStatus::Queued { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(response)))
}

#[derive(Deserialize)]
pub struct NewUser {
    id: String,
    name: String,
}

pub async fn admin_user<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    Body(u): Body<NewUser>,
) -> Result<StatusCode, ApiError> {
    s.add_user(&u.id, &u.name).await?;
    s.note(&actor, "user_created", &u.id, &u.name).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct NewToken {
    user_id: String,
    device_id: String,
}

#[derive(Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
}

pub async fn admin_token<D: Database>(Admin(s): Admin<D>, Body(t): Body<NewToken>) -> Answer<IssuedToken> {
    Ok(Json(IssuedToken { token: s.issue_token(&t.user_id, &t.device_id).await? }))
}

#[derive(Deserialize)]
pub struct NewWindow {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    #[serde(default)]
    message: String,
}

pub async fn admin_window<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    Body(w): Body<NewWindow>,
) -> Answer<MaintenanceWindow> {
    let window = s.announce(w.starts_at, w.ends_at, w.message).await?;
    let when = format!("{} – {}", window.starts_at.to_rfc3339(), window.ends_at.to_rfc3339());
    s.note(&actor, "maintenance_announced", &when, &window.message).await;
    Ok(Json(window))
}

#[derive(Deserialize)]
pub struct StartMaintenance {
    until: Option<DateTime<Utc>>,
}

pub async fn admin_start<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    Body(b): Body<StartMaintenance>,
) -> Answer<MaintenanceStatus> {
    let status = s.start_maintenance(b.until).await?;
    s.note(&actor, "maintenance_started", "", &b.until.map(|u| u.to_rfc3339()).unwrap_or_default()).await;
    Ok(Json(status))
}

#[derive(Deserialize)]
pub struct EndMaintenance {
    /// Re-send every n-th item delivered from the queue (exercises client dedupe, MW-4).
    resend_every: Option<u32>,
}

pub async fn admin_end<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    Body(b): Body<EndMaintenance>,
) -> Answer<MaintenanceStatus> {
    let status = s.end_maintenance(b.resend_every).await?;
    s.note(&actor, "maintenance_ended", "", "").await;
    Ok(Json(status))
}
