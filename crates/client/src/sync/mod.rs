//! The sync engine: keeps the local store exactly in step with a source through anything a network
//! and a maintenance window can do (PRODUCT.md §4).
//!
//! One loop, per session: catch up from the stored cursor (pages applied atomically with the cursor,
//! so a process killed mid-way resumes where it stopped — MW-3), send the queued offline actions
//! (MW-6), then follow the live stream, or poll where the source has none. Ids dedupe re-sent items
//! and the store never turns read back into unread (MW-4). Failures back off exponentially with
//! jitter, honour `Retry-After`, and show as a calm status, never as error toasts (MW-2). Items
//! created long before they arrive are "late": they go into the list quietly and are counted into at
//! most one summary per outage (MW-5).
//!
//! Time comes from an injected [`Clock`](lonceng_domain::clock::Clock) and waiting from an injected
//! [`Sleeper`](lonceng_domain::clock::Sleeper), so tests cross an hour of maintenance in milliseconds. A jump
//! of the wall clock against the monotonic clock (the machine slept) drops the connection and
//! reconnects at once.
//!
//! Rooms: [`engine`] (the loop), [`source`] (what a place to sync with provides), [`lonceng`] and
//! [`crm_source`] (the two sources; the HTTP plumbing they share is `lonceng_domain::net`),
//! [`sse`] (the event-stream parser); `pacing` (waits between attempts) and `recent` (chat dedupe)
//! serve the engine.

pub mod crm_source;
pub mod engine;
pub mod lonceng;
mod pacing;
mod recent;
pub mod source;
pub mod sse;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::Store;
use lonceng_domain::model::{ChatMessage, Notification, Tab};
use lonceng_domain::protocol::{MaintenanceStatus, Presence};

pub use engine::{SyncEngine, SyncHandle};
pub use source::{BoxFut, EventStream, Pulled, RetryAfter, Source, SourceError, SourceEvent};

/// The store, shared between the engine and the app.
pub type SharedStore = Arc<Mutex<Store>>;

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// No bytes (not even a keep-alive) for this long: the connection is dead.
    pub keepalive_timeout: Duration,
    /// Created more than this before it arrived: late (MW-5).
    pub late_after: chrono::Duration,
    /// Quiet time after the last late arrival before the one summary is sent.
    pub summary_settle: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// How often the wall clock is compared with the monotonic one.
    pub wake_check: Duration,
    /// A wall-clock jump larger than this (beyond monotonic time) means the machine slept.
    pub wake_jump: chrono::Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            keepalive_timeout: Duration::from_secs(45),
            late_after: chrono::Duration::minutes(2),
            summary_settle: Duration::from_secs(5),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            wake_check: Duration::from_secs(5),
            wake_jump: chrono::Duration::seconds(30),
        }
    }
}

/// The connection as the bell window and the tray show it (MW-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnState {
    Connecting,
    Connected {
        streaming: bool,
    },
    Reconnecting {
        next_attempt_at: DateTime<Utc>,
    },
    Maintenance {
        until: Option<DateTime<Utc>>,
        next_attempt_at: DateTime<Utc>,
    },
    /// Needs the agent (the sign-in was refused, the local database is damaged).
    Offline {
        reason: String,
        next_attempt_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "Status")]
pub struct SyncStatus {
    pub state: ConnState,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Announced maintenance windows (MW-1).
    pub maintenance: Option<MaintenanceStatus>,
}

/// What the engine (and the agent's own actions) tell the rest of the app: toasts, tray, window.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// Stored for the first time. Late ones go to the list quietly (MW-5).
    Arrived {
        notification: Notification,
        late: bool,
    },
    /// Were unread, are read now: withdraw their toasts (NC-R13).
    Read {
        ids: Vec<String>,
    },
    /// Removed by the server's retention.
    Removed {
        ids: Vec<String>,
    },
    /// A fresh incoming chat message, first time seen (NC-R4, MW-4).
    Chat(ChatMessage),
    /// MW-5: "23 notifications arrived while Qontak was unavailable".
    LateSummary {
        count: usize,
    },
    /// Away longer than a tab keeps items: some may have expired unseen.
    Gap {
        tab: Tab,
    },
    Presence(Presence),
    /// The store changed: refresh counts and lists.
    StoreChanged,
}
