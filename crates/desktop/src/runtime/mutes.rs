//! Muted conversations: "Mute this conversation" on a chat toast (until it is resolved) and in
//! Settings (an hour, until resolved, always); a resolved item for the conversation ends a mute
//! "until resolved". Channels are muted in Settings alone (`muted_channels`).

use lonceng_client::toast::{ConversationMute, MuteUntil};

use crate::error::AppError;
use crate::settings::{SettingsChanges, SettingsView};

use super::Desktop;

impl Desktop {
    /// Mutes the chat toasts of one conversation until then; expired mutes are dropped meanwhile.
    pub async fn mute_conversation(
        &self,
        id: &str,
        label: &str,
        url: &str,
        until: MuteUntil,
    ) -> Result<SettingsView, AppError> {
        let now = self.clock.now();
        let mut mutes = self.settings_snapshot().muted_conversations;
        mutes.retain(|_, m| m.active(now));
        let mute = ConversationMute { label: label.to_owned(), url: url.to_owned(), until };
        mutes.insert(id.to_owned(), mute);
        self.save_settings(SettingsChanges { muted_conversations: Some(mutes), ..SettingsChanges::default() })
            .await
    }

    /// A conversation was resolved: a mute "until resolved" of it ends.
    pub async fn conversation_resolved(&self, url: &str) {
        let mut mutes = self.settings_snapshot().muted_conversations;
        let before = mutes.len();
        mutes.retain(|_, m| !(m.until == MuteUntil::Resolved && m.url == url));
        if mutes.len() == before {
            return;
        }
        let changes = SettingsChanges { muted_conversations: Some(mutes), ..SettingsChanges::default() };
        if let Err(e) = self.save_settings(changes).await {
            tracing::warn!(error = %e, "a resolved conversation's mute was not lifted");
        }
    }
}
