//! Qontak's side of the API: the webhook URL an organisation registers with Qontak, and the admin
//! routes around it (webhook secrets, agent links and their CRM polling status, dead letters).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{Admin, AdminActor, Body, P, Q};
use super::routes::Svc;
use crate::bridge::{AgentStatus, BridgeStatus};
use crate::db::{AgentLink, Database, DeadLetter};
use crate::service::qontak::{IssuedSecret, SecretInfo, WebhookAnswer, WebhookStatus};

/// The largest webhook body taken (room payloads carry the channel's raw message).
pub const WEBHOOK_BODY_LIMIT: usize = 256 * 1024;

/// The webhook path before its secret; logs show this and never what follows it.
pub const WEBHOOK_PREFIX: &str = "/v1/integrations/qontak/webhooks/";

pub async fn webhook<D: Database>(
    State(service): Svc<D>,
    P(secret): P<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<WebhookAnswer>), ApiError> {
    // The secret is checked first: a stranger learns nothing about the body limits.
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            service.qontak_webhook_secret_known(&secret).await?;
            return Err(ApiError::TooLarge(format!(
                "the webhook body is larger than {WEBHOOK_BODY_LIMIT} bytes"
            )));
        }
        Err(r) => return Err(ApiError::bad("unreadable_body", r.body_text())),
    };
    let answer = service.qontak_webhook(&secret, &body).await?;
    let status = match answer.status {
        WebhookStatus::DeadLetter | WebhookStatus::Queued => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(answer)))
}

pub async fn create_secret<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
) -> Result<(StatusCode, Json<IssuedSecret>), ApiError> {
    let issued = s.create_webhook_secret().await?;
    s.note(&actor, "webhook_secret_created", &issued.id, "").await;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub async fn list_secrets<D: Database>(Admin(s): Admin<D>) -> Result<Json<Vec<SecretInfo>>, ApiError> {
    Ok(Json(s.webhook_secrets().await?))
}

pub async fn rotate_secret<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P(id): P<String>,
) -> Result<Json<IssuedSecret>, ApiError> {
    let issued = s.rotate_webhook_secret(&id).await?;
    let detail = issued.previous_valid_until.map(|u| format!("the old one until {}", u.to_rfc3339()));
    s.note(&actor, "webhook_secret_rotated", &id, &detail.unwrap_or_default()).await;
    Ok(Json(issued))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    agent_id: Option<String>,
    crm_sso_id: Option<String>,
}

/// A user's Qontak identities, and how polling the CRM for them goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentView {
    pub user_id: String,
    pub name: String,
    pub agent_id: Option<String>,
    pub crm_sso_id: Option<String>,
    /// `null` until the bridge polled for this agent (or without CRM credentials).
    pub crm: Option<AgentStatus>,
}

fn view<D: Database>(s: &crate::service::Service<D>, l: AgentLink) -> AgentView {
    let crm = s.bridge.status(&l.user_id);
    AgentView { user_id: l.user_id, name: l.name, agent_id: l.agent_id, crm_sso_id: l.crm_sso_id, crm }
}

pub async fn link_user<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P(user): P<String>,
    Body(req): Body<LinkRequest>,
) -> Result<Json<AgentView>, ApiError> {
    let link = s.link_agent(&user, req.agent_id, req.crm_sso_id).await?;
    let detail = format!(
        "agent {} · CRM {}",
        link.agent_id.as_deref().unwrap_or("–"),
        link.crm_sso_id.as_deref().unwrap_or("–")
    );
    s.note(&actor, "agent_linked", &user, &detail).await;
    Ok(Json(view(&s, link)))
}

/// `GET /v1/admin/qontak/bridge`: the CRM bridge as a whole (its budget, a pause).
pub async fn bridge<D: Database>(Admin(s): Admin<D>) -> Json<BridgeStatus> {
    Json(s.bridge.overall(s.config.crm.as_ref(), s.clock.now()))
}

pub async fn agents<D: Database>(Admin(s): Admin<D>) -> Result<Json<Vec<AgentView>>, ApiError> {
    Ok(Json(s.agent_links().await?.into_iter().map(|l| view(&s, l)).collect()))
}

#[derive(Deserialize)]
pub struct DeadLetterQuery {
    limit: Option<usize>,
    before: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadLetterPage {
    pub items: Vec<DeadLetter>,
    /// Pass as `before` for older ones; null on the last page.
    pub next_before: Option<i64>,
}

pub async fn dead_letters<D: Database>(
    Admin(s): Admin<D>,
    Q(q): Q<DeadLetterQuery>,
) -> Result<Json<DeadLetterPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) || q.before.is_some_and(|b| b < 1) {
        return Err(ApiError::bad("invalid_query", "limit must be 1 to 500 and before ≥ 1"));
    }
    let items = s.dead_letters(limit, q.before).await?;
    let next_before = (items.len() == limit).then(|| items.last().map(|d| d.id)).flatten();
    Ok(Json(DeadLetterPage { items, next_before }))
}

pub async fn replay<D: Database>(
    AdminActor(s, actor): AdminActor<D>,
    P(id): P<i64>,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let answer = s.replay_dead_letter(id).await?;
    s.note(&actor, "dead_letter_replayed", &id.to_string(), &format!("{:?}", answer.status)).await;
    Ok(Json(answer))
}
