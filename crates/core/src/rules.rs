//! The Notification Center rules as pure functions (PRODUCT.md §3).
//!
//! The server applies [`decide`] to every producer event (NC-R1, NC-R2, NC-R4); server and client both
//! prune with [`retention_cutoff`] (NC-R5); the bell window groups with [`section`] (NC-R10). Nothing
//! here reads a clock or a time zone: both are passed in, so every boundary is testable.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{keyed_enum, Category, ChatMessage, Kind, Notification, Params, Problem, Tab, UnknownKey};
use std::fmt;

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
    #[error("the idempotency key is empty or longer than 200 characters")]
    BadIdempotencyKey,
    #[error("kind '{0}' needs a category from the CRM (general or approval)")]
    MissingCategory(Kind),
    #[error("{0}")]
    Invalid(#[from] Problem),
    #[error("the chat message is missing its {0}")]
    IncompleteChatMessage(&'static str),
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
    if e.idempotency_key.is_empty() || e.idempotency_key.len() > 200 {
        return Err(InvalidEvent::BadIdempotencyKey);
    }
    if e.recipients.iter().all(|r| r.is_empty()) {
        return Err(InvalidEvent::NoRecipients);
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

/// NC-R5: how long a tab keeps its notifications.
pub fn retention(tab: Tab) -> Duration {
    match tab {
        Tab::General | Tab::Approval => Duration::days(90),
        Tab::Inbox => Duration::days(7),
    }
}

/// NC-R5: items of `tab` created before this instant have expired.
pub fn retention_cutoff(tab: Tab, now: DateTime<Utc>) -> DateTime<Utc> {
    now - retention(tab)
}

pub fn is_expired(tab: Tab, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    created_at < retention_cutoff(tab, now)
}

/// NC-R10: the list sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Today,
    Older,
}

/// NC-R10: an item is in Today when its creation falls on the current calendar day of the device's
/// time zone. Items dated after "now" (a skewed server clock) count as Today rather than vanish.
pub fn section<Z: TimeZone>(created_at: DateTime<Utc>, now: DateTime<Utc>, tz: &Z) -> Section {
    let day = |t: DateTime<Utc>| t.with_timezone(tz).date_naive();
    if day(created_at) >= day(now) {
        Section::Today
    } else {
        Section::Older
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Today => "today",
            Section::Older => "older",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Jakarta, Asia::Jayapura, Tz};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn actor(id: &str, name: &str) -> Actor {
        Actor { id: id.into(), name: name.into() }
    }

    fn event(kind: Kind, actor_: Option<Actor>, recipients: &[&str], params: Params) -> DomainEvent {
        DomainEvent {
            idempotency_key: "evt-1".into(),
            kind,
            actor: actor_,
            posted_by: None,
            origin: Origin::Manual,
            category: None,
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            params,
            url: "https://app.qontak.com/crm/deals/9".into(),
            occurred_at: t("2026-01-20T02:00:00Z"),
        }
    }

    fn list(e: DomainEvent) -> Vec<Decision> {
        match decide(&ProducerEvent::Notification(e)).unwrap() {
            Outcome::List(d) => d,
            other => panic!("expected list, got {other:?}"),
        }
    }

    fn deal_params() -> Params {
        Params::new().with("deal_name", "PT Sinar Jaya renewal")
    }

    // NC-R1
    #[test]
    fn nc_r1_self_assignment_as_deal_owner_task_and_checklist_is_silent() {
        let cases = [
            (Kind::DealOwnerAssigned, deal_params()),
            (Kind::TaskAssigned, Params::new().with("task_name", "Call Budi")),
            (
                Kind::TaskChecklistItemAssigned,
                Params::new().with("task_name", "Onboarding").with("item_name", "Send contract"),
            ),
            (Kind::TicketAssigned, Params::new().with("ticket_name", "#812")),
        ];
        for (kind, params) in cases {
            let d = list(event(kind, Some(actor("u-1", "Sari")), &["u-1"], params.clone()));
            assert_eq!(
                d,
                vec![Decision::Suppressed {
                    recipient_id: "u-1".into(),
                    reason: SuppressReason::SelfAssignment
                }],
                "{kind}"
            );
            // Assigned by someone else: notified, attributed to the assigner.
            let d = list(event(kind, Some(actor("u-2", "Budi")), &["u-1"], params));
            match &d[..] {
                [Decision::Notify(draft)] => {
                    assert_eq!(draft.actor_id.as_deref(), Some("u-2"));
                    assert_eq!(draft.params.text("actor"), Some("Budi"));
                }
                other => panic!("{kind}: {other:?}"),
            }
        }
    }

    // NC-R1
    #[test]
    fn nc_r1_self_mention_is_silent_and_others_in_the_same_event_are_notified() {
        let mut e = event(
            Kind::Mention,
            None,
            &["u-1", "u-3"],
            Params::new().with("target", "task_detail").with("object_name", "Demo prep"),
        );
        e.posted_by = Some(actor("u-1", "Sari"));
        let d = list(e);
        assert_eq!(
            d[0],
            Decision::Suppressed { recipient_id: "u-1".into(), reason: SuppressReason::SelfMention }
        );
        assert!(matches!(&d[1], Decision::Notify(x) if x.recipient_id == "u-3"));
    }

    // NC-R1
    #[test]
    fn nc_r1_requested_things_still_notify_their_requester() {
        let e = event(
            Kind::ExportReady,
            Some(actor("u-1", "Sari")),
            &["u-1"],
            Params::new().with("object_type", "deals").with("count", 120),
        );
        assert!(matches!(&list(e)[..], [Decision::Notify(_)]));
        let e = event(
            Kind::Reminder,
            Some(actor("u-1", "Sari")),
            &["u-1"],
            Params::new().with("object_type", "task").with("object_name", "Follow up"),
        );
        assert!(matches!(&list(e)[..], [Decision::Notify(_)]));
    }

    // NC-R2
    #[test]
    fn nc_r2_mention_in_task_detail_is_attributed_to_the_poster_not_the_reporter() {
        let mut e = event(
            Kind::Mention,
            Some(actor("u-9", "Reporter Rina")),
            &["u-1"],
            Params::new()
                .with("actor", "Reporter Rina")
                .with("target", "task_detail")
                .with("object_name", "Demo prep"),
        );
        e.posted_by = Some(actor("u-4", "Andi"));
        match &list(e)[..] {
            [Decision::Notify(d)] => {
                assert_eq!(d.actor_id.as_deref(), Some("u-4"));
                assert_eq!(d.params.text("actor"), Some("Andi"));
            }
            other => panic!("{other:?}"),
        }
    }

    // NC-R2 + NC-R1: a poster mentioning themselves is silent even when the producer names the reporter.
    #[test]
    fn nc_r2_self_mention_is_judged_by_the_poster() {
        let mut e = event(
            Kind::Mention,
            Some(actor("u-9", "Reporter Rina")),
            &["u-4"],
            Params::new().with("target", "task_detail").with("object_name", "Demo prep"),
        );
        e.posted_by = Some(actor("u-4", "Andi"));
        assert!(matches!(&list(e)[..], [Decision::Suppressed { reason: SuppressReason::SelfMention, .. }]));
    }

    // NC-R2
    #[test]
    fn nc_r2_deal_from_inbox_or_chatbot_is_automatically_assigned_not_by_the_account_owner() {
        for origin in [Origin::Inbox, Origin::Chatbot] {
            // The producer records the account owner (u-1) as assigner, even to themselves.
            let mut e = event(
                Kind::DealOwnerAssigned,
                Some(actor("u-1", "Account Owner")),
                &["u-1", "u-5"],
                deal_params().with("actor", "Account Owner"),
            );
            e.origin = origin;
            let d = list(e);
            assert_eq!(d.len(), 2);
            for decision in d {
                let Decision::Notify(draft) = decision else { panic!("{decision:?}") };
                assert_eq!(draft.kind, Kind::DealOwnerAutoAssigned);
                assert_eq!(draft.actor_id, None);
                assert_eq!(draft.params.text("actor"), None);
                assert_eq!(draft.params.text("source"), Some(origin.as_str()));
                assert_eq!(draft.params.validate(Kind::DealOwnerAutoAssigned), Ok(()));
            }
        }
    }

    #[test]
    fn recipients_are_deduplicated_and_events_are_validated() {
        let d =
            list(event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1", "u-1", ""], deal_params()));
        assert_eq!(d.len(), 1);

        let e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &[], deal_params());
        assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::NoRecipients));

        let e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1"], Params::new());
        assert!(matches!(
            decide(&ProducerEvent::Notification(e)),
            Err(InvalidEvent::Invalid(Problem::MissingParam { param: "deal_name", .. }))
        ));

        let mut e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1"], deal_params());
        e.idempotency_key.clear();
        assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::BadIdempotencyKey));

        let mut e = event(
            Kind::CrmNotice,
            None,
            &["u-1"],
            Params::new().with("origin", "deal").with("description", "x"),
        );
        assert_eq!(
            decide(&ProducerEvent::Notification(e.clone())),
            Err(InvalidEvent::MissingCategory(Kind::CrmNotice))
        );
        e.category = Some(Category::Deals);
        assert!(matches!(decide(&ProducerEvent::Notification(e)), Ok(Outcome::List(_))));
    }

    fn chat() -> ChatMessage {
        ChatMessage {
            event_id: "wa-77".into(),
            conversation_id: "room-1".into(),
            channel: "whatsapp".into(),
            sender_name: "Budi".into(),
            preview: "Halo, pesanan saya?".into(),
            recipient_id: "u-1".into(),
            url: "https://chat.qontak.com/inbox/room-1".into(),
            received_at: t("2026-01-20T02:00:00Z"),
        }
    }

    // NC-R4
    #[test]
    fn nc_r4_chat_messages_are_toast_only() {
        assert_eq!(decide(&ProducerEvent::ChatMessage(chat())), Ok(Outcome::ToastOnly(chat())));
        let mut m = chat();
        m.event_id.clear();
        assert_eq!(
            decide(&ProducerEvent::ChatMessage(m)),
            Err(InvalidEvent::IncompleteChatMessage("event id"))
        );
        // And there is no kind a chat message could be stored as.
        assert!("chat_message".parse::<Kind>().is_err());
    }

    #[test]
    fn producer_events_decode_from_json() {
        let json = serde_json::json!({
            "type": "chat_message", "event_id": "e", "conversation_id": "c", "channel": "line",
            "sender_name": "S", "preview": "p", "recipient_id": "u", "url": "https://x.y/",
            "received_at": "2026-01-20T02:00:00Z"
        });
        assert!(matches!(serde_json::from_value::<ProducerEvent>(json), Ok(ProducerEvent::ChatMessage(_))));
    }

    // NC-R5
    #[test]
    fn nc_r5_retention_is_90_days_for_general_and_approval_and_7_for_inbox() {
        let now = t("2026-04-30T12:00:00Z");
        assert_eq!(retention_cutoff(Tab::General, now), t("2026-01-30T12:00:00Z"));
        assert_eq!(retention_cutoff(Tab::Approval, now), t("2026-01-30T12:00:00Z"));
        assert_eq!(retention_cutoff(Tab::Inbox, now), t("2026-04-23T12:00:00Z"));
        assert!(!is_expired(Tab::Inbox, t("2026-04-23T12:00:00Z"), now));
        assert!(is_expired(Tab::Inbox, t("2026-04-23T11:59:59Z"), now));
        assert!(!is_expired(Tab::General, t("2026-04-23T11:59:59Z"), now));
        assert!(is_expired(Tab::General, t("2026-01-30T11:59:59Z"), now));
    }

    // NC-R10
    #[test]
    fn nc_r10_today_is_the_local_calendar_day() {
        // 16:59:59Z is 23:59:59 in Jakarta (UTC+7); 17:00Z is the next local day.
        let now = t("2026-01-20T17:30:00Z"); // 00:30 on Jan 21 in Jakarta
        assert_eq!(section(t("2026-01-20T17:00:00Z"), now, &Jakarta), Section::Today);
        assert_eq!(section(t("2026-01-20T16:59:59Z"), now, &Jakarta), Section::Older);
        // The same instants in UTC are both on Jan 20: both Today.
        assert_eq!(section(t("2026-01-20T16:59:59Z"), now, &Utc), Section::Today);
    }

    // NC-R10
    #[test]
    fn nc_r10_a_time_zone_change_moves_items_between_sections() {
        // The agent flies from Jakarta (UTC+7) to New York (UTC-5): same items, same instant.
        let now = t("2026-01-20T03:00:00Z"); // Jakarta: Jan 20 10:00; New York: Jan 19 22:00
        let item = t("2026-01-19T16:30:00Z"); // Jakarta: Jan 19 23:30; New York: Jan 19 11:30
        assert_eq!(section(item, now, &Jakarta), Section::Older);
        assert_eq!(section(item, now, &New_York), Section::Today);
        let item = t("2026-01-20T01:00:00Z"); // Jakarta: Jan 20 08:00; New York: Jan 19 20:00
        assert_eq!(section(item, now, &Jakarta), Section::Today);
        assert_eq!(section(item, now, &New_York), Section::Today);
        // A zone named at run time (the device's setting) behaves the same as a compiled-in one.
        let tz: Tz = "Asia/Jayapura".parse().unwrap();
        assert_eq!(tz, Jayapura);
        assert_eq!(section(t("2026-01-19T14:59:59Z"), now, &tz), Section::Older); // Jan 19 23:59:59
        assert_eq!(section(t("2026-01-19T15:00:00Z"), now, &tz), Section::Today);
        // Jan 20 00:00
    }

    // NC-R10
    #[test]
    fn nc_r10_future_items_from_a_skewed_clock_stay_in_today() {
        let now = t("2026-01-20T03:00:00Z");
        assert_eq!(section(t("2026-01-22T03:00:00Z"), now, &Jakarta), Section::Today);
    }
}
