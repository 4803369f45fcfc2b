//! Qontak Omnichannel webhooks (shared/reference/qontak-omnichannel-webhooks.md), read tolerantly and
//! turned into producer events, so that the rules (NC-R1, NC-R2, NC-R4, NC-R5) apply exactly as for
//! any producer.
//!
//! - Room events (`qontak.chat.room.created` / `updated`, documented): the body is the room. A room
//!   is a small state machine, [`room_step`]: an agent newly in `agent_ids` gets Inbox · Assignment; a
//!   room that becomes `resolved` gives its agents Inbox · Resolved; an event older than the room's
//!   last one (Qontak re-sends and may reorder) changes nothing.
//! - Message interactions (observed, not documented): `receive_message_from_customer` becomes a
//!   toast-only chat message (NC-R4) for the room's agents; agent messages and delivery statuses are
//!   known and deliberately not notified.
//!
//! Assumptions where the public material is silent, each kept in one place here: the assigner is
//! named only if a payload carries `assigned_by_id` (the public example names none, so an assignment
//! is attributed to "Qontak"); a message's id is `id` or `message_id`, and without either the message
//! is keyed by its room, sender, time and text; an unknown channel code reads as "chat".

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::model::{ChatMessage, Kind, Params, MAX_TEXT_PARAM};
use crate::rules::{Actor, DomainEvent, Origin};

/// The longest id (room, agent, message) accepted from a webhook.
pub const MAX_ID: usize = 128;
/// What a notification names when Qontak does not say who acted (automatic assignment).
pub const SYSTEM_ACTOR: &str = "Qontak";

/// A webhook as understood.
#[derive(Debug, Clone, PartialEq)]
pub enum Webhook {
    Room(RoomEvent),
    Message(MessageEvent),
    /// Known, and not something Lonceng notifies about (an agent's own message, a delivery status).
    Ignored(String),
}

/// Why a webhook could not be understood; it is kept in the dead letters with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is JSON but not an object")]
    NotObject,
    #[error("unknown event: data_event '{0}' is neither a room event nor a message interaction")]
    UnknownEvent(String),
    #[error("a {what} without {field}")]
    Missing { what: &'static str, field: &'static str },
    #[error("{field} is not valid: {problem}")]
    Invalid { field: &'static str, problem: String },
}

/// A room event: the room as it is after the change.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomEvent {
    pub id: String,
    pub name: String,
    pub status: String,
    pub channel: String,
    pub agent_ids: Vec<String>,
    pub resolved_by_id: Option<String>,
    pub assigned_by_id: Option<String>,
    pub data_event: String,
    /// The room's own version: orders events and keys them (MW-4).
    pub updated_at: DateTime<Utc>,
}

impl RoomEvent {
    /// One key per version of the room: a re-delivery is the same key.
    pub fn key(&self) -> String {
        format!("qontak:room:{}", short_hash(&[&self.id, &self.data_event, &self.updated_at.to_rfc3339()]))
    }
}

/// An incoming message from a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageEvent {
    /// The message's id (or a digest of what identifies it).
    pub id: String,
    pub room_id: String,
    pub sender_name: String,
    pub channel: String,
    pub text: String,
    pub created_at: Option<DateTime<Utc>>,
}

/// What the server keeps of a room between events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomState {
    pub status: String,
    pub agent_ids: Vec<String>,
    pub name: String,
    pub channel: String,
    pub updated_at: DateTime<Utc>,
}

/// A Qontak agent linked to a Lonceng user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedUser {
    pub user_id: String,
    pub name: String,
}

/// What one room event does.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomStep {
    /// Older than what is known of the room: nothing changes.
    Stale,
    /// The room's new state and the producer events it causes.
    Apply { state: RoomState, events: Vec<DomainEvent> },
}

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Reads a webhook body. Never panics (fuzzed: `fuzz/fuzz_targets/qontak_webhook.rs`).
pub fn decode_webhook(body: &[u8]) -> Result<Webhook, WebhookError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let obj = value.as_object().ok_or(WebhookError::NotObject)?;
    let data_event = text_field(obj.get("data_event")).unwrap_or_default();
    let is_message = obj.get("webhook_event").and_then(Value::as_str) == Some("message_interaction")
        || MESSAGE_EVENTS.contains(&data_event.as_str())
        || data_event.starts_with("receive_message");
    if is_message {
        return decode_message(obj, &data_event);
    }
    let looks_like_room = obj.contains_key("agent_ids") || obj.contains_key("status");
    if looks_like_room || ROOM_EVENTS.contains(&data_event.as_str()) {
        return decode_room(obj, data_event).map(Webhook::Room);
    }
    Err(WebhookError::UnknownEvent(if data_event.is_empty() {
        "(none)".into()
    } else {
        clip(&data_event, 64)
    }))
}

/// Room `data_event`s seen in public examples or named by the article.
const ROOM_EVENTS: &[&str] = &[
    "room_created",
    "add_agent",
    "remove_agent",
    "resolve_room",
    "room_resolved",
    "assign_agent",
    "handover",
];
/// Message interactions Lonceng knows; only the first is notified.
const MESSAGE_EVENTS: &[&str] = &[
    "receive_message_from_customer",
    "receive_message_from_agent",
    "status_message",
    "broadcast_log_status",
];

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A string, or a number written as one (ids arrive as both in community integrations).
fn text_field(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn id_field(
    obj: &serde_json::Map<String, Value>,
    field: &'static str,
    what: &'static str,
) -> Result<String, WebhookError> {
    let id = text_field(obj.get(field))
        .filter(|s| !s.trim().is_empty())
        .ok_or(WebhookError::Missing { what, field })?;
    check_id(field, id)
}

fn check_id(field: &'static str, id: String) -> Result<String, WebhookError> {
    if !crate::model::is_plain_id(&id, MAX_ID) {
        return Err(WebhookError::Invalid {
            field,
            problem: format!("longer than {MAX_ID} characters or not text"),
        });
    }
    Ok(id)
}

fn time_field(v: Option<&Value>, field: &'static str) -> Result<Option<DateTime<Utc>>, WebhookError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| WebhookError::Invalid {
                field,
                problem: format!("'{}' is not an ISO 8601 time: {e}", clip(s, 40)),
            }),
        Some(_) => Err(WebhookError::Invalid { field, problem: "not a time".into() }),
    }
}

fn decode_room(obj: &serde_json::Map<String, Value>, data_event: String) -> Result<RoomEvent, WebhookError> {
    const WHAT: &str = "room event";
    let id = id_field(obj, "id", WHAT)?;
    let updated_at = match time_field(obj.get("updated_at"), "updated_at")? {
        Some(t) => t,
        None => time_field(obj.get("last_activity_at"), "last_activity_at")?
            .ok_or(WebhookError::Missing { what: WHAT, field: "updated_at" })?,
    };
    let agent_ids = match obj.get("agent_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => {
            let mut out = Vec::new();
            for v in ids {
                let id = text_field(Some(v)).ok_or(WebhookError::Invalid {
                    field: "agent_ids",
                    problem: "an entry is neither a string nor a number".into(),
                })?;
                let id = check_id("agent_ids", id)?;
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            if out.len() > 1000 {
                return Err(WebhookError::Invalid {
                    field: "agent_ids",
                    problem: "more than 1000 agents".into(),
                });
            }
            out
        }
        Some(_) => return Err(WebhookError::Invalid { field: "agent_ids", problem: "not a list".into() }),
    };
    let optional_id = |field: &'static str| {
        text_field(obj.get(field)).filter(|s| !s.is_empty()).map(|s| check_id(field, s)).transpose()
    };
    Ok(RoomEvent {
        name: clip(&text_field(obj.get("name")).unwrap_or_default(), MAX_TEXT_PARAM),
        status: clip(&text_field(obj.get("status")).unwrap_or_default(), 32).to_ascii_lowercase(),
        channel: channel(&text_field(obj.get("channel")).unwrap_or_default()),
        resolved_by_id: optional_id("resolved_by_id")?,
        assigned_by_id: optional_id("assigned_by_id")?,
        data_event: clip(&data_event, 64),
        agent_ids,
        updated_at,
        id,
    })
}

fn decode_message(obj: &serde_json::Map<String, Value>, data_event: &str) -> Result<Webhook, WebhookError> {
    const WHAT: &str = "message interaction";
    let is_agent = obj.get("is_agent").and_then(Value::as_bool).unwrap_or(false);
    let sender = obj.get("sender").and_then(Value::as_object);
    let participant = sender.and_then(|s| s.get("participant_type")).and_then(Value::as_str);
    if data_event != "receive_message_from_customer"
        || is_agent
        || participant.is_some_and(|p| p != "customer")
    {
        return Ok(Webhook::Ignored(format!("'{}' is not a message from a customer", clip(data_event, 64))));
    }
    let room_id = match text_field(obj.get("room_id")) {
        Some(id) if !id.is_empty() => check_id("room_id", id)?,
        _ => id_field(
            obj.get("room").and_then(Value::as_object).unwrap_or(&serde_json::Map::new()),
            "id",
            WHAT,
        )
        .map_err(|_| WebhookError::Missing { what: WHAT, field: "room_id" })?,
    };
    let room = obj.get("room").and_then(Value::as_object);
    let text = clip(&text_field(obj.get("text")).unwrap_or_default(), MAX_TEXT_PARAM);
    let created_at = time_field(obj.get("created_at"), "created_at")?;
    let id = match text_field(obj.get("id")).or_else(|| text_field(obj.get("message_id"))) {
        Some(id) if !id.is_empty() => check_id("id", id)?,
        _ => {
            let at = created_at.map(|t| t.to_rfc3339()).unwrap_or_default();
            let sender_id = text_field(obj.get("sender_id")).unwrap_or_default();
            format!("digest-{}", short_hash(&[&room_id, &sender_id, &at, &text]))
        }
    };
    let sender_name = sender
        .and_then(|s| text_field(s.get("name")))
        .or_else(|| room.and_then(|r| text_field(r.get("name"))))
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "Customer".into());
    let channel = channel(
        &room
            .and_then(|r| text_field(r.get("channel")))
            .or_else(|| text_field(obj.get("channel")))
            .unwrap_or_default(),
    );
    Ok(Webhook::Message(MessageEvent {
        id,
        room_id,
        sender_name: clip(&sender_name, MAX_TEXT_PARAM),
        channel,
        text,
        created_at,
    }))
}

/// Qontak's channel codes as the catalogs name them; anything else is "other" (rendered "chat").
pub fn channel(code: &str) -> String {
    match code.trim().to_ascii_lowercase().as_str() {
        "wa" | "wa_cloud" | "whatsapp" | "waba" => "whatsapp",
        "ig" | "instagram" => "instagram",
        "fb" | "facebook" | "messenger" => "facebook",
        "telegram" => "telegram",
        "line" => "line",
        "web_chat" | "webchat" | "livechat" | "live_chat" | "qontak_chat" => "webchat",
        "tokopedia" | "tokopedia_chat" => "tokopedia",
        "email" => "email",
        _ => "other",
    }
    .to_owned()
}

/// Where a room opens: `template` with `{room_id}` replaced (percent-encoded).
pub fn room_url(template: &str, room_id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(room_id.as_bytes()).collect();
    template.replace("{room_id}", &encoded)
}

/// What a room event does, given what is known of the room and which of its agents are linked to
/// Lonceng users (`users`: Qontak agent id → user). Unlinked agents are left out: nobody to tell.
pub fn room_step(
    previous: Option<&RoomState>,
    event: &RoomEvent,
    users: &BTreeMap<String, LinkedUser>,
    room_url_template: &str,
) -> RoomStep {
    if previous.is_some_and(|p| p.updated_at > event.updated_at) {
        return RoomStep::Stale;
    }
    let state = RoomState {
        status: event.status.clone(),
        agent_ids: event.agent_ids.clone(),
        // A later event may leave the name or channel out: keep what was known.
        name: Some(event.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| previous.map(|p| p.name.clone()))
            .unwrap_or_default(),
        channel: Some(event.channel.clone())
            .filter(|c| c != "other")
            .or_else(|| previous.map(|p| p.channel.clone()))
            .unwrap_or_else(|| "other".into()),
        updated_at: event.updated_at,
    };
    let actor = |id: &Option<String>| -> Option<Actor> {
        let linked = users.get(id.as_deref()?)?;
        Some(Actor { id: linked.user_id.clone(), name: linked.name.clone() })
    };
    let params = Params::new()
        .with("contact_name", if state.name.is_empty() { "customer".to_owned() } else { state.name.clone() })
        .with("channel", state.channel.clone());
    let url = room_url(room_url_template, &event.id);
    let recipients = |agents: &[&String]| -> Vec<String> {
        agents.iter().filter_map(|a| users.get(a.as_str())).map(|u| u.user_id.clone()).collect()
    };
    let event_for = |kind: Kind, actor: Option<Actor>, to: Vec<String>, suffix: &str| DomainEvent {
        idempotency_key: format!("{}:{suffix}", event.key()),
        kind,
        params: params
            .clone()
            .with("actor", actor.as_ref().map_or(SYSTEM_ACTOR.to_owned(), |a| a.name.clone())),
        actor,
        posted_by: None,
        origin: Origin::Inbox,
        category: None,
        recipients: to,
        url: url.clone(),
        occurred_at: event.updated_at,
    };
    let mut events = Vec::new();

    // An agent newly in `agent_ids` (not merely listed again) is assigned.
    let before: Vec<&String> = previous.map(|p| p.agent_ids.iter().collect()).unwrap_or_default();
    let added: Vec<&String> = state.agent_ids.iter().filter(|a| !before.contains(a)).collect();
    let to = recipients(&added);
    if !to.is_empty() && state.status != "resolved" {
        events.push(event_for(Kind::ConversationAssigned, actor(&event.assigned_by_id), to, "assigned"));
    }

    // Becoming resolved tells the room's agents (those of the room before, if the event drops them).
    let was_resolved = previous.is_some_and(|p| p.status == "resolved");
    if state.status == "resolved" && !was_resolved {
        let agents: Vec<&String> =
            if state.agent_ids.is_empty() { before.clone() } else { state.agent_ids.iter().collect() };
        let to = recipients(&agents);
        if !to.is_empty() {
            events.push(event_for(Kind::ConversationResolved, actor(&event.resolved_by_id), to, "resolved"));
        }
    }
    RoomStep::Apply { state, events }
}

/// The chat messages (NC-R4: toast-only) a customer's message gives the room's linked agents.
pub fn chat_messages(
    message: &MessageEvent,
    user_ids: &[String],
    room_url_template: &str,
    now: DateTime<Utc>,
) -> Vec<ChatMessage> {
    user_ids
        .iter()
        .map(|user| ChatMessage {
            // Per recipient: each agent's copy is its own event, deduped on its own (MW-4).
            event_id: format!("qontak-{}", short_hash(&[&message.room_id, &message.id, user])),
            conversation_id: message.room_id.clone(),
            channel: message.channel.clone(),
            sender_name: message.sender_name.clone(),
            preview: message.text.clone(),
            recipient_id: user.clone(),
            url: room_url(room_url_template, &message.room_id),
            received_at: message.created_at.unwrap_or(now),
        })
        .collect()
}

#[cfg(test)]
mod tests;
