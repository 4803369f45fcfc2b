//! What the toast center needs from the platform: a way to show and withdraw toasts, and a way to
//! tell where the agent's focus is. `lonceng-desktop` implements them (D-Bus and X11 on Linux);
//! tests use fakes. Clicks come back as [`Activation`]s through the channel the notifier was built
//! with.

use serde::{Deserialize, Serialize};

use super::policy::Focus;
use crate::sync::BoxFut;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Normal,
    Critical,
}

/// A toast as the platform shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
    /// The label of the default action ("Open").
    pub action_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("desktop notifications: {0}")]
pub struct NotifyError(pub String);

/// What the agent did with a toast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastAction {
    /// The toast itself was clicked (the default action): open its page (NC-R7).
    Open,
    /// The toast's "Mark as read" button.
    MarkRead,
}

impl ToastAction {
    /// The action key a notification server reports; unknown keys are not the agent's intent.
    pub fn from_key(key: &str) -> Option<ToastAction> {
        match key {
            "default" | "open" => Some(ToastAction::Open),
            "mark-read" => Some(ToastAction::MarkRead),
            _ => None,
        }
    }
}

/// A toast acted on: its handle and the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activation {
    pub handle: u32,
    pub action: ToastAction,
}

/// Shows native toasts.
pub trait Notifier: Send + Sync + 'static {
    /// Shows a toast, replacing the one with handle `replaces` in place; returns its handle.
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>>;
    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>>;
}

pub trait FocusProbe: Send + Sync + 'static {
    fn focus(&self) -> Focus;
}

/// How the desktop recognises the Qontak chat window: a browser window whose title contains one of
/// the patterns (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatWindowMatch {
    pub title_patterns: Vec<String>,
    /// Window classes counted as browsers; empty: any window.
    pub browser_classes: Vec<String>,
}

impl Default for ChatWindowMatch {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        ChatWindowMatch {
            title_patterns: s(&[
                "qontak chat",
                "chat.qontak.com",
                "qontak omnichannel",
                "inbox | qontak",
                "inbox - qontak",
            ]),
            browser_classes: s(&[
                "chromium",
                "google-chrome",
                "chrome",
                "firefox",
                "brave",
                "microsoft-edge",
                "msedge",
                "vivaldi",
                "opera",
                "navigator",
                "safari",
                "epiphany",
                "zen",
            ]),
        }
    }
}

impl ChatWindowMatch {
    /// The default browsers with the agent's own title patterns.
    pub fn with_titles(title_patterns: Vec<String>) -> ChatWindowMatch {
        ChatWindowMatch { title_patterns, ..ChatWindowMatch::default() }
    }

    pub fn matches(&self, title: &str, class: &str) -> bool {
        let (title, class) = (title.to_lowercase(), class.to_lowercase());
        let browser = self.browser_classes.is_empty()
            || self.browser_classes.iter().any(|b| class.contains(&b.to_lowercase()));
        browser && self.title_patterns.iter().any(|p| !p.is_empty() && title.contains(&p.to_lowercase()))
    }
}
