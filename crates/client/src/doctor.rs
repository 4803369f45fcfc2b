//! `lonceng doctor`: an agent finds out alone why a toast or the tray icon does not appear. The
//! desktop gathers [`Facts`] about this computer and the server (`lonceng_desktop::doctor`); here
//! they are judged ([`diagnose`]) and rendered in the agent's language ([`Report::render`]): one
//! line per check, ok / warning / problem, and for anything not ok what to do. The same report is
//! printed by `lonceng doctor` (exit code 1 on a problem) and shown under Settings → Diagnose.
//!
//! Text that comes from elsewhere (a notification server's name, an error, a login entry's
//! command) is cleaned of control characters before it is put in a line ([`clean`]): a terminal
//! must not run escape sequences from a D-Bus peer.

use serde::Serialize;

use lonceng_domain::i18n::{strip_bidi_controls, Catalog, Lang};
use lonceng_domain::model::ParamValue;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "DoctorLevel")]
pub enum Level {
    Ok,
    Warning,
    Problem,
}

/// What is checked, in the order the report lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "DoctorCheck")]
pub enum Check {
    Notifications,
    Tray,
    Display,
    ScreenLock,
    Keyring,
    Autostart,
    Server,
    Token,
    Stream,
    Clock,
    Quarantine,
}

impl Check {
    fn id(self) -> &'static str {
        match self {
            Check::Notifications => "notifications",
            Check::Tray => "tray",
            Check::Display => "display",
            Check::ScreenLock => "lock",
            Check::Keyring => "keyring",
            Check::Autostart => "autostart",
            Check::Server => "server",
            Check::Token => "token",
            Check::Stream => "stream",
            Check::Clock => "clock",
            Check::Quarantine => "quarantine",
        }
    }
}

/// The notification server.
#[derive(Debug, Clone, PartialEq)]
pub enum Notifications {
    /// No `org.freedesktop.Notifications` on the session bus.
    Missing,
    /// A freedesktop notification server: its name, version and capabilities.
    Dbus { name: String, version: String, capabilities: Vec<String> },
    /// Windows' toasts: whether the app's id is registered by its Start-menu shortcut.
    Windows { registered: bool },
}

/// The tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tray {
    /// A StatusNotifierWatcher with a registered host (a panel that draws the icons).
    Host,
    /// A watcher, but no host has registered: nothing draws the icon.
    WatcherWithoutHost,
    /// No StatusNotifierWatcher; `gnome` when the desktop is GNOME (which needs an extension).
    Missing { gnome: bool },
    /// The taskbar's notification area.
    Windows,
}

/// The display, and whether the focused window is visible to applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// `active_window`: the window manager reports the focused window (`_NET_ACTIVE_WINDOW`).
    X11 {
        active_window: bool,
    },
    Wayland,
    Windows,
    Missing,
}

/// The server the notifications come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Server {
    /// The embedded demo server.
    Demo {
        url: String,
    },
    NotConfigured,
    /// The organisation's Lonceng server, and whether `/healthz` answered.
    Lonceng {
        url: String,
        reachable: Result<(), String>,
    },
    /// The Qontak CRM API directly, and whether it answered at all.
    Crm {
        url: String,
        reachable: Result<(), String>,
    },
}

/// The sign-in token (or, in the direct CRM mode, the company's client secret).
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Missing,
    Rejected,
    Valid {
        user: String,
    },
    /// The server did not answer, so the token could not be tried.
    Unchecked,
    CrmSecret {
        stored: bool,
    },
}

/// The live stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Stream {
    Open,
    /// The server offers no stream: the app polls.
    Off,
    /// The CRM has no stream: the app polls it every minute.
    Polled,
    Failed(String),
    Unchecked,
}

/// Start at login.
#[derive(Debug, Clone, PartialEq)]
pub struct Autostart {
    /// Whether this copy manages the entry (installed, not the demo).
    pub managed: bool,
    /// The agent's setting.
    pub wanted: bool,
    /// The entry's command, if there is one.
    pub entry: Option<String>,
    /// Whether that command starts this binary hidden.
    pub starts_this: bool,
}

/// Everything the checks look at, gathered by the platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub notifications: Notifications,
    pub tray: Tray,
    pub display: Display,
    /// Where the screen's lock is learnt from (a D-Bus service), if anywhere.
    pub screen_lock: Option<String>,
    /// Where secrets are kept (the Secret Service, the Credential Manager), if a keyring answers.
    pub keyring: Option<String>,
    pub autostart: Autostart,
    pub server: Server,
    pub token: Token,
    pub stream: Stream,
    /// The server's clock minus this computer's, in seconds, when the server answered.
    pub clock_skew: Option<i64>,
    /// Notifications the local copy could not show, when it could be read.
    pub quarantined: Option<u64>,
}

/// The clock may be this far off without a word (seconds)…
const SKEW_OK: i64 = 30;
/// …and this far before it is a problem: pauses, snoozes and "5 minutes ago" go wrong, and the
/// CRM's HMAC signatures are refused.
const SKEW_PROBLEM: i64 = 300;

/// One check's outcome: a message id and its arguments, and the advice's id when not ok.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Check,
    pub level: Level,
    pub message: &'static str,
    pub args: Vec<(&'static str, ParamValue)>,
    pub advice: Option<&'static str>,
}

fn finding(check: Check, level: Level, message: &'static str) -> Finding {
    Finding { check, level, message, args: Vec::new(), advice: None }
}

impl Finding {
    fn arg(mut self, name: &'static str, value: impl Into<ParamValue>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    fn advice(mut self, id: &'static str) -> Self {
        self.advice = Some(id);
        self
    }
}

/// Text from outside, fit for a line: no control characters (escape sequences, new lines), no
/// bidi controls, at most 120 characters.
pub fn clean(s: &str) -> String {
    let s = strip_bidi_controls(s);
    let mut out: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).take(120).collect();
    if s.chars().count() > 120 {
        out.push('…');
    }
    out.trim().to_owned()
}

/// Judges the facts: one finding per check, in the report's order.
pub fn diagnose(f: &Facts) -> Vec<Finding> {
    use Level::*;
    let mut out = Vec::with_capacity(11);
    out.push(match &f.notifications {
        Notifications::Missing => finding(Check::Notifications, Problem, "doctor-notifications-missing")
            .advice("doctor-notifications-missing-fix"),
        Notifications::Dbus { name, version, capabilities } => {
            let caps = capabilities.iter().map(|c| clean(c)).collect::<Vec<_>>().join(", ");
            let f = if capabilities.iter().any(|c| c == "actions") {
                finding(Check::Notifications, Ok, "doctor-notifications-ok")
            } else {
                finding(Check::Notifications, Warning, "doctor-notifications-no-actions")
                    .advice("doctor-notifications-no-actions-fix")
            };
            f.arg("name", clean(name).as_str())
                .arg("version", clean(version).as_str())
                .arg("caps", caps.as_str())
        }
        Notifications::Windows { registered: true } => {
            finding(Check::Notifications, Ok, "doctor-notifications-windows")
        }
        Notifications::Windows { registered: false } => {
            finding(Check::Notifications, Warning, "doctor-notifications-windows-unregistered")
                .advice("doctor-notifications-windows-unregistered-fix")
        }
    });
    out.push(match f.tray {
        Tray::Host => finding(Check::Tray, Ok, "doctor-tray-ok"),
        Tray::WatcherWithoutHost => {
            finding(Check::Tray, Warning, "doctor-tray-no-host").advice("doctor-tray-fix")
        }
        Tray::Missing { gnome } => finding(Check::Tray, Problem, "doctor-tray-missing").advice(if gnome {
            "doctor-tray-fix-gnome"
        } else {
            "doctor-tray-fix"
        }),
        Tray::Windows => finding(Check::Tray, Ok, "doctor-tray-windows"),
    });
    out.push(match f.display {
        Display::X11 { active_window: true } => finding(Check::Display, Ok, "doctor-display-x11"),
        Display::X11 { active_window: false } => {
            finding(Check::Display, Warning, "doctor-display-x11-no-active")
                .advice("doctor-display-x11-no-active-fix")
        }
        Display::Wayland => {
            finding(Check::Display, Warning, "doctor-display-wayland").advice("doctor-display-wayland-fix")
        }
        Display::Windows => finding(Check::Display, Ok, "doctor-display-windows"),
        Display::Missing => {
            finding(Check::Display, Problem, "doctor-display-missing").advice("doctor-display-missing-fix")
        }
    });
    out.push(match &f.screen_lock {
        Some(source) => {
            finding(Check::ScreenLock, Ok, "doctor-lock-ok").arg("source", clean(source).as_str())
        }
        None => finding(Check::ScreenLock, Warning, "doctor-lock-missing").advice("doctor-lock-missing-fix"),
    });
    out.push(match &f.keyring {
        Some(store) => finding(Check::Keyring, Ok, "doctor-keyring-ok").arg("store", clean(store).as_str()),
        None => {
            finding(Check::Keyring, Warning, "doctor-keyring-missing").advice("doctor-keyring-missing-fix")
        }
    });
    let a = &f.autostart;
    let command = || clean(a.entry.as_deref().unwrap_or_default());
    out.push(match (a.managed, a.wanted, &a.entry) {
        (false, _, _) => finding(Check::Autostart, Ok, "doctor-autostart-unmanaged"),
        (true, true, Some(_)) if a.starts_this => finding(Check::Autostart, Ok, "doctor-autostart-on"),
        (true, true, Some(_)) => finding(Check::Autostart, Warning, "doctor-autostart-other")
            .arg("command", command().as_str())
            .advice("doctor-autostart-fix"),
        (true, true, None) => {
            finding(Check::Autostart, Warning, "doctor-autostart-missing").advice("doctor-autostart-fix")
        }
        (true, false, None) => finding(Check::Autostart, Ok, "doctor-autostart-off"),
        (true, false, Some(_)) => finding(Check::Autostart, Warning, "doctor-autostart-stray")
            .arg("command", command().as_str())
            .advice("doctor-autostart-fix"),
    });
    out.push(match &f.server {
        Server::Demo { url } => {
            finding(Check::Server, Ok, "doctor-server-demo").arg("url", clean(url).as_str())
        }
        Server::NotConfigured => {
            finding(Check::Server, Problem, "doctor-server-none").advice("doctor-server-none-fix")
        }
        Server::Lonceng { url, reachable: Result::Ok(()) } => {
            finding(Check::Server, Ok, "doctor-server-ok").arg("url", clean(url).as_str())
        }
        Server::Crm { url, reachable: Result::Ok(()) } => {
            finding(Check::Server, Ok, "doctor-server-crm").arg("url", clean(url).as_str())
        }
        // What depends on the server (token, stream, clock) then says it could not be tried.
        Server::Lonceng { url, reachable: Err(e) } | Server::Crm { url, reachable: Err(e) } => {
            finding(Check::Server, Problem, "doctor-server-unreachable")
                .arg("url", clean(url).as_str())
                .arg("error", clean(e).as_str())
                .advice("doctor-server-unreachable-fix")
        }
    });
    out.push(match &f.token {
        Token::Missing => {
            finding(Check::Token, Problem, "doctor-token-missing").advice("doctor-token-missing-fix")
        }
        Token::Rejected => {
            finding(Check::Token, Problem, "doctor-token-rejected").advice("doctor-token-rejected-fix")
        }
        Token::Valid { user } => {
            finding(Check::Token, Ok, "doctor-token-ok").arg("user", clean(user).as_str())
        }
        Token::Unchecked => finding(Check::Token, Warning, "doctor-token-unchecked"),
        Token::CrmSecret { stored: true } => finding(Check::Token, Ok, "doctor-token-crm"),
        Token::CrmSecret { stored: false } => {
            finding(Check::Token, Problem, "doctor-token-crm-missing").advice("doctor-token-crm-missing-fix")
        }
    });
    out.push(match &f.stream {
        Stream::Open => finding(Check::Stream, Ok, "doctor-stream-ok"),
        Stream::Off => finding(Check::Stream, Ok, "doctor-stream-off"),
        Stream::Polled => finding(Check::Stream, Ok, "doctor-stream-polled"),
        Stream::Failed(e) => finding(Check::Stream, Warning, "doctor-stream-failed")
            .arg("error", clean(e).as_str())
            .advice("doctor-stream-failed-fix"),
        Stream::Unchecked => finding(Check::Stream, Warning, "doctor-stream-unchecked"),
    });
    out.push(match f.clock_skew {
        Some(s) if s.unsigned_abs() <= SKEW_OK.unsigned_abs() => {
            finding(Check::Clock, Ok, "doctor-clock-ok").arg("seconds", ParamValue::Count(SKEW_OK))
        }
        Some(s) => {
            let level = if s.unsigned_abs() > SKEW_PROBLEM.unsigned_abs() { Problem } else { Warning };
            let seconds = i64::try_from(s.unsigned_abs()).unwrap_or(i64::MAX);
            finding(Check::Clock, level, "doctor-clock-skew")
                .arg("seconds", ParamValue::Count(seconds))
                .advice("doctor-clock-skew-fix")
        }
        None => finding(Check::Clock, Warning, "doctor-clock-unchecked"),
    });
    out.push(match f.quarantined {
        Some(0) => finding(Check::Quarantine, Ok, "doctor-quarantine-ok"),
        Some(n) => finding(Check::Quarantine, Warning, "doctor-quarantine-some")
            .arg("count", ParamValue::Count(i64::try_from(n).unwrap_or(i64::MAX)))
            .advice("doctor-quarantine-some-fix"),
        None => finding(Check::Quarantine, Warning, "doctor-quarantine-unreadable"),
    });
    out
}

/// One line of the report, in the agent's language.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(rename = "DoctorLine")]
pub struct Line {
    pub check: Check,
    pub level: Level,
    /// The check's name ("Notifications").
    pub title: String,
    /// What was found.
    pub text: String,
    /// What to do, when not ok.
    pub advice: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(rename = "DoctorReport")]
pub struct Report {
    /// The worst level found.
    pub level: Level,
    pub lines: Vec<Line>,
}

impl Report {
    /// Renders the findings in `lang`.
    pub fn render(findings: &[Finding], catalog: &Catalog, lang: Lang) -> Report {
        let lines: Vec<Line> = findings
            .iter()
            .map(|f| {
                let args: Vec<(&str, ParamValue)> = f.args.iter().map(|(k, v)| (*k, v.clone())).collect();
                Line {
                    check: f.check,
                    level: f.level,
                    title: catalog.message(lang, &format!("doctor-check-{}", f.check.id()), &[]),
                    text: catalog.message(lang, f.message, &args),
                    advice: f.advice.map(|a| catalog.message(lang, a, &args)),
                }
            })
            .collect();
        let level = lines.iter().map(|l| l.level).max().unwrap_or(Level::Ok);
        Report { level, lines }
    }

    /// The report for a terminal: a level column, the check, what was found, and what to do.
    /// Bidi isolation marks are left out (a terminal shows them as stray characters).
    pub fn text(&self, catalog: &Catalog, lang: Lang) -> String {
        let label = |l: Level| {
            let id = match l {
                Level::Ok => "doctor-level-ok",
                Level::Warning => "doctor-level-warning",
                Level::Problem => "doctor-level-problem",
            };
            catalog.message(lang, id, &[])
        };
        let width = [Level::Ok, Level::Warning, Level::Problem].map(|l| label(l).chars().count());
        let width = width.into_iter().max().unwrap_or(8);
        let title_width = self.lines.iter().map(|l| l.title.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(&format!(
                "{:width$}  {:title_width$}  {}\n",
                label(line.level),
                line.title,
                strip_bidi_controls(&line.text)
            ));
            if let Some(advice) = &line.advice {
                out.push_str(&format!(
                    "{:width$}  {:title_width$}  → {}\n",
                    "",
                    "",
                    strip_bidi_controls(advice)
                ));
            }
        }
        out
    }

    /// `lonceng doctor`'s exit code: 1 when something is a problem.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.level == Level::Problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> Facts {
        Facts {
            notifications: Notifications::Dbus {
                name: "dunst".into(),
                version: "1.9.0".into(),
                capabilities: vec!["body".into(), "actions".into(), "persistence".into()],
            },
            tray: Tray::Host,
            display: Display::X11 { active_window: true },
            screen_lock: Some("org.freedesktop.ScreenSaver".into()),
            keyring: Some("Secret Service".into()),
            autostart: Autostart { managed: true, wanted: true, entry: Some("x".into()), starts_this: true },
            server: Server::Lonceng { url: "https://nc.example.com".into(), reachable: Ok(()) },
            token: Token::Valid { user: "u-1".into() },
            stream: Stream::Open,
            clock_skew: Some(2),
            quarantined: Some(0),
        }
    }

    fn level_of(f: &Facts, check: Check) -> Level {
        diagnose(f).into_iter().find(|x| x.check == check).map(|x| x.level).unwrap()
    }

    #[test]
    fn a_healthy_desktop_is_all_ok_and_exits_zero() {
        let findings = diagnose(&healthy());
        assert_eq!(findings.len(), 11, "one line per check");
        assert!(findings.iter().all(|f| f.level == Level::Ok && f.advice.is_none()), "{findings:?}");
        let catalog = Catalog::builtin().unwrap();
        let report = Report::render(&findings, &catalog, Lang::En);
        assert_eq!(report.exit_code(), 0);
        let text = report.text(&catalog, Lang::En);
        assert!(text.contains("dunst 1.9.0"), "{text}");
        assert_eq!(text.lines().count(), 11);
    }

    #[test]
    fn each_missing_piece_is_named_with_what_to_do() {
        let mut f = healthy();
        f.notifications = Notifications::Missing;
        f.tray = Tray::Missing { gnome: true };
        f.display = Display::Wayland;
        f.screen_lock = None;
        f.keyring = None;
        f.server = Server::Lonceng { url: "https://nc.example.com".into(), reachable: Err("refused".into()) };
        f.token = Token::Unchecked;
        f.stream = Stream::Unchecked;
        f.clock_skew = None;
        f.quarantined = Some(3);
        let findings = diagnose(&f);
        let catalog = Catalog::builtin().unwrap();
        for lang in [Lang::En, Lang::Id] {
            let report = Report::render(&findings, &catalog, lang);
            assert_eq!(report.level, Level::Problem);
            assert_eq!(report.exit_code(), 1);
            for line in &report.lines {
                assert!(!line.text.starts_with("doctor-"), "{lang:?}: a message is missing: {}", line.text);
                assert!(!line.title.starts_with("doctor-"), "{lang:?}: a title is missing: {}", line.title);
                if line.level != Level::Ok
                    && ![Check::Token, Check::Stream, Check::Clock].contains(&line.check)
                {
                    assert!(line.advice.is_some(), "{lang:?} {:?} says what to do", line.check);
                }
                if let Some(a) = &line.advice {
                    assert!(!a.starts_with("doctor-"), "{lang:?}: advice missing: {a}");
                }
            }
        }
        let en = Report::render(&findings, &catalog, Lang::En);
        let tray = en.lines.iter().find(|l| l.check == Check::Tray).unwrap();
        assert!(tray.advice.as_deref().unwrap().contains("AppIndicator"), "the GNOME hint: {tray:?}");
        assert_eq!(level_of(&f, Check::Notifications), Level::Problem);
        assert_eq!(level_of(&f, Check::Display), Level::Warning);
        assert_eq!(level_of(&f, Check::Quarantine), Level::Warning);
    }

    #[test]
    fn a_notification_server_without_actions_is_a_warning() {
        let mut f = healthy();
        f.notifications = Notifications::Dbus {
            name: "notify-osd".into(),
            version: "1".into(),
            capabilities: vec!["body".into()],
        };
        assert_eq!(level_of(&f, Check::Notifications), Level::Warning);
    }

    #[test]
    fn clock_skew_is_judged_either_way() {
        let mut f = healthy();
        for (skew, level) in [(0, Level::Ok), (-30, Level::Ok), (31, Level::Warning), (-301, Level::Problem)]
        {
            f.clock_skew = Some(skew);
            assert_eq!(level_of(&f, Check::Clock), level, "{skew} s");
        }
        f.clock_skew = Some(i64::MIN);
        assert_eq!(level_of(&f, Check::Clock), Level::Problem, "no overflow on a hostile Date");
    }

    #[test]
    fn the_login_entry_is_checked_against_the_setting() {
        let mut f = healthy();
        let cases = [
            (false, true, None, false, Level::Ok),
            (true, true, Some("x"), true, Level::Ok),
            (true, true, Some("/tmp/other --hidden"), false, Level::Warning),
            (true, true, None, false, Level::Warning),
            (true, false, None, false, Level::Ok),
            (true, false, Some("x"), true, Level::Warning),
        ];
        for (managed, wanted, entry, starts_this, level) in cases {
            f.autostart = Autostart { managed, wanted, entry: entry.map(Into::into), starts_this };
            assert_eq!(level_of(&f, Check::Autostart), level, "{:?}", f.autostart);
        }
    }

    #[test]
    fn outside_text_cannot_steer_a_terminal() {
        let mut f = healthy();
        f.notifications = Notifications::Dbus {
            name: "evil\u{1b}[2J\u{1b}]0;pwned\u{7}\nok".into(),
            version: "\u{202e}1".into(),
            capabilities: vec!["actions".into(), "x".repeat(10_000)],
        };
        let catalog = Catalog::builtin().unwrap();
        let report = Report::render(&diagnose(&f), &catalog, Lang::En);
        let text = report.text(&catalog, Lang::En);
        assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'), "{text}");
        assert_eq!(text.lines().count(), 11, "no injected line");
        assert!(text.len() < 4_000, "long values are cut");
    }
}
