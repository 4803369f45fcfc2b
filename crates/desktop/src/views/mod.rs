//! What the window and the tray are shown, computed here rather than in the shell so that it is
//! tested headless: pages and counts for the window, and the tray's whole look ([`TrayView`]) from
//! the unread count, the connection, the pause and the language.

use std::collections::BTreeMap;

use lonceng_client::store::{PageCursor, Scope, UnreadCounts};
use lonceng_client::sync::SyncStatus;
use lonceng_domain::model::{Category, Tab, WireNotification};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::settings::SettingsView;

mod tray;
pub use tray::*;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "Page")]
pub struct PageView {
    pub items: Vec<WireNotification>,
    pub next: Option<PageCursor>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "Counts")]
pub struct CountsView {
    pub total: u64,
    #[ts(type = "Record<Tab, number>")]
    pub tabs: BTreeMap<Tab, u64>,
    #[ts(type = "Record<Category, number>")]
    pub categories: BTreeMap<Category, u64>,
    /// Notifications that arrived but could not be shown (kept aside with the reason).
    pub quarantined: u64,
}

impl CountsView {
    pub fn new(c: &UnreadCounts, quarantined: u64) -> CountsView {
        CountsView {
            total: c.total(),
            tabs: Tab::ALL.iter().map(|t| (*t, c.tab(*t))).collect(),
            categories: Category::ALL.iter().map(|k| (*k, c.category(*k))).collect(),
            quarantined,
        }
    }
}

/// Why notifications could not be shown: the latest reasons, for the agent (or their admin).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "Quarantine")]
pub struct QuarantineView {
    pub count: u64,
    pub latest: Vec<QuarantinedView>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "Quarantined")]
pub struct QuarantinedView {
    pub received_at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "MarkAllResult")]
pub struct MarkAllView {
    pub changed: u64,
    /// Pass to `undo` within a few seconds to take it back; null when nothing changed.
    pub undo: Option<String>,
}

/// What the window is told (and the tray follows): the whole vocabulary of events on the IPC,
/// each on the channel `lonceng://<name>`. The runtime sends the first three; the shell sends the
/// others when the tray asks for Settings or brings a hidden window back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "BackendEvent")]
pub enum UiEvent {
    /// The list or the counts changed.
    Changed,
    /// The connection changed.
    Status,
    /// The settings changed.
    Settings,
    OpenSettings,
    Shown,
    /// A signed update was found (or installing it failed).
    Update,
    /// A toast appeared: the agent may click soon (the shell readies the window).
    Toasted,
}

impl UiEvent {
    pub const ALL: [UiEvent; 7] = [
        UiEvent::Changed,
        UiEvent::Status,
        UiEvent::Settings,
        UiEvent::OpenSettings,
        UiEvent::Shown,
        UiEvent::Update,
        UiEvent::Toasted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UiEvent::Changed => "changed",
            UiEvent::Status => "status",
            UiEvent::Settings => "settings",
            UiEvent::OpenSettings => "open-settings",
            UiEvent::Shown => "shown",
            UiEvent::Update => "update",
            UiEvent::Toasted => "toasted",
        }
    }

    /// The Tauri event it travels as.
    pub fn channel(self) -> String {
        format!("lonceng://{}", self.name())
    }
}

/// What the bell window's first paint needs, handed to the window as it is built: a script that runs
/// before the page's own sets it, so the page paints without IPC round trips while WebKit is still
/// busy starting (the cold click, docs/PERFORMANCE.md). The page uses each part once, `page` only
/// for the request it answers, and asks for everything again after its first paint, which catches
/// what changed meanwhile.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct FirstPaint {
    /// The request `page` answers.
    pub scope: Scope,
    pub unread_only: bool,
    pub limit: usize,
    pub page: PageView,
    pub counts: CountsView,
    pub settings: SettingsView,
    pub status: SyncStatus,
}

impl FirstPaint {
    /// The window's first list: General, everything, one page (`ui/src/window/list.ts`).
    pub const SCOPE: Scope = Scope { tab: Tab::General, category: None };
    pub const LIMIT: usize = 200;

    /// As the script that hands it to the page. JSON is a JavaScript expression, and the text of
    /// notifications stays inside its string literals: data, never code.
    pub fn script(&self) -> Result<String, AppError> {
        let json =
            serde_json::to_string(self).map_err(|e| AppError::Invalid(format!("the first paint: {e}")))?;
        Ok(format!("window.__LONCENG_FIRST__ = {json};"))
    }
}

/// How the page's first load went, from its own clock (`performance.now()`: since its load began).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PageTiming {
    /// When the page's script began to run: the document and its script fetched and parsed.
    pub script_ms: u64,
    /// When all the first paint needs was in hand (at once, when it came with the document).
    pub data_ms: u64,
    /// When the first frame with the list was laid out and painted.
    pub page_ms: u64,
}

/// An item waiting in the "Snoozed" view.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "SnoozedItem")]
pub struct SnoozedView {
    pub item: WireNotification,
    /// When it comes back.
    pub until: chrono::DateTime<chrono::Utc>,
}

/// What a search found, newest first.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "SearchResult")]
pub struct SearchView {
    pub items: Vec<WireNotification>,
    /// Pass as `before` for the next page; null on the last.
    pub next: Option<String>,
    /// How many match in all (on the first page; null on the pages after it).
    pub total: Option<u64>,
}

/// A signed update found at the manifest URL, as the window and the tray offer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct UpdateOffer {
    pub version: String,
    /// The release notes, as plain text.
    pub notes: Option<String>,
    /// Why the last install failed, if it did (the offer stays).
    pub error: Option<String>,
}
