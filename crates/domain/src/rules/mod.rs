//! The Notification Center rules as pure functions (PRODUCT.md §3).
//!
//! The server applies [`decide`] to every producer event (NC-R1, NC-R2, NC-R4); server and client both
//! prune with [`retention_cutoff`] (NC-R5); the bell window groups with [`section`] (NC-R10). Nothing
//! here reads a clock or a time zone: both are passed in, so every boundary is testable. The rules of
//! time (NC-R5, NC-R10) are in [`time`](self::time).

mod ingest;
mod time;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{keyed_enum, Category, ChatMessage, Kind, Notification, Params, Problem, UnknownKey};

pub use self::ingest::admit;
pub use self::time::{is_expired, retention, retention_cutoff, section, Section};

/// A user as a producer names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub name: String,
}

keyed_enum! {
    /// Where the action that caused an event came from.
    #[derive(Default)]
    Origin { #[default] Manual = "manual", Inbox = "inbox", Chatbot = "chatbot", Automation = "automation" }
}

/// A domain event as a producer (CRM, Omnichannel, chatbot) posts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// The producer's key: the same event sent twice creates one notification (MW-4).
    pub idempotency_key: String,
    pub kind: Kind,
    /// Who performed the action as the producer recorded it (for a task mention, the reporter).
    #[serde(default)]
    pub actor: Option<Actor>,
    /// For mentions: who actually wrote the text. Wins over `actor` (NC-R2).
    #[serde(default)]
    pub posted_by: Option<Actor>,
    #[serde(default)]
    pub origin: Origin,
    /// For [`Kind::CrmNotice`] only: the category the CRM gave it.
    #[serde(default)]
    pub category: Option<Category>,
    pub recipients: Vec<String>,
    pub params: Params,
    pub url: String,
    pub occurred_at: DateTime<Utc>,
}

/// What producers post: a domain event or an incoming chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProducerEvent {
    Notification(DomainEvent),
    ChatMessage(ChatMessage),
}

/// A notification the server should create for one recipient (it assigns the id).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub recipient_id: String,
    pub kind: Kind,
    pub category: Category,
    pub params: Params,
    pub actor_id: Option<String>,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

impl Draft {
    /// The notification the server stores for this draft under the id it chose: unread, for its
    /// recipient. Its wire form is [`Notification::to_wire`], the one place that builds it.
    pub fn into_notification(self, id: String) -> Notification {
        Notification {
            id,
            category: self.category,
            kind: self.kind,
            params: self.params,
            actor_id: self.actor_id,
            recipient_id: self.recipient_id,
            url: self.url,
            created_at: self.created_at,
            read_at: None,
        }
    }
}

keyed_enum! {
    /// Why a recipient gets no notification for an event.
    SuppressReason {
        /// NC-R1: the recipient assigned themselves.
        SelfAssignment = "self_assignment",
        /// NC-R1: the recipient mentioned themselves.
        SelfMention = "self_mention",
        /// The recipient performed the action themselves (resolved their own chat, approved their own
        /// request, changed their own task's status).
        SelfAction = "self_action",
        /// NC-R5: the item would already be past its tab's retention.
        Expired = "expired",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Notify(Draft),
    Suppressed { recipient_id: String, reason: SuppressReason },
}

/// The outcome of one producer event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// One decision per distinct recipient.
    List(Vec<Decision>),
    /// NC-R4: chat messages are toasted, never listed or counted.
    ToastOnly(ChatMessage),
}

/// Why a producer event cannot be accepted at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("the event has no recipients")]
    NoRecipients,
    #[error("the idempotency key must be 1 to 200 characters, none of them control characters")]
    BadIdempotencyKey,
    #[error("kind '{0}' needs a category from the CRM (general or approval)")]
    MissingCategory(Kind),
    #[error("{0}")]
    Invalid(#[from] Problem),
    #[error("the chat message is missing its {0}")]
    IncompleteChatMessage(&'static str),
    /// A time outside what can be true: before 2000, or more than a day ahead of the server.
    #[error("the event's time {0} is not believable (from 2000 to a day from now)")]
    BadTime(DateTime<Utc>),
    /// The link's host is not one the organisation allows (the same policy desktops apply).
    #[error("the link is refused: {0}")]
    Link(String),
    /// An id (a recipient, the actor, a chat's ids) that is not 1 to 200 characters of text.
    #[error("the {0} must be 1 to 200 characters, none of them control characters")]
    BadId(&'static str),
}

/// Ids in producer events: up to 200 characters of text.
fn plain(s: &str) -> bool {
    crate::model::is_plain_id(s, 200)
}

impl From<UnknownKey> for InvalidEvent {
    fn from(e: UnknownKey) -> Self {
        InvalidEvent::Invalid(Problem::Unknown(e))
    }
}

/// Applies NC-R1, NC-R2 and NC-R4 to a producer event.
pub fn decide(event: &ProducerEvent) -> Result<Outcome, InvalidEvent> {
    match event {
        ProducerEvent::ChatMessage(m) => {
            for (field, value) in [
                ("event id", &m.event_id),
                ("conversation id", &m.conversation_id),
                ("recipient", &m.recipient_id),
            ] {
                if value.is_empty() {
                    return Err(InvalidEvent::IncompleteChatMessage(field));
                }
                if !plain(value) {
                    return Err(InvalidEvent::BadId(field));
                }
            }

            if !crate::model::is_web_url(&m.url) {
                return Err(Problem::BadUrl.into());
            }
            Ok(Outcome::ToastOnly(m.clone()))
        }
        ProducerEvent::Notification(e) => decide_notification(e).map(Outcome::List),
    }
}

fn decide_notification(e: &DomainEvent) -> Result<Vec<Decision>, InvalidEvent> {
    if !plain(&e.idempotency_key) {
        return Err(InvalidEvent::BadIdempotencyKey);
    }
    if e.recipients.iter().all(|r| r.is_empty()) {
        return Err(InvalidEvent::NoRecipients);
    }
    if e.recipients.iter().any(|r| !r.is_empty() && !plain(r)) {
        return Err(InvalidEvent::BadId("recipient"));
    }
    if [&e.actor, &e.posted_by].into_iter().flatten().any(|a| !plain(&a.id)) {
        return Err(InvalidEvent::BadId("actor id"));
    }
    if !crate::model::is_web_url(&e.url) {
        return Err(Problem::BadUrl.into());
    }
    let (kind, actor, params) = attribute(e);
    let category = match (kind.category(), e.category) {
        (Some(c), _) => c,
        (None, Some(c)) if kind.allows(c) => c,
        (None, Some(c)) => return Err(Problem::KindNotInCategory { kind, category: c }.into()),
        (None, None) => return Err(InvalidEvent::MissingCategory(kind)),
    };
    params.validate(kind)?;

    let mut seen = std::collections::BTreeSet::new();
    let decisions = e
        .recipients
        .iter()
        .filter(|r| !r.is_empty() && seen.insert(r.as_str()))
        .map(|recipient| match self_suppression(kind, actor, recipient) {
            Some(reason) => Decision::Suppressed { recipient_id: recipient.clone(), reason },
            None => Decision::Notify(Draft {
                recipient_id: recipient.clone(),
                kind,
                category,
                params: params.clone(),
                actor_id: actor.map(|a| a.id.clone()),
                url: e.url.clone(),
                created_at: e.occurred_at,
            }),
        })
        .collect();
    Ok(decisions)
}

/// NC-R2: who the notification is attributed to, and as which kind.
/// - A mention belongs to whoever posted the text, not the task reporter the producer may name.
/// - A deal owner assignment that came from Inbox or the chatbot is "automatically assigned": it names
///   no assigner, rather than the account owner the producer records.
fn attribute(e: &DomainEvent) -> (Kind, Option<&Actor>, Params) {
    let mut params = e.params.clone();
    match e.kind {
        Kind::Mention => {
            let actor = e.posted_by.as_ref().or(e.actor.as_ref());
            if let Some(a) = actor {
                params.0.insert("actor".into(), a.name.clone().into());
            }
            (Kind::Mention, actor, params)
        }
        Kind::DealOwnerAssigned if matches!(e.origin, Origin::Inbox | Origin::Chatbot) => {
            params.0.remove("actor");
            params.0.insert("source".into(), e.origin.as_str().into());
            (Kind::DealOwnerAutoAssigned, None, params)
        }
        kind => {
            if let (Some(a), true) = (&e.actor, kind.params().iter().any(|p| p.name == "actor")) {
                params.0.entry("actor".into()).or_insert_with(|| a.name.clone().into());
            }
            (kind, e.actor.as_ref(), params)
        }
    }
}

/// NC-R1: actions on yourself are silent. Reminders, exports, imports, automation results and
/// approval requests are things the agent asked for, so they are never suppressed.
fn self_suppression(kind: Kind, actor: Option<&Actor>, recipient: &str) -> Option<SuppressReason> {
    use Kind::*;
    if actor?.id != recipient {
        return None;
    }
    match kind {
        DealOwnerAssigned
        | TicketAssigned
        | TaskAssigned
        | TaskChecklistItemAssigned
        | ConversationAssigned => Some(SuppressReason::SelfAssignment),
        Mention => Some(SuppressReason::SelfMention),
        TicketStatusChanged
        | TaskStatusChanged
        | ConversationResolved
        | ContactBlocked
        | ContactUnblocked
        | DealApprovalApproved
        | DealApprovalRejected
        | ExpenseApprovalApproved
        | ExpenseApprovalRejected => Some(SuppressReason::SelfAction),
        Reminder
        | DealOwnerAutoAssigned
        | ExportReady
        | ImportProcessed
        | AutomationResult
        | CrmNotice
        | DealApprovalRequested
        | ExpenseApprovalRequested => None,
    }
}

#[cfg(test)]
mod tests;
