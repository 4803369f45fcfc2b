//! The wire protocol between a Lonceng server and its clients, shared by both sides so that they can
//! never disagree. The HTTP surface is documented in `crates/server/openapi.json`.
//!
//! Every change a user's devices must see (a new item, items read, items expired, an incoming chat
//! message) is a [`Change`] with the user's next sequence number. The change feed (`GET /v1/changes`)
//! and the stream (`GET /v1/stream`, Server-Sent Events whose `id:` is that number) carry the same
//! changes, so a client that was away for hours catches up from its cursor and nothing is lost (MW-3).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Category, ChatMessage, Tab, WireNotification};
use crate::rules::SuppressReason;

/// One entry of a user's change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The user's sequence number: strictly increasing per user.
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: ChangeBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChangeBody {
    /// A new notification. The same notification may be sent again (a deliberate re-send after an
    /// outage): clients dedupe by its id (MW-4).
    Created { notification: WireNotification },
    /// Items read on some device (NC-R13).
    Read { ids: Vec<String>, read_at: DateTime<Utc> },
    /// ORG-7: items marked unread again on some device; every device follows, as for a read.
    Unread { ids: Vec<String> },
    /// Items past their tab's retention (NC-R5).
    Expired { ids: Vec<String> },
    /// An incoming chat message: toast-only (NC-R4); clients dedupe by `event_id` (MW-4).
    Chat { message: ChatMessage },
}

/// `GET /v1/changes` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// The cursor to ask from next time: the last `seq` returned, or the `since` asked for.
    pub cursor: i64,
    /// More changes wait beyond this page.
    pub more: bool,
}

/// `GET /v1/notifications` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationsPage {
    pub items: Vec<WireNotification>,
    /// Opaque; pass as `cursor` for the next page. Absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/counts` response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub total: u64,
    pub tabs: BTreeMap<Tab, u64>,
    pub categories: BTreeMap<Category, u64>,
}

/// `POST /v1/notifications/{id}/read` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkReadResponse {
    /// False when it was read already (on this or another device).
    pub changed: bool,
    pub read_at: DateTime<Utc>,
}

/// `POST /v1/notifications/{id}/unread` response (ORG-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkUnreadResponse {
    /// False when it was unread already.
    pub changed: bool,
}

/// `POST /v1/notifications/read-all` request (NC-R6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkAllReadRequest {
    pub tab: Tab,
    #[serde(default)]
    pub category: Option<Category>,
    /// The client's change cursor when the agent clicked: nothing created after it is marked.
    #[serde(default)]
    pub upto_cursor: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkAllReadResponse {
    pub changed: u64,
}

/// What the server did with a producer event (`POST /v1/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventResponse {
    pub status: EventStatus,
    /// Notifications created, one per notified recipient.
    #[serde(default)]
    pub created: Vec<CreatedFor>,
    /// Recipients who get nothing, and why (NC-R1).
    #[serde(default)]
    pub suppressed: Vec<SuppressedFor>,
    /// True when this idempotency key was seen before: nothing new was created (MW-4).
    #[serde(default)]
    pub duplicate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Applied: see `created` and `suppressed`.
    Applied,
    /// A chat message: delivered to the stream, never listed (NC-R4).
    ToastOnly,
    /// Accepted during maintenance; applied when it ends.
    Queued,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedFor {
    pub recipient_id: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedFor {
    pub recipient_id: String,
    pub reason: SuppressReason,
}

/// Where a device reports the agent's activity from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    WebChat,
    MobileChat,
    Desktop,
}

/// `PUT /v1/presence` request: "the agent is (not) active in the chat on this device".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceReport {
    pub surface: Surface,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePresence {
    pub device_id: String,
    pub surface: Surface,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/presence` response and the stream's `presence` event (input to NC-R12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Reports younger than the server's freshness limit.
    pub devices: Vec<DevicePresence>,
    /// The agent is active in the web chat on some device.
    pub active_in_web_chat: bool,
    /// The agent is active in the chat on some device (web or mobile).
    pub active_in_chat: bool,
}

/// An announced maintenance window (MW-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub message: String,
}

/// `GET /v1/maintenance` response and the stream's `maintenance` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MaintenanceStatus {
    pub active: bool,
    /// When the current maintenance is expected to end, if known.
    pub until: Option<DateTime<Utc>>,
    /// Windows announced and not over yet.
    pub windows: Vec<MaintenanceWindow>,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable machine-readable code, e.g. `not_found`, `invalid_event`, `maintenance`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// SSE event names of `GET /v1/stream`.
pub mod sse {
    /// A [`super::Change`]; the SSE `id:` is its `seq`.
    pub const CHANGE: &str = "change";
    /// A [`super::MaintenanceStatus`].
    pub const MAINTENANCE: &str = "maintenance";
    /// A [`super::Presence`] of the agent.
    pub const PRESENCE: &str = "presence";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_flat_json_objects_with_a_type() {
        let c = Change {
            seq: 7,
            at: "2026-01-20T01:00:00Z".parse().unwrap(),
            body: ChangeBody::Read {
                ids: vec!["n-1".into()],
                read_at: "2026-01-20T01:00:00Z".parse().unwrap(),
            },
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["type"], "read");
        assert_eq!(json["seq"], 7);
        assert_eq!(serde_json::from_value::<Change>(json).unwrap(), c);
    }
}
