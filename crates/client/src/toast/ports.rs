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
    /// The label of the default action and of the "Open" button ("Open", "Open conversation").
    pub action_label: String,
    /// The label of a "Mark as read" button, for toasts that stand for items of the list (shown
    /// where the notification server offers buttons).
    pub mark_read_label: Option<String>,
    /// The label of a "Mute this conversation" button, for chat toasts.
    pub mute_label: Option<String>,
    /// Whether it makes the desktop's notification sound (off: asked to be silent).
    pub sound: bool,
}

/// The longest title and body a toast carries: notification servers show a few lines, and some
/// refuse or clip what is longer without a word.
pub const MAX_TITLE: usize = 80;
pub const MAX_BODY: usize = 240;

/// `text` cut to at most `max` characters, on a word boundary where there is one near the end, with
/// an ellipsis; shorter text is left as it is.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    // Back to the last space, unless that loses more than a fifth of what fits.
    let end = match cut.rfind(char::is_whitespace) {
        Some(i) if cut[..i].chars().count() >= max * 4 / 5 => i,
        _ => cut.len(),
    };
    let mut out = cut[..end].trim_end().to_owned();
    // An isolation opened (FSI) and cut off before its close (PDI) is closed, so the ellipsis
    // and whatever the server adds stay where they belong.
    let open = out.matches('\u{2068}').count().saturating_sub(out.matches('\u{2069}').count());
    out.extend(std::iter::repeat_n('\u{2069}', open));
    out.push('…');
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("desktop notifications: {0}")]
pub struct NotifyError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_a_word_boundary_and_short_text_is_left_alone() {
        assert_eq!(shorten("Halo kak", 240), "Halo kak");
        let long = "word ".repeat(100);
        let cut = shorten(&long, 40);
        assert!(cut.chars().count() <= 40, "{cut}");
        assert!(cut.ends_with("word…"), "{cut}");
        let unbroken = "x".repeat(500);
        assert_eq!(shorten(&unbroken, 10), format!("{}…", "x".repeat(9)));
        // A cut inside an isolated parameter closes the isolation.
        let isolated = format!("Budi: \u{2068}{}\u{2069}", "y".repeat(300));
        let cut = shorten(&isolated, 50);
        assert_eq!(cut.matches('\u{2068}').count(), cut.matches('\u{2069}').count(), "{cut:?}");
    }
}

/// What the agent did with a toast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastAction {
    /// The toast itself was clicked (the default action): open its page (NC-R7).
    Open,
    /// The toast's "Mark as read" button.
    MarkRead,
    /// A chat toast's "Mute this conversation" button.
    Mute,
}

impl ToastAction {
    /// The action key a notification server reports; unknown keys are not the agent's intent.
    pub fn from_key(key: &str) -> Option<ToastAction> {
        match key {
            "default" | "open" => Some(ToastAction::Open),
            "mark-read" => Some(ToastAction::MarkRead),
            "mute" => Some(ToastAction::Mute),
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

/// Something a pause or quiet hours held back instead of toasting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held<'a> {
    /// A notification of the list, by id: told of at the end only while still unread.
    Item(&'a str),
    /// Chat messages, late items: a number.
    Other(u64),
}

/// Where held toasts are kept until quiet ends: the store in the app, so that what was held
/// survives a restart and is summarised once.
pub trait HeldLog: Send + Sync + 'static {
    fn hold(&self, held: Held<'_>);
    /// Forgets everything held; returns how much of it is still worth telling (items read
    /// meanwhile are not).
    fn release(&self) -> u64;
}

/// A [`HeldLog`] in memory (tests, and a center without a store).
#[derive(Debug, Default)]
pub struct MemoryHeld(std::sync::Mutex<u64>);

impl HeldLog for MemoryHeld {
    fn hold(&self, held: Held<'_>) {
        let n = match held {
            Held::Item(_) => 1,
            Held::Other(n) => n,
        };
        let mut count = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *count = count.saturating_add(n);
    }
    fn release(&self) -> u64 {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

pub trait FocusProbe: Send + Sync + 'static {
    fn focus(&self) -> Focus;

    /// ORG-6: whether the operating system's Do Not Disturb (Focus Assist, a presentation, a
    /// paused notification daemon) is on. Blocking, like `focus`.
    fn do_not_disturb(&self) -> bool {
        false
    }
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
