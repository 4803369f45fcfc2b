//! What the agent chose, saved as `settings.json` in the data directory, and the views of it the
//! window gets (never the token). The toast center's settings come from here through one
//! conversion, [`DesktopSettings::toasts`].

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use lonceng_client::toast::{
    ChatWindowMatch, ConversationMute, MessageText, QuietHours, SoundSettings, ToastSettings,
};
use lonceng_domain::i18n::Lang;
use lonceng_domain::model::Category;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where the notifications come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "SourceKind")]
pub enum SourceKind {
    /// The organisation's Lonceng server: all three tabs, live.
    #[default]
    Server,
    /// The Qontak CRM API directly, with the company's credentials: General and Approval only.
    Crm,
}

/// The Mekari API of production.
pub const CRM_BASE_URL: &str = "https://api.mekari.com";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct DesktopSettings {
    pub lang: Lang,
    pub muted: BTreeSet<Category>,
    pub mute_chat: bool,
    /// Chat channels muted for toasts (`whatsapp`, `instagram`…).
    pub muted_channels: BTreeSet<String>,
    /// Conversations muted for toasts, by conversation id.
    pub muted_conversations: std::collections::BTreeMap<String, ConversationMute>,
    pub paused_until: Option<DateTime<Utc>>,
    /// The weekly quiet hours (the pause is above).
    pub quiet_hours: QuietHours,
    /// "Resume" during quiet hours: the period ending then is skipped.
    pub quiet_skipped_until: Option<DateTime<Utc>>,
    pub sound: SoundSettings,
    /// ORG-5: whether toasts show names and message text (by default, not on a locked screen).
    pub message_text: MessageText,
    /// ORG-6: approvals shown through the OS's Do Not Disturb (off by default).
    pub approvals_break_dnd: bool,
    pub source: SourceKind,
    /// The Lonceng server, or empty in demo mode.
    pub server_url: String,
    /// The direct CRM mode: the Mekari API, the company's HMAC client id (its secret is in the
    /// keyring), and the agent's CRM SSO user id.
    pub crm_base_url: String,
    pub crm_client_id: String,
    pub crm_sso_user_id: String,
    pub chat_window_patterns: Vec<String>,
    pub autostart: bool,
    /// The update manifest (JSON) to check for signed updates; empty: no checks (the default).
    pub update_url: String,
    /// The keyboard shortcut that opens the bell anywhere ("Ctrl+Alt+N"); empty: none.
    pub shortcut: String,
    /// The proxy: empty for the computer's own, `direct` for none, or `http://[user:pass@]host:port`.
    pub proxy: String,
}

/// The bell's keyboard shortcut on a first run.
pub const DEFAULT_SHORTCUT: &str = "Ctrl+Alt+N";

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            lang: Lang::En,
            muted: BTreeSet::new(),
            mute_chat: false,
            muted_channels: BTreeSet::new(),
            muted_conversations: Default::default(),
            paused_until: None,
            quiet_hours: QuietHours::default(),
            quiet_skipped_until: None,
            sound: SoundSettings::default(),
            message_text: MessageText::default(),
            approvals_break_dnd: false,
            source: SourceKind::Server,
            server_url: String::new(),
            crm_base_url: CRM_BASE_URL.into(),
            crm_client_id: String::new(),
            crm_sso_user_id: String::new(),
            chat_window_patterns: ChatWindowMatch::default().title_patterns,
            autostart: true,
            update_url: String::new(),
            shortcut: DEFAULT_SHORTCUT.into(),
            proxy: String::new(),
        }
    }
}

impl DesktopSettings {
    /// The settings file, or the first run's settings when there is none; a damaged file is logged
    /// and the defaults are used (the agent's next change writes a good one).
    pub fn load(path: &Path) -> DesktopSettings {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, path = %path.display(), "settings unreadable; using defaults");
                DesktopSettings::default()
            }),
            Err(_) => DesktopSettings::first_run(crate::platform::locale().as_deref()),
        }
    }

    /// A first run's settings: the defaults, in the system's language (Indonesian for an Indonesian
    /// locale, English otherwise).
    pub fn first_run(locale: Option<&str>) -> DesktopSettings {
        DesktopSettings { lang: locale.map_or(Lang::En, Lang::from_locale), ..DesktopSettings::default() }
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
            muted_channels: self.muted_channels.clone(),
            muted_conversations: self.muted_conversations.clone(),
            paused_until: self.paused_until,
            quiet_hours: self.quiet_hours.clone(),
            quiet_skipped_until: self.quiet_skipped_until,
            sound: self.sound.clone(),
            message_text: self.message_text,
            approvals_break_dnd: self.approvals_break_dnd,
        }
    }

    /// Whether a change touches where the notifications come from, or the way there (so sync
    /// starts again).
    pub fn source_changed(&self, before: &DesktopSettings) -> bool {
        (
            self.source,
            &self.server_url,
            &self.crm_base_url,
            &self.crm_client_id,
            &self.crm_sso_user_id,
            &self.proxy,
        ) != (
            before.source,
            &before.server_url,
            &before.crm_base_url,
            &before.crm_client_id,
            &before.crm_sso_user_id,
            &before.proxy,
        )
    }

    /// The proxy these settings choose (one that is no longer valid: the computer's own).
    pub fn proxy_choice(&self) -> lonceng_domain::net::ProxyChoice {
        lonceng_domain::net::ProxyChoice::from_setting(&self.proxy).unwrap_or_default()
    }

    /// Every HTTP client made from now on goes this way: the proxy these settings choose, and the
    /// desktop's own proxy settings read anew (gsettings, the registry: blocking, briefly).
    pub fn use_network(&self) {
        lonceng_domain::net::use_os_proxy(crate::platform::os_proxy());
        lonceng_domain::net::use_proxy(self.proxy_choice());
    }

    /// The update manifest's address, when one is set.
    pub fn update_url(&self) -> Option<String> {
        Some(self.update_url.trim().to_owned()).filter(|u| !u.is_empty())
    }

    /// How the focus probe recognises the chat window.
    pub fn chat_match(&self) -> ChatWindowMatch {
        ChatWindowMatch::with_titles(self.chat_window_patterns.clone())
    }

    /// Applies a change from the window or the tray; absent fields stay as they are.
    pub fn apply(&mut self, c: SettingsChanges) -> Result<(), AppError> {
        for url in [&c.server_url, &c.crm_base_url, &c.update_url].into_iter().flatten() {
            if !url.is_empty() && !lonceng_domain::model::is_web_url(url) {
                return Err(AppError::Invalid(format!("'{url}' is not an http(s) address")));
            }
        }
        for (what, value) in [("client id", &c.crm_client_id), ("SSO user id", &c.crm_sso_user_id)] {
            if value.as_ref().is_some_and(|v| v.chars().count() > 200 || v.chars().any(char::is_control)) {
                return Err(AppError::Invalid(format!("the CRM {what} is not one the CRM gives out")));
            }
        }
        if let Some(p) = &c.proxy {
            lonceng_domain::net::ProxyChoice::from_setting(p).map_err(AppError::Invalid)?;
        }
        if let Some(s) = &c.shortcut {
            // The desktop says whether it can have it; this only keeps out what is no shortcut.
            if s.chars().count() > 60 || s.chars().any(char::is_control) {
                return Err(AppError::Invalid(format!("'{s}' is not a keyboard shortcut")));
            }
        }
        if let Some(problem) = c.quiet_hours.as_ref().and_then(QuietHours::problem) {
            return Err(AppError::Invalid(problem));
        }
        let SettingsChanges {
            lang,
            muted,
            mute_chat,
            muted_channels,
            muted_conversations,
            quiet_hours,
            sound,
            message_text,
            approvals_break_dnd,
            source,
            server_url,
            token: _,
            crm_base_url,
            crm_client_id,
            crm_sso_user_id,
            crm_client_secret: _,
            chat_window_patterns,
            autostart,
            update_url,
            shortcut,
            proxy,
        } = c;
        let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned());
        set(&mut self.lang, lang);
        set(&mut self.muted, muted);
        set(&mut self.mute_chat, mute_chat);
        set(&mut self.muted_channels, muted_channels);
        set(&mut self.muted_conversations, muted_conversations);
        if quiet_hours.is_some() {
            // A new schedule starts afresh: an earlier "Resume" was about the old one.
            self.quiet_skipped_until = None;
        }
        set(&mut self.quiet_hours, quiet_hours);
        set(&mut self.sound, sound);
        set(&mut self.message_text, message_text);
        set(&mut self.approvals_break_dnd, approvals_break_dnd);
        set(&mut self.source, source);
        set(&mut self.server_url, trimmed(server_url));
        set(&mut self.crm_base_url, trimmed(crm_base_url).filter(|u| !u.is_empty()));
        set(&mut self.crm_client_id, trimmed(crm_client_id));
        set(&mut self.crm_sso_user_id, trimmed(crm_sso_user_id));
        set(&mut self.chat_window_patterns, chat_window_patterns);
        set(&mut self.autostart, autostart);
        set(&mut self.update_url, trimmed(update_url));
        set(&mut self.shortcut, trimmed(shortcut));
        set(&mut self.proxy, trimmed(proxy));
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
    /// Whether the CRM client secret is stored, and where.
    pub has_crm_secret: bool,
    #[ts(type = "'keyring' | 'file' | 'none'")]
    pub crm_secret_store: &'static str,
    pub demo: bool,
    /// Whether this run manages start at login (an installed app, not the demo).
    pub autostart_managed: bool,
    /// The settings IT's policy fixes (ORG-3): shown locked, changes refused.
    #[ts(
        type = "Array<'server_url' | 'source' | 'sign_in' | 'lang' | 'autostart' | 'update_url' | 'muted' | 'sound' | 'proxy'>"
    )]
    pub locked: Vec<&'static str>,
    /// Signed in through the organisation's identity provider, or why not (ORG-1).
    pub account: AccountView,
    /// Why the keyboard shortcut does not work (another app holds it, it is not one).
    pub shortcut_problem: Option<ShortcutProblem>,
}

/// Why the bell's keyboard shortcut does not work, as the desktop said when it was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShortcutProblem {
    /// Not a shortcut the desktop can read ("Ctrl+Banana").
    Invalid { shortcut: String },
    /// The desktop or another app holds it already.
    Taken { shortcut: String },
    /// The desktop gives no app a shortcut of its own (Wayland): its keyboard settings can run
    /// `lonceng`, which opens the bell of the running app.
    Unsupported { shortcut: String },
}

/// How this computer signs in to the organisation's server (ORG-1), when IT decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    /// Through the organisation's identity provider only: no pasted token.
    Organisation,
    /// With a token an admin issued only (a shared or headless computer): no sign-in button.
    Token,
}

/// Who the app is signed in as, for the window and the tray.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AccountView {
    /// The user signed in on this server (`None`: not signed in through the identity provider).
    pub signed_in_as: Option<String>,
    /// Why the app is signed out, when the organisation did it.
    pub signed_out: Option<String>,
    /// Whether a sign-in is waiting for the browser now.
    pub signing_in: bool,
    /// A server a sign-in link names, waiting for the agent's yes (`lonceng://sign-in?server=…`).
    pub offered_server: Option<String>,
    /// How IT has this computer sign in (ORG-3), if it decided: the other way is not offered.
    pub method: Option<SignInMethod>,
    /// Whether the window and the tray offer "Sign in" now (a server is set, and neither a sign-in
    /// nor an admin's token is held).
    pub sign_in_offered: bool,
}

/// A change from the window; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ts_rs::TS)]
#[ts(optional_fields)]
pub struct SettingsChanges {
    pub lang: Option<Lang>,
    pub muted: Option<BTreeSet<Category>>,
    pub mute_chat: Option<bool>,
    pub muted_channels: Option<BTreeSet<String>>,
    /// The whole list (Settings changes a duration or unmutes by sending it back changed).
    pub muted_conversations: Option<std::collections::BTreeMap<String, ConversationMute>>,
    pub quiet_hours: Option<QuietHours>,
    pub sound: Option<SoundSettings>,
    pub message_text: Option<MessageText>,
    pub approvals_break_dnd: Option<bool>,
    pub source: Option<SourceKind>,
    pub server_url: Option<String>,
    /// The sign-in token: it goes to the OS keyring, never back to the window.
    pub token: Option<String>,
    pub crm_base_url: Option<String>,
    pub crm_client_id: Option<String>,
    pub crm_sso_user_id: Option<String>,
    /// The company's CRM client secret: it goes to the OS keyring, never back to the window.
    pub crm_client_secret: Option<String>,
    pub chat_window_patterns: Option<Vec<String>>,
    pub autostart: Option<bool>,
    pub update_url: Option<String>,
    pub shortcut: Option<String>,
    pub proxy: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_run_takes_the_system_language_and_a_saved_choice_stays() {
        assert_eq!(DesktopSettings::first_run(Some("id_ID.UTF-8")).lang, Lang::Id);
        assert_eq!(DesktopSettings::first_run(Some("en_US.UTF-8")).lang, Lang::En);
        assert_eq!(DesktopSettings::first_run(None), DesktopSettings::default());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        DesktopSettings { lang: Lang::En, ..DesktopSettings::first_run(Some("id")) }.save(&path).unwrap();
        assert_eq!(DesktopSettings::load(&path).lang, Lang::En, "the agent's choice, not the system's");
    }
}
