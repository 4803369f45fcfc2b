//! What the agent chose, saved as `settings.json` in the data directory, and the views of it the
//! window gets (never the token). The toast center's settings come from here through one
//! conversion, [`DesktopSettings::toasts`].

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use lonceng_core::i18n::Lang;
use lonceng_core::model::Category;
use lonceng_core::toast::{ChatWindowMatch, ToastSettings};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct DesktopSettings {
    pub lang: Lang,
    pub muted: BTreeSet<Category>,
    pub mute_chat: bool,
    pub paused_until: Option<DateTime<Utc>>,
    /// The Lonceng server, or empty in demo mode.
    pub server_url: String,
    pub chat_window_patterns: Vec<String>,
    pub autostart: bool,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            lang: Lang::En,
            muted: BTreeSet::new(),
            mute_chat: false,
            paused_until: None,
            server_url: String::new(),
            chat_window_patterns: ChatWindowMatch::default().title_patterns,
            autostart: true,
        }
    }
}

impl DesktopSettings {
    /// The settings file, or the defaults when there is none; a damaged file is logged and the
    /// defaults are used (the agent's next change writes a good one).
    pub fn load(path: &Path) -> DesktopSettings {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, path = %path.display(), "settings unreadable; using defaults");
                DesktopSettings::default()
            }),
            Err(_) => DesktopSettings::default(),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), AppError> {
        let json = serde_json::to_string_pretty(self).map_err(|e| AppError::Store(e.to_string()))?;
        std::fs::write(path, json).map_err(|e| AppError::Store(format!("saving {}: {e}", path.display())))
    }

    /// What the toast center needs of these settings.
    pub fn toasts(&self) -> ToastSettings {
        ToastSettings {
            lang: self.lang,
            muted: self.muted.clone(),
            mute_chat: self.mute_chat,
            paused_until: self.paused_until,
        }
    }

    /// How the focus probe recognises the chat window.
    pub fn chat_match(&self) -> ChatWindowMatch {
        ChatWindowMatch::with_titles(self.chat_window_patterns.clone())
    }

    /// Applies a change from the window or the tray; absent fields stay as they are.
    pub fn apply(&mut self, c: SettingsChanges) -> Result<(), AppError> {
        if let Some(url) = &c.server_url {
            if !url.is_empty() && !lonceng_core::model::is_web_url(url) {
                return Err(AppError::Invalid(format!("'{url}' is not an http(s) address")));
            }
        }
        let SettingsChanges { lang, muted, mute_chat, server_url, token: _, chat_window_patterns, autostart } =
            c;
        set(&mut self.lang, lang);
        set(&mut self.muted, muted);
        set(&mut self.mute_chat, mute_chat);
        set(&mut self.server_url, server_url);
        set(&mut self.chat_window_patterns, chat_window_patterns);
        set(&mut self.autostart, autostart);
        Ok(())
    }
}

/// A field takes the change given for it, if any.
fn set<T>(field: &mut T, change: Option<T>) {
    if let Some(v) = change {
        *field = v;
    }
}

/// The settings as the window sees them (the token itself never leaves the app).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(rename = "Settings")]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: DesktopSettings,
    /// Whether a sign-in token is stored.
    pub has_token: bool,
    /// Where the token is kept: the OS keyring, or a file when no keyring service runs.
    #[ts(type = "'keyring' | 'file' | 'none'")]
    pub token_store: &'static str,
    pub demo: bool,
}

/// A change from the window; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[ts(optional_fields)]
pub struct SettingsChanges {
    pub lang: Option<Lang>,
    pub muted: Option<BTreeSet<Category>>,
    pub mute_chat: Option<bool>,
    pub server_url: Option<String>,
    /// The sign-in token: it goes to the OS keyring, never back to the window.
    pub token: Option<String>,
    pub chat_window_patterns: Option<Vec<String>>,
    pub autostart: Option<bool>,
}
