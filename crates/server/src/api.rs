//! The HTTP API (documented in `openapi.json`, kept true by a test).
//!
//! Every failure is a JSON [`ErrorBody`] with a stable code and a sentence for a person; extractor
//! rejections are mapped too, so a malformed body never gets axum's plain-text answer. Client routes
//! answer 503 with `Retry-After` during maintenance; producer events are still accepted and queued.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream, StreamExt};
use lonceng_core::model::{Category, Tab};
use lonceng_core::protocol::{
    sse, Change, ChangesPage, Counts, ErrorBody, ErrorDetail, EventResponse, EventStatus, MaintenanceStatus,
    MaintenanceWindow, MarkAllReadRequest, MarkAllReadResponse, MarkReadResponse, NotificationsPage,
    Presence, PresenceReport,
};
use lonceng_core::rules::{InvalidEvent, ProducerEvent};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use crate::db::{Database, DbError, Device, ListFilter};
use crate::hub::Frame;
use crate::{token_hash, AppState};

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug)]
pub enum ApiError {
    BadRequest { code: &'static str, message: String },
    Unprocessable { code: &'static str, message: String },
    Unauthorized(&'static str),
    NotFound(String),
    MethodNotAllowed,
    Gone(String),
    TooLarge(String),
    UnsupportedMedia(String),
    NotImplemented(&'static str, &'static str),
    Maintenance { until: Option<DateTime<Utc>>, retry_after: u64 },
    Internal,
}

impl ApiError {
    fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { code, message: message.into() }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::CursorGone { .. } => ApiError::Gone(e.to_string()),
            other => {
                tracing::error!(error = %other, "storage failed");
                ApiError::Internal
            }
        }
    }
}

impl From<InvalidEvent> for ApiError {
    fn from(e: InvalidEvent) -> ApiError {
        ApiError::Unprocessable { code: "invalid_event", message: e.to_string() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest { code, message } => (StatusCode::BAD_REQUEST, *code, message.clone()),
            ApiError::Unprocessable { code, message } => {
                (StatusCode::UNPROCESSABLE_ENTITY, *code, message.clone())
            }
            ApiError::Unauthorized(why) => (StatusCode::UNAUTHORIZED, "unauthorized", (*why).to_owned()),
            ApiError::NotFound(what) => (StatusCode::NOT_FOUND, "not_found", what.clone()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not take that method".into(),
            ),
            ApiError::Gone(m) => (StatusCode::GONE, "cursor_gone", m.clone()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m.clone()),
            ApiError::UnsupportedMedia(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m.clone())
            }
            ApiError::NotImplemented(code, m) => (StatusCode::NOT_IMPLEMENTED, *code, (*m).to_owned()),
            ApiError::Maintenance { until, .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "maintenance",
                match until {
                    Some(t) => format!("under maintenance until {}", t.to_rfc3339()),
                    None => "under maintenance".to_owned(),
                },
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server failed; it has been logged".into(),
            ),
        };
        let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message } };
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::Maintenance { retry_after, .. } => {
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// A JSON body whose rejections are [`ApiError`]s.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) => Err(match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::TooLarge(format!("the request body is larger than {BODY_LIMIT} bytes"))
                }
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMedia(
                    "send the body as JSON with Content-Type: application/json".into(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY => {
                    ApiError::Unprocessable { code: "invalid_body", message: r.body_text() }
                }
                _ => ApiError::bad("malformed_json", r.body_text()),
            }),
        }
    }
}

/// Query parameters whose rejections are [`ApiError`]s.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T> FromRequestParts<S> for Q<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|r| ApiError::bad("invalid_query", r.body_text()))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// An authenticated client device. Rejects with 503 during maintenance, 401 without a valid token.
pub struct Client(pub Device);

impl<D: Database> FromRequestParts<Arc<AppState<D>>> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState<D>>) -> Result<Self, ApiError> {
        app.reject_if_maintenance()?;
        let token = bearer(parts).ok_or(ApiError::Unauthorized("send Authorization: Bearer <token>"))?;
        app.db
            .device(token_hash(token))
            .await?
            .map(Client)
            .ok_or(ApiError::Unauthorized("the token is not valid"))
    }
}

/// A producer (CRM, Omnichannel, chatbot) holding the producer token.
pub struct Producer;

impl<D: Database> FromRequestParts<Arc<AppState<D>>> for Producer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState<D>>) -> Result<Self, ApiError> {
        match bearer(parts) {
            Some(t) if crate::same_secret(t, &app.config.producer_token) => Ok(Producer),
            _ => Err(ApiError::Unauthorized("producer token required")),
        }
    }
}

/// An operator holding the admin token.
pub struct Admin;

impl<D: Database> FromRequestParts<Arc<AppState<D>>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<AppState<D>>) -> Result<Self, ApiError> {
        match bearer(parts) {
            Some(t) if crate::same_secret(t, &app.config.admin_token) => Ok(Admin),
            _ => Err(ApiError::Unauthorized("admin token required")),
        }
    }
}

pub fn router<D: Database>(app: Arc<AppState<D>>) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/v1/me", get(me))
        .route("/v1/notifications", get(list::<D>))
        .route("/v1/notifications/read-all", post(mark_all_read::<D>))
        .route("/v1/notifications/{id}/read", post(mark_read::<D>))
        .route("/v1/counts", get(counts::<D>))
        .route("/v1/changes", get(changes::<D>))
        .route("/v1/stream", get(stream::<D>))
        .route("/v1/presence", get(get_presence::<D>).put(put_presence::<D>))
        .route("/v1/maintenance", get(maintenance::<D>))
        .route("/v1/events", post(post_event::<D>))
        .route("/v1/admin/users", post(admin_user::<D>))
        .route("/v1/admin/tokens", post(admin_token::<D>))
        .route("/v1/admin/maintenance/windows", post(admin_window::<D>))
        .route("/v1/admin/maintenance/start", post(admin_start::<D>))
        .route("/v1/admin/maintenance/end", post(admin_end::<D>))
        .fallback(|| async { ApiError::NotFound("no such path".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(app)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[derive(Serialize, Deserialize)]
pub struct Me {
    pub user_id: String,
    pub device_id: String,
}

async fn me(Client(d): Client) -> Json<Me> {
    Json(Me { user_id: d.user_id, device_id: d.device_id })
}

#[derive(Deserialize)]
struct ListParams {
    tab: String,
    category: Option<String>,
    #[serde(default)]
    unread: bool,
    cursor: Option<String>,
    limit: Option<usize>,
}

fn parse_tab(s: &str) -> Result<Tab, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad("invalid_query", format!("unknown tab '{s}' (general, inbox, approval)")))
}

fn parse_scope(tab: &str, category: Option<&str>) -> Result<(Tab, Option<Category>), ApiError> {
    let tab = parse_tab(tab)?;
    let category = match category {
        None | Some("") => None,
        Some(c) => {
            let c: Category =
                c.parse().map_err(|_| ApiError::bad("invalid_query", format!("unknown category '{c}'")))?;
            if c.tab() != tab {
                return Err(ApiError::bad("invalid_query", format!("category '{c}' is not in tab '{tab}'")));
            }
            Some(c)
        }
    };
    Ok((tab, category))
}

/// Page cursors are `<created_at ms>:<id>`, opaque to clients.
fn parse_cursor(s: &str) -> Result<(DateTime<Utc>, String), ApiError> {
    let bad = || ApiError::bad("invalid_cursor", "the cursor is not one this server gave out");
    let (ms, id) = s.split_once(':').ok_or_else(bad)?;
    let at = ms.parse().ok().and_then(DateTime::from_timestamp_millis).ok_or_else(bad)?;
    Ok((at, id.to_owned()))
}

async fn list<D: Database>(
    State(app): State<Arc<AppState<D>>>,
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
    let items = app.db.list(d.user_id, filter).await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|n| format!("{}:{}", n.created_at.timestamp_millis(), n.id)))
        .flatten();
    Ok(Json(NotificationsPage { items, next_cursor }))
}

async fn counts<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    Client(d): Client,
) -> Result<Json<Counts>, ApiError> {
    Ok(Json(app.db.counts(d.user_id).await?))
}

#[derive(Deserialize)]
struct ChangesParams {
    #[serde(default)]
    since: i64,
    limit: Option<usize>,
}

async fn changes<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    Client(d): Client,
    Q(p): Q<ChangesParams>,
) -> Result<Json<ChangesPage>, ApiError> {
    let limit = p.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) || p.since < 0 {
        return Err(ApiError::bad("invalid_query", "limit must be 1 to 1000 and since ≥ 0"));
    }
    Ok(Json(app.db.changes(d.user_id, p.since, limit).await?))
}

async fn mark_read<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    Client(d): Client,
    Path(id): Path<String>,
) -> Result<Json<MarkReadResponse>, ApiError> {
    let acted = app
        .db
        .mark_read(d.user_id, id.clone(), app.clock.now())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no notification '{id}'")))?;
    app.hub.publish(&acted.changes);
    Ok(Json(acted.response))
}

async fn mark_all_read<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    Client(d): Client,
    headers: HeaderMap,
    Body(req): Body<MarkAllReadRequest>,
) -> Result<Json<MarkAllReadResponse>, ApiError> {
    if let Some(c) = req.category {
        if c.tab() != req.tab {
            return Err(ApiError::Unprocessable {
                code: "invalid_body",
                message: format!("category '{c}' is not in tab '{}'", req.tab),
            });
        }
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    if key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(ApiError::bad("invalid_header", "Idempotency-Key must be 1 to 200 characters"));
    }
    let acted = app.db.mark_all_read(d.user_id, req, key, app.clock.now()).await?;
    app.hub.publish(&acted.changes);
    Ok(Json(acted.response))
}

async fn get_presence<D: Database>(State(app): State<Arc<AppState<D>>>, Client(d): Client) -> Json<Presence> {
    Json(app.presence.get(&d.user_id, app.clock.now()))
}

async fn put_presence<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    Client(d): Client,
    Body(report): Body<PresenceReport>,
) -> Json<Presence> {
    let presence = app.presence.report(&d.user_id, &d.device_id, report, app.clock.now());
    if let Ok(json) = serde_json::to_string(&presence) {
        app.hub.send_to(&d.user_id, Frame::Presence(json.into()));
    }
    Json(presence)
}

async fn maintenance<D: Database>(State(app): State<Arc<AppState<D>>>) -> Json<MaintenanceStatus> {
    Json(app.maintenance_status())
}

async fn post_event<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    _: Producer,
    Body(event): Body<ProducerEvent>,
) -> Result<(StatusCode, Json<EventResponse>), ApiError> {
    let response = app.submit(event).await?;
    let status = if response.status == EventStatus::Queued { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(response)))
}

#[derive(Deserialize)]
struct NewUser {
    id: String,
    name: String,
}

async fn admin_user<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    _: Admin,
    Body(u): Body<NewUser>,
) -> Result<StatusCode, ApiError> {
    if u.id.is_empty() || u.id.len() > 128 || u.name.chars().count() > 200 {
        return Err(ApiError::Unprocessable {
            code: "invalid_body",
            message: "id must be 1 to 128 characters".into(),
        });
    }
    app.db.add_user(u.id, u.name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NewToken {
    user_id: String,
    device_id: String,
}

#[derive(Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: String,
}

async fn admin_token<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    _: Admin,
    Body(t): Body<NewToken>,
) -> Result<Json<IssuedToken>, ApiError> {
    if t.user_id.is_empty() || t.device_id.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "invalid_body",
            message: "user_id and device_id are required".into(),
        });
    }
    let token = app.issue_token(&t.user_id, &t.device_id).await?;
    Ok(Json(IssuedToken { token }))
}

#[derive(Deserialize)]
struct NewWindow {
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    #[serde(default)]
    message: String,
}

async fn admin_window<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    _: Admin,
    Body(w): Body<NewWindow>,
) -> Result<Json<MaintenanceWindow>, ApiError> {
    if w.ends_at <= w.starts_at {
        return Err(ApiError::Unprocessable {
            code: "invalid_body",
            message: "ends_at must be after starts_at".into(),
        });
    }
    Ok(Json(app.announce(w.starts_at, w.ends_at, w.message).await?))
}

#[derive(Deserialize)]
struct StartMaintenance {
    until: Option<DateTime<Utc>>,
}

async fn admin_start<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    _: Admin,
    Body(s): Body<StartMaintenance>,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    app.start_maintenance(s.until).await?;
    Ok(Json(app.maintenance_status()))
}

#[derive(Deserialize)]
struct EndMaintenance {
    /// Re-send every n-th item delivered from the queue (exercises client dedupe, MW-4).
    resend_every: Option<u32>,
}

async fn admin_end<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    _: Admin,
    Body(e): Body<EndMaintenance>,
) -> Result<Json<MaintenanceStatus>, ApiError> {
    app.end_maintenance(e.resend_every).await?;
    Ok(Json(app.maintenance_status()))
}

#[derive(Deserialize)]
struct StreamParams {
    since: Option<i64>,
}

/// `GET /v1/stream`: the user's changes as Server-Sent Events. Resumes after `Last-Event-ID` (or
/// `?since=`) by replaying from the database, then follows live frames. A gap in the live sequence
/// (a lagging receiver, or two commits published out of order) switches back to replay, so a stream
/// never skips a change.
async fn stream<D: Database>(
    State(app): State<Arc<AppState<D>>>,
    Client(d): Client,
    headers: HeaderMap,
    Q(p): Q<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if !app.config.streaming {
        return Err(ApiError::NotImplemented(
            "streaming_disabled",
            "this server does not stream; poll GET /v1/changes instead",
        ));
    }
    let header_id =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
    let (rx_user, rx_global) = app.hub.subscribe(&d.user_id);
    let last = match header_id.or(p.since) {
        Some(seq) => seq,
        None => app.db.last_seq(d.user_id.clone()).await?,
    };
    let presence = serde_json::to_string(&app.presence.get(&d.user_id, app.clock.now())).unwrap_or_default();
    let state = StreamState {
        app: app.clone(),
        user: d.user_id,
        last,
        replay: VecDeque::new(),
        replay_done: header_id.is_none() && p.since.is_none(),
        rx_user,
        rx_global,
        first: Some(Event::default().event(sse::PRESENCE).data(presence)),
        closing: false,
    };
    let events = stream::unfold(state, next_event).take_until(app.shutdown.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(app.config.keep_alive)))
}

struct StreamState<D> {
    app: Arc<AppState<D>>,
    user: String,
    last: i64,
    replay: VecDeque<Change>,
    replay_done: bool,
    rx_user: tokio::sync::broadcast::Receiver<Frame>,
    rx_global: tokio::sync::broadcast::Receiver<Frame>,
    first: Option<Event>,
    closing: bool,
}

fn change_event(seq: i64, json: &str) -> Event {
    Event::default().event(sse::CHANGE).id(seq.to_string()).data(json)
}

async fn next_event<D: Database>(
    mut st: StreamState<D>,
) -> Option<(Result<Event, Infallible>, StreamState<D>)> {
    if let Some(first) = st.first.take() {
        return Some((Ok(first), st));
    }
    loop {
        if st.closing {
            return None;
        }
        if let Some(c) = st.replay.pop_front() {
            st.last = c.seq;
            let json = serde_json::to_string(&c).unwrap_or_default();
            return Some((Ok(change_event(c.seq, &json)), st));
        }
        if !st.replay_done {
            match st.app.db.changes(st.user.clone(), st.last, 500).await {
                Ok(page) => {
                    st.replay_done = !page.more;
                    st.replay.extend(page.changes);
                    continue;
                }
                // The client must list again; ending the stream makes it call /v1/changes and see 410.
                Err(e) => {
                    tracing::info!(error = %e, user = %st.user, "stream replay ended");
                    return None;
                }
            }
        }
        tokio::select! {
            r = st.rx_user.recv() => match r {
                Ok(Frame::Change { seq, json }) => {
                    if seq <= st.last {
                        continue;
                    }
                    if seq > st.last + 1 {
                        st.replay_done = false;
                        continue;
                    }
                    st.last = seq;
                    return Some((Ok(change_event(seq, &json)), st));
                }
                Ok(Frame::Presence(json)) => return Some((Ok(Event::default().event(sse::PRESENCE).data(&*json)), st)),
                Ok(Frame::Maintenance(_) | Frame::Close) => continue,
                Err(RecvError::Lagged(_)) => st.replay_done = false,
                Err(RecvError::Closed) => return None,
            },
            r = st.rx_global.recv() => match r {
                Ok(Frame::Maintenance(json)) => return Some((Ok(Event::default().event(sse::MAINTENANCE).data(&*json)), st)),
                Ok(Frame::Close) => st.closing = true,
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            },
        }
    }
}
