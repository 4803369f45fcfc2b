//! The tray's whole look, computed headless from what the tray looks at: the icon and badge
//! (NC-R14), the tooltip (MW-2), and the menu in the active language, with the newest unread items
//! an agent can open without the window (no WebKit needed).

use lonceng_client::sync::ConnState;
use lonceng_client::toast::ports::shorten;
use lonceng_client::toast::QuietKind;
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::model::Notification;

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

/// The newest unread items the tray menu lists (no WebKit needed to see them).
pub const TRAY_ITEMS: usize = 5;
/// The longest item text in the tray menu, in characters (menus are one line wide).
pub const TRAY_ITEM_CHARS: usize = 60;

/// An unread item as the tray menu lists it: its text as the window shows it (parameters
/// isolated), on one line and cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    pub id: String,
    pub label: String,
}

impl TrayItem {
    pub fn new(catalog: &Catalog, lang: Lang, n: &Notification) -> TrayItem {
        let text = catalog.render(lang, n.kind, &n.params).body;
        // One line: a line break or tab in a parameter would break the menu's layout (a tab
        // starts the shortcut column on Windows).
        let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        TrayItem { id: n.id.clone(), label: shorten(line.trim(), TRAY_ITEM_CHARS) }
    }
}

/// The tray menu's labels in the active language, and its states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayMenu {
    /// The newest unread items, newest first; clicking one opens its page and marks it read.
    pub items: Vec<TrayItem>,
    /// "Nothing unread", in place of the items when there are none.
    pub nothing_unread: String,
    /// "Open the bell".
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
    /// The newest unread items, newest first (at most [`TRAY_ITEMS`] are listed).
    pub newest_unread: &'a [Notification],
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
                items: i
                    .newest_unread
                    .iter()
                    .take(TRAY_ITEMS)
                    .map(|n| TrayItem::new(catalog, i.lang, n))
                    .collect(),
                nothing_unread: t("tray-nothing-unread"),
                open: t("tray-open-bell"),
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
            newest_unread: &[],
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
        assert_eq!(en.menu.open, "Open the bell");
        assert_ne!(en.menu.mark_all_read, id.menu.mark_all_read);
        assert_eq!(id.menu.lang, Lang::Id);
        assert!(!en.menu.can_resume);
        assert!(id.menu.can_resume);
        for label in [&id.menu.open, &id.menu.pause, &id.menu.quit, &id.menu.settings] {
            assert!(!label.is_empty() && !label.starts_with("tray-"), "{label}");
        }
    }

    fn deal(id: &str, deal_name: &str) -> Notification {
        use lonceng_domain::model::{Category, Kind, Params};
        Notification {
            id: id.into(),
            category: Category::Assignment,
            kind: Kind::DealOwnerAssigned,
            params: Params::new().with("actor", "Budi").with("deal_name", deal_name),
            actor_id: Some("u-2".into()),
            recipient_id: "u-1".into(),
            url: format!("https://app.qontak.com/crm/deals/{id}"),
            created_at: chrono::DateTime::UNIX_EPOCH,
            read_at: None,
        }
    }

    // The instant path: the newest unread items in the menu, as the window words them (parameters
    // isolated, NC-R11), at most five, on one line and cut short.
    #[test]
    fn the_menu_lists_the_five_newest_unread_items_as_the_window_words_them() {
        let catalog = Catalog::builtin().unwrap();
        let state = connected();
        let items: Vec<Notification> =
            (0..7).map(|i| deal(&format!("n-{i}"), &format!("Deal {i}"))).collect();
        let menu =
            TrayView::compute(&catalog, TrayInput { newest_unread: &items, ..input(Lang::En, &state) }).menu;
        let ids: Vec<&str> = menu.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["n-0", "n-1", "n-2", "n-3", "n-4"], "the five given first, in order");
        let window = catalog.render(Lang::En, items[0].kind, &items[0].params).body;
        assert_eq!(menu.items[0].label, window, "the window's text");
        assert!(
            menu.items[0].label.contains("\u{2068}Deal 0\u{2069}"),
            "isolated: {:?}",
            menu.items[0].label
        );
        assert_eq!(menu.open, "Open the bell");
        let id =
            TrayView::compute(&catalog, TrayInput { newest_unread: &items, ..input(Lang::Id, &state) }).menu;
        assert_eq!(id.items[0].label, catalog.render(Lang::Id, items[0].kind, &items[0].params).body);
        assert_eq!(id.open, "Buka lonceng");
        let none = TrayView::compute(&catalog, input(Lang::En, &state)).menu;
        assert!(none.items.is_empty());
        assert_eq!(none.nothing_unread, "Nothing unread");
    }

    // Notification text is data: a hostile deal name cannot break the menu's line, run past its
    // width, or turn the text after it around.
    #[test]
    fn hostile_item_text_stays_on_one_short_line_with_its_isolation_closed() {
        let catalog = Catalog::builtin().unwrap();
        let state = connected();
        let long = format!("PT\nMaju\tJaya\r\u{202E}{}", "panjang ".repeat(40));
        let items = [deal("n-1", &long)];
        let menu =
            TrayView::compute(&catalog, TrayInput { newest_unread: &items, ..input(Lang::En, &state) }).menu;
        let label = &menu.items[0].label;
        assert!(label.chars().count() <= TRAY_ITEM_CHARS, "{label:?}");
        assert!(!label.chars().any(|c| c.is_control()), "one line: {label:?}");
        assert!(!label.contains('\u{202E}'), "no override: {label:?}");
        assert_eq!(label.matches('\u{2068}').count(), label.matches('\u{2069}').count(), "closed: {label:?}");
        assert!(label.ends_with('…'), "{label:?}");
    }
}
