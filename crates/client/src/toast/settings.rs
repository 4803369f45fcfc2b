//! What the agent chose about toasts: the language they are written in, the muted categories and
//! chat messages, sound, quiet hours and a pause.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::quiet::{QuietHours, QuietKind, QuietState, Zone};
use lonceng_domain::i18n::Lang;
use lonceng_domain::model::Category;

/// Whether toasts make a sound: for all, and per category (chat messages follow `on`). Quiet
/// hours are always silent, even for a category that breaks through them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct SoundSettings {
    pub on: bool,
    /// Categories whose toasts are silent.
    pub silent: BTreeSet<Category>,
}

impl Default for SoundSettings {
    fn default() -> Self {
        SoundSettings { on: true, silent: BTreeSet::new() }
    }
}

/// ORG-5: whether toasts carry the customer's name and the message text. A locked screen counts as
/// "not in the chat" (NC-R12), so toasts reach it, where anyone walking by can read them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MessageText {
    Always,
    #[default]
    NotWhileLocked,
    Never,
}

/// How long a conversation's chat toasts stay muted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MuteUntil {
    Time {
        at: DateTime<Utc>,
    },
    /// Until a "resolved" item for the conversation arrives.
    Resolved,
    Always,
}

/// A conversation whose chat toasts are muted ("Mute this conversation").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConversationMute {
    /// Who and where, for Settings: "Adrian on WhatsApp".
    pub label: String,
    /// The conversation's page: a resolved item about it ends a mute [`MuteUntil::Resolved`].
    pub url: String,
    pub until: MuteUntil,
}

impl ConversationMute {
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        match self.until {
            MuteUntil::Time { at } => now < at,
            MuteUntil::Resolved | MuteUntil::Always => true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToastSettings {
    pub lang: Lang,
    pub muted: BTreeSet<Category>,
    /// Mutes incoming chat messages (they have no category of the list).
    pub mute_chat: bool,
    /// Chat messages of these channels (`whatsapp`, `instagram`…) make no toast.
    pub muted_channels: BTreeSet<String>,
    /// Conversations whose messages make no toast, by conversation id.
    pub muted_conversations: std::collections::BTreeMap<String, ConversationMute>,
    pub paused_until: Option<DateTime<Utc>>,
    pub quiet_hours: QuietHours,
    /// "Resume" during scheduled quiet hours: the period ending then is skipped.
    pub quiet_skipped_until: Option<DateTime<Utc>>,
    pub sound: SoundSettings,
    pub message_text: MessageText,
    /// ORG-6: approvals are sent as urgent and shown through the OS's Do Not Disturb (off: they
    /// wait like the rest).
    pub approvals_break_dnd: bool,
}

impl ToastSettings {
    /// Whether toasts are held at `now`, and until when: a pause first, then the schedule (unless
    /// the agent resumed during this period).
    pub fn quiet(&self, now: DateTime<Utc>, zone: Zone) -> Option<QuietState> {
        if let Some(until) = self.paused_until.filter(|t| *t > now) {
            return Some(QuietState { kind: QuietKind::Paused, until });
        }
        let until = self.quiet_hours.until(now, zone)?;
        if self.quiet_skipped_until.is_some_and(|skipped| skipped >= until) {
            return None;
        }
        Some(QuietState { kind: QuietKind::Scheduled, until })
    }

    /// Whether a chat message of this conversation and channel makes no toast now.
    pub fn chat_muted(&self, conversation: &str, channel: &str, now: DateTime<Utc>) -> bool {
        self.mute_chat
            || self.muted_channels.contains(channel)
            || self.muted_conversations.get(conversation).is_some_and(|m| m.active(now))
    }

    /// Whether a toast of `category` (`None`: a chat message) makes a sound, outside quiet hours.
    pub fn sound_for(&self, category: Option<Category>) -> bool {
        self.sound.on && category.is_none_or(|c| !self.sound.silent.contains(&c))
    }
}
