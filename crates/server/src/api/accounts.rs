//! The admin API for people and devices (ORG-2): a user's devices, signing them out, disabling a
//! user, the audit trail, and the agents' CSV import.

use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{AdminActor, P, Q};
use crate::db::{AuditEntry, AuditQuery, Database, DeviceInfo, UserInfo, UserQuery};
use crate::service::ImportReport;

/// Bodies of a CSV import may be larger than other requests: 10,000 agents fit.
pub const IMPORT_BODY_LIMIT: usize = 2 << 20;

#[derive(Serialize, Deserialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceInfo>,
}

pub async fn devices<D: Database>(
    AdminActor(s, _): AdminActor<D>,
    P(user): P<String>,
) -> Result<Json<DeviceList>, ApiError> {
    Ok(Json(DeviceList { devices: s.devices(&user).await? }))
}

#[derive(Serialize, Deserialize)]
pub struct Revoked {
    /// The devices signed out by this request (one signed out before is not listed again).
    pub revoked: Vec<String>,
}

pub async fn revoke_device<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P((user, device)): P<(String, String)>,
) -> Result<Json<Revoked>, ApiError> {
    Ok(Json(Revoked { revoked: s.revoke_devices(&actor, &user, Some(&device)).await? }))
}

pub async fn revoke_all<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P(user): P<String>,
) -> Result<Json<Revoked>, ApiError> {
    Ok(Json(Revoked { revoked: s.revoke_devices(&actor, &user, None).await? }))
}

pub async fn disable<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P(user): P<String>,
) -> Result<Json<Revoked>, ApiError> {
    Ok(Json(Revoked { revoked: s.set_disabled(&actor, &user, true).await? }))
}

pub async fn enable<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P(user): P<String>,
) -> Result<StatusCode, ApiError> {
    s.set_disabled(&actor, &user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct AuditParams {
    limit: Option<usize>,
    before: Option<i64>,
    /// Only what this actor did (`admin`, `user:<id>`, `server`).
    actor: Option<String>,
    /// Only this kind of entry (`sign_in`, `device_revoked`, …).
    action: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next_before: Option<i64>,
}

pub async fn audit<D: Database>(
    AdminActor(s, _): AdminActor<D>,
    Q(q): Q<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) || q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::bad("invalid_query", "limit must be 1 to 500 and before ≥ 1"));
    }
    let query = AuditQuery { actor: q.actor, action: q.action, before: q.before, limit };
    let items = s.audit(query).await?;
    let next_before = (items.len() == limit).then(|| items.last().map(|a| a.id)).flatten();
    Ok(Json(AuditPage { items, next_before }))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

/// `POST /v1/admin/agents/import`: the CSV as the body (`text/csv`).
pub async fn import<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    Q(q): Q<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge(format!("import at most {} MiB of CSV at a time", IMPORT_BODY_LIMIT >> 20))
        }
        _ => ApiError::bad("invalid_body", r.body_text()),
    })?;
    let csv_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")));
    if !csv_type {
        return Err(ApiError::UnsupportedMedia("send the agents as CSV with Content-Type: text/csv".into()));
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad("invalid_csv", "the CSV must be UTF-8"))?;
    Ok(Json(s.import_agents(&actor, text, q.dry_run).await?))
}

#[derive(Deserialize)]
pub struct UsersParams {
    /// Only users whose id, name or email holds this (any case).
    q: Option<String>,
    /// `next_after` of the previous page.
    after: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize, Deserialize)]
pub struct UsersPage {
    pub items: Vec<UserInfo>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<String>,
}

/// `GET /v1/admin/users`: users by id, a page at a time, optionally searched.
pub async fn users<D: Database>(
    AdminActor(s, _): AdminActor<D>,
    Q(p): Q<UsersParams>,
) -> Result<Json<UsersPage>, ApiError> {
    let limit = p.limit.unwrap_or(50);
    // A user id is at most 128 characters: a longer cursor is no cursor of ours.
    if !(1..=500).contains(&limit) || p.after.as_ref().is_some_and(|a| a.chars().count() > 128) {
        return Err(ApiError::bad("invalid_query", "limit must be 1 to 500, and after a user id"));
    }
    let items = s.users(UserQuery { text: p.q, after: p.after, limit }).await?;
    let next_after = (items.len() == limit).then(|| items.last().map(|u| u.id.clone())).flatten();
    Ok(Json(UsersPage { items, next_after }))
}

/// `GET /v1/admin/agents.csv`: the agents in the import's format.
pub async fn export<D: Database>(
    AdminActor(s, _): AdminActor<D>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let csv = s.export_agents_csv().await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"lonceng-agents.csv\""),
    ];
    Ok((headers, csv).into_response())
}

#[derive(Serialize, Deserialize)]
pub struct NodesPage {
    pub nodes: Vec<crate::service::NodeView>,
}

/// `GET /v1/admin/nodes`: every node of the deployment as it last reported (a 503 says the
/// database, where the reports are, cannot be reached).
pub async fn nodes<D: Database>(AdminActor(s, _): AdminActor<D>) -> Result<Json<NodesPage>, ApiError> {
    Ok(Json(NodesPage { nodes: s.nodes().await? }))
}
