//! What the window and the tray are shown, computed here rather than in the shell so that it is
//! tested headless: pages and counts for the window, and the tray's whole look ([`TrayView`]) from
//! the unread count, the connection, the pause and the language.

use std::collections::BTreeMap;

use lonceng_client::store::{PageCursor, UnreadCounts};
use lonceng_client::sync::ConnState;
use lonceng_client::toast::QuietKind;
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::model::{Category, Tab, WireNotification};
use serde::Serialize;

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

/// Which tray icon is shown (the unread badge is drawn over it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayIcon {
    Normal,
    /// MW-2: not connected.
    Offline,
    /// Toasts are held: quiet hours or a pause.
    Quiet,
}

/// NC-R14: the badge's text: 1–99, then "99+"; none when nothing is unread.
pub fn badge(unread: u64) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".into()),
    }
}

/// The tray menu's labels in the active language, and its states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayMenu {
    pub open: String,
    pub mark_all_read: String,
    pub pause: String,
    pub pause_hour: String,
    pub pause_tomorrow: String,
    pub resume: String,
    /// "Resume" only does something while paused or in quiet hours.
    pub can_resume: bool,
    pub quiet_hours: String,
    pub quiet_hours_on: bool,
    pub language: String,
    pub lang: Lang,
    /// The language is fixed by IT's policy (ORG-3): the choice is shown, not offered.
    pub lang_locked: bool,
    pub autostart: String,
    pub autostart_on: bool,
    /// Whether the toggle works here: an installed app (not the demo or a build folder's copy)
    /// whose start at login IT's policy leaves to the agent.
    pub autostart_enabled: bool,
    pub settings: String,
    /// "Install update 0.2.0", when a signed update is offered.
    pub update: Option<String>,
    /// ORG-1: "Sign in" (or "Sign in again" after the organisation signed the app out), when
    /// the app is not signed in.
    pub sign_in: Option<String>,
    /// MW-2: "Try now", while the app waits to reconnect.
    pub try_now: Option<String>,
    pub quit: String,
}

/// The tray's whole look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayView {
    pub icon: TrayIcon,
    /// NC-R14: the unread number drawn on the icon.
    pub badge: Option<String>,
    pub tooltip: String,
    /// NC-R14: the unread number beside the icon, where the tray shows text.
    pub title: Option<String>,
    pub menu: TrayMenu,
}

/// What the tray looks at.
#[derive(Debug, Clone, Copy)]
pub struct TrayInput<'a> {
    pub lang: Lang,
    pub unread: u64,
    pub state: &'a ConnState,
    /// Toasts are held, and until when (a time of day where the agent is).
    pub quiet: Option<(QuietKind, &'a str)>,
    pub quiet_hours_on: bool,
    pub autostart: bool,
    pub autostart_managed: bool,
    /// The settings IT's policy fixes (ORG-3).
    pub locked: &'a [&'static str],
    /// The version of a signed update on offer.
    pub update: Option<&'a str>,
    /// ORG-1: the app needs a sign-in (`Some(true)`: the organisation signed it out).
    pub sign_in: Option<bool>,
    /// MW-2: when the running maintenance ends, a time of day where the agent is.
    pub maintenance_until: Option<&'a str>,
    /// ORG-6: the OS's Do Not Disturb holds toasts back.
    pub system_quiet: bool,
}

/// Tray text without bidi isolation marks, which some tray hosts draw as boxes. Only for text
/// that carries nothing from anyone: a count, a version the updater parsed as one.
fn plain(text: String) -> String {
    lonceng_domain::i18n::strip_bidi_controls(&text)
}

impl TrayView {
    /// NC-R14: the unread count in the tooltip and the icon; MW-2: offline shows as such, calmly.
    pub fn compute(catalog: &Catalog, i: TrayInput<'_>) -> TrayView {
        let t = |id: &str| catalog.message(i.lang, id, &[]);
        let offline = !matches!(i.state, ConnState::Connected { .. });
        let mut tooltip = format!(
            "Lonceng — {}",
            catalog.message(
                i.lang,
                "unread-count",
                &[("count", i64::try_from(i.unread).unwrap_or(i64::MAX).into())]
            )
        );
        match (i.state, i.maintenance_until) {
            (ConnState::Connected { .. }, _) => {}
            (ConnState::Maintenance { .. }, Some(time)) => tooltip.push_str(&format!(
                " · {}",
                catalog.message(i.lang, "tray-maintenance-until", &[("time", time.into())])
            )),
            (ConnState::Maintenance { .. }, None) => {
                tooltip.push_str(&format!(" · {}", t("tray-maintenance")))
            }
            _ => tooltip.push_str(&format!(" · {}", t("status-offline"))),
        }
        if i.sign_in == Some(true) {
            tooltip.push_str(&format!(" · {}", t("settings-signed-out")));
        }
        if let Some((kind, time)) = i.quiet {
            let id = match kind {
                QuietKind::Paused => "tray-paused-until",
                QuietKind::Scheduled => "tray-quiet-until",
            };
            tooltip.push_str(&format!(" · {}", catalog.message(i.lang, id, &[("time", time.into())])));
        } else if i.system_quiet {
            tooltip.push_str(&format!(" · {}", t("tray-system-quiet")));
        }
        let tooltip = plain(tooltip);
        let icon = if offline {
            TrayIcon::Offline
        } else if i.quiet.is_some() || i.system_quiet {
            TrayIcon::Quiet
        } else {
            TrayIcon::Normal
        };
        TrayView {
            icon,
            badge: badge(i.unread),
            tooltip,
            title: (i.unread > 0).then(|| i.unread.to_string()),
            menu: TrayMenu {
                open: t("tray-open"),
                mark_all_read: t("tray-mark-all-read"),
                pause: t("tray-pause"),
                pause_hour: t("tray-pause-hour"),
                pause_tomorrow: t("tray-pause-tomorrow"),
                resume: t("tray-resume"),
                can_resume: i.quiet.is_some(),
                quiet_hours: t("tray-quiet-hours"),
                quiet_hours_on: i.quiet_hours_on,
                language: t("tray-language"),
                lang: i.lang,
                lang_locked: i.locked.contains(&"lang"),
                autostart: t("tray-autostart"),
                autostart_on: i.autostart && i.autostart_managed,
                autostart_enabled: i.autostart_managed && !i.locked.contains(&"autostart"),
                settings: t("tray-settings"),
                update: i
                    .update
                    .map(|v| plain(catalog.message(i.lang, "tray-update", &[("version", v.into())]))),
                sign_in: i
                    .sign_in
                    .map(|again| t(if again { "settings-sign-in-again" } else { "settings-sign-in" })),
                // MW-2: between attempts, the agent need not wait for the next one.
                try_now: matches!(
                    i.state,
                    ConnState::Reconnecting { .. }
                        | ConnState::Maintenance { .. }
                        | ConnState::Offline { .. }
                )
                .then(|| t("tray-try-now")),
                quit: t("tray-quit"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the tray looks at, all quiet: nothing unread, nothing on offer, nothing fixed.
    fn input(lang: Lang, state: &ConnState) -> TrayInput<'_> {
        TrayInput {
            lang,
            unread: 0,
            state,
            quiet: None,
            quiet_hours_on: false,
            autostart: true,
            autostart_managed: true,
            locked: &[],
            update: None,
            sign_in: None,
            maintenance_until: None,
            system_quiet: false,
        }
    }

    fn view(lang: Lang, unread: u64, state: ConnState, paused: bool) -> TrayView {
        let catalog = Catalog::builtin().unwrap();
        TrayView::compute(
            &catalog,
            TrayInput {
                unread,
                quiet: paused.then_some((QuietKind::Paused, "09:00")),
                ..input(lang, &state)
            },
        )
    }

    fn connected() -> ConnState {
        ConnState::Connected { streaming: true }
    }

    // ORG-3: what IT fixed is shown in the tray, not offered.
    #[test]
    fn org_3_the_tray_offers_no_toggle_the_policy_fixed() {
        let catalog = Catalog::builtin().unwrap();
        let state = connected();
        let input = |locked: &'static [&'static str]| TrayInput { locked, ..input(Lang::Id, &state) };
        let free = TrayView::compute(&catalog, input(&[])).menu;
        assert!(!free.lang_locked && free.autostart_enabled);
        let fixed = TrayView::compute(&catalog, input(&["lang", "autostart"])).menu;
        assert!(fixed.lang_locked && !fixed.autostart_enabled && fixed.autostart_on);
    }

    #[test]
    fn nc_r14_the_tray_shows_the_unread_count_in_its_icon_title_and_tooltip() {
        let v = view(Lang::En, 7, connected(), false);
        assert_eq!((v.icon, v.badge.as_deref()), (TrayIcon::Normal, Some("7")));
        assert_eq!(v.title.as_deref(), Some("7"));
        assert_eq!(v.tooltip, "Lonceng — 7 unread notifications");
        let none = view(Lang::En, 0, connected(), false);
        assert_eq!((none.icon, none.title, none.badge), (TrayIcon::Normal, None, None));
        assert_eq!(view(Lang::En, 99, connected(), false).badge.as_deref(), Some("99"));
        assert_eq!(view(Lang::En, 100, connected(), false).badge.as_deref(), Some("99+"));
        // The offline and quiet looks keep the badge.
        let quiet = view(Lang::En, 3, connected(), true);
        assert_eq!((quiet.icon, quiet.badge.as_deref()), (TrayIcon::Quiet, Some("3")));
        assert_eq!(quiet.tooltip, "Lonceng — 3 unread notifications · Paused until 09:00");
        let offline = view(Lang::En, 3, ConnState::Connecting, false);
        assert_eq!((offline.icon, offline.badge.as_deref()), (TrayIcon::Offline, Some("3")));
    }

    #[test]
    fn quiet_hours_show_in_the_tooltip_in_the_active_language() {
        let catalog = Catalog::builtin().unwrap();
        let state = connected();
        let input = |lang| TrayInput {
            quiet: Some((QuietKind::Scheduled, "07:00")),
            quiet_hours_on: true,
            ..input(lang, &state)
        };
        let en = TrayView::compute(&catalog, input(Lang::En));
        assert_eq!(en.tooltip, "Lonceng — No unread notifications · Quiet until 07:00");
        assert!(en.menu.can_resume && en.menu.quiet_hours_on);
        let id = TrayView::compute(&catalog, input(Lang::Id));
        assert!(id.tooltip.ends_with("Tenang sampai 07:00"), "{}", id.tooltip);
    }

    #[test]
    fn an_update_on_offer_is_a_menu_item_and_only_then() {
        assert_eq!(view(Lang::En, 0, connected(), false).menu.update, None);
        let catalog = Catalog::builtin().unwrap();
        let state = connected();
        let input =
            |lang| TrayInput { autostart_managed: false, update: Some("0.2.0"), ..input(lang, &state) };
        let en = TrayView::compute(&catalog, input(Lang::En));
        assert_eq!(en.menu.update.as_deref(), Some("Install update 0.2.0"), "no isolation marks");
        assert!(
            !en.menu.autostart_on && !en.menu.autostart_enabled,
            "a copy that does not manage it shows it off"
        );
        let id = TrayView::compute(&catalog, input(Lang::Id));
        assert_eq!(id.menu.update.as_deref(), Some("Pasang pembaruan 0.2.0"));
    }

    #[test]
    fn mw2_offline_shows_as_such_whatever_is_unread() {
        let at = "2026-01-20T01:00:00Z".parse().unwrap();
        for state in [ConnState::Connecting, ConnState::Reconnecting { next_attempt_at: at }] {
            let v = view(Lang::En, 3, state, false);
            assert_eq!(v.icon, TrayIcon::Offline);
            assert!(v.tooltip.starts_with("Lonceng — 3 unread notifications · Offline"), "{}", v.tooltip);
        }
    }

    // MW-2: during maintenance the tray says until when, not "Offline", and offers "Try now".
    #[test]
    fn mw2_maintenance_says_until_when_and_the_menu_can_try_now() {
        let catalog = Catalog::builtin().unwrap();
        let at = "2026-01-20T01:00:00Z".parse().unwrap();
        let state = ConnState::Maintenance { until: Some(at), next_attempt_at: at };
        let input = |lang, until| TrayInput {
            unread: 3,
            autostart: false,
            autostart_managed: false,
            maintenance_until: until,
            ..input(lang, &state)
        };
        let v = TrayView::compute(&catalog, input(Lang::En, Some("14:00")));
        assert_eq!(v.tooltip, "Lonceng — 3 unread notifications · Maintenance until 14:00");
        assert_eq!(v.menu.try_now.as_deref(), Some("Try now"));
        let v = TrayView::compute(&catalog, input(Lang::Id, Some("14:00")));
        assert!(v.tooltip.ends_with("Pemeliharaan hingga 14:00"), "{}", v.tooltip);
        let v = TrayView::compute(&catalog, input(Lang::En, None));
        assert!(v.tooltip.ends_with(" · Under maintenance"), "{}", v.tooltip);
        assert_eq!(view(Lang::En, 0, connected(), false).menu.try_now, None);
        assert_eq!(view(Lang::En, 0, ConnState::Connecting, false).menu.try_now, None);
        assert!(view(Lang::En, 0, ConnState::Reconnecting { next_attempt_at: at }, false)
            .menu
            .try_now
            .is_some());
    }

    // ORG-6: the tray says why it is quiet when the OS's Do Not Disturb holds toasts.
    #[test]
    fn org_6_the_tray_says_do_not_disturb_holds_toasts() {
        let catalog = Catalog::builtin().unwrap();
        let state = connected();
        let input = |lang| TrayInput {
            unread: 2,
            autostart: false,
            autostart_managed: false,
            system_quiet: true,
            ..input(lang, &state)
        };
        let v = TrayView::compute(&catalog, input(Lang::En));
        assert_eq!(v.icon, TrayIcon::Quiet);
        assert_eq!(v.tooltip, "Lonceng — 2 unread notifications · Do Not Disturb is on: notifications wait");
        assert!(TrayView::compute(&catalog, input(Lang::Id))
            .tooltip
            .ends_with("Jangan Ganggu aktif: notifikasi menunggu"));
        assert_eq!(view(Lang::En, 2, connected(), false).icon, TrayIcon::Normal);
    }

    #[test]
    fn nc_r11_the_menu_speaks_the_active_language_and_resume_only_while_paused() {
        let en = view(Lang::En, 0, connected(), false);
        let id = view(Lang::Id, 0, connected(), true);
        assert_eq!(en.menu.open, "Open");
        assert_ne!(en.menu.mark_all_read, id.menu.mark_all_read);
        assert_eq!(id.menu.lang, Lang::Id);
        assert!(!en.menu.can_resume);
        assert!(id.menu.can_resume);
        for label in [&id.menu.open, &id.menu.pause, &id.menu.quit, &id.menu.settings] {
            assert!(!label.is_empty() && !label.starts_with("tray-"), "{label}");
        }
    }
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
