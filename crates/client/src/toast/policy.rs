//! NC-R12 as a pure function: whether an arrival becomes a toast, and why not when it does not.
//! Every decision carries its [`Reason`], which the bell window shows as "why no toast?".

use serde::{Deserialize, Serialize};

use super::quiet::QuietKind;
use lonceng_domain::model::Tab;

/// Where the agent's attention is, as the desktop can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Focus {
    /// The Qontak chat page is the focused window.
    ChatFocused,
    /// Another window (another app, another browser tab) is focused, or the chat is minimised.
    ChatNotFocused,
    /// The screen is locked.
    Locked,
    /// The platform does not say (Wayland without help, no display).
    Unknown,
}

/// Why a notification did or did not become a toast (shown in the bell window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Toasted,
    /// NC-R12: the agent is active in the web chat (focus, or presence when focus is unknown).
    ChatFocused,
    Muted,
    /// Paused from the tray.
    Paused,
    /// The weekly quiet hours.
    QuietHours,
    /// ORG-6: the operating system's Do Not Disturb.
    SystemQuiet,
    AlreadyRead,
    /// MW-5: arrived late; part of one summary instead.
    Late,
}

impl Reason {
    pub const ALL: &'static [Reason] = &[
        Reason::Toasted,
        Reason::ChatFocused,
        Reason::Muted,
        Reason::Paused,
        Reason::QuietHours,
        Reason::SystemQuiet,
        Reason::AlreadyRead,
        Reason::Late,
    ];

    /// The catalog message that explains it.
    pub fn message_id(self) -> &'static str {
        match self {
            Reason::Toasted => "why-toasted",
            Reason::ChatFocused => "why-chat-focused",
            Reason::Muted => "why-muted",
            Reason::Paused => "why-paused",
            Reason::QuietHours => "why-quiet-hours",
            Reason::SystemQuiet => "why-system-quiet",
            Reason::AlreadyRead => "why-already-read",
            Reason::Late => "why-late",
        }
    }
}

/// What the policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyInput {
    /// `None` for an incoming chat message.
    pub tab: Option<Tab>,
    pub read: bool,
    pub late: bool,
    pub muted: bool,
    /// Toasts are held (a pause or quiet hours)...
    pub quiet: Option<QuietKind>,
    /// ...except for this one's category, which breaks through.
    pub breaks_through: bool,
    /// ORG-6: the OS's Do Not Disturb is on...
    pub system_quiet: bool,
    /// ...and this one does not break through it (an approval, where the agent chose so).
    pub breaks_system_quiet: bool,
    pub focus: Focus,
    /// What the web chat reported to the server, if anything.
    pub web_chat_active: Option<bool>,
}

/// NC-R12 and its neighbours, in order: read, late, muted, held (unless the category breaks
/// through), held by the OS's Do Not Disturb (ORG-6); then Inbox items and chat
/// messages toast only when the agent is not active in the web chat — judged by window focus, by
/// the web chat's own presence report where focus cannot be seen, and toasting where nothing can
/// tell. General and Approval always toast.
pub fn decide(i: &PolicyInput) -> Reason {
    if i.read {
        return Reason::AlreadyRead;
    }
    if i.late {
        return Reason::Late;
    }
    if i.muted {
        return Reason::Muted;
    }
    match i.quiet {
        Some(_) if i.breaks_through => {}
        Some(QuietKind::Paused) => return Reason::Paused,
        Some(QuietKind::Scheduled) => return Reason::QuietHours,
        None => {}
    }
    // ORG-6: the OS's quiet wins, as quiet hours do.
    if i.system_quiet && !i.breaks_system_quiet {
        return Reason::SystemQuiet;
    }
    if !chat_sensitive(i.tab) {
        return Reason::Toasted;
    }
    let active = match i.focus {
        Focus::ChatFocused => true,
        Focus::ChatNotFocused | Focus::Locked => false,
        Focus::Unknown => i.web_chat_active.unwrap_or(false),
    };
    if active {
        Reason::ChatFocused
    } else {
        Reason::Toasted
    }
}

/// NC-R12: Inbox items and chat messages (`None`) depend on where the agent is.
pub fn chat_sensitive(tab: Option<Tab>) -> bool {
    matches!(tab, None | Some(Tab::Inbox))
}
