//! Each check's verdict: the facts judged ok / warning / problem, with the message and the advice
//! to show. Only message ids and arguments come out (no text), so the verdicts are the same in
//! every language and the window and the terminal render them alike.

use lonceng_domain::i18n::strip_bidi_controls;
use lonceng_domain::model::ParamValue;

use super::facts::{Display, Facts, Network, Notifications, Server, Stream, Token, Tray};
use super::{Check, Finding, Level};

/// The clock may be this far off without a word (seconds)…
const SKEW_OK: i64 = 30;
/// …and this far before it is a problem: pauses, snoozes and "5 minutes ago" go wrong, and the
/// CRM's HMAC signatures are refused.
const SKEW_PROBLEM: i64 = 300;

/// A verdict with no arguments or advice yet; only judging builds findings.
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
    let mut out = Vec::with_capacity(13);
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
    out.push(match &f.network {
        Network { trust: Err(e), .. } => finding(Check::Network, Problem, "doctor-network-trust-failed")
            .arg("error", clean(e).as_str())
            .advice("doctor-network-trust-failed-fix"),
        Network { proxy: Err(pac), .. } => finding(Check::Network, Warning, "doctor-network-pac")
            .arg("pac", clean(pac).as_str())
            .advice("doctor-network-pac-fix"),
        Network { proxy: Result::Ok(proxy), trust: Result::Ok(trust) } => {
            finding(Check::Network, Ok, "doctor-network-ok")
                .arg("proxy", clean(proxy).as_str())
                .arg("trust", clean(trust).as_str())
        }
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
    // ORG-3: a policy key that could not be used is named; the rest of the policy applies.
    let count = |n: usize| ParamValue::Count(i64::try_from(n).unwrap_or(i64::MAX));
    let p = &f.policy;
    out.push(match (&p.source, p.problems.first()) {
        (None, _) => finding(Check::Policy, Ok, "doctor-policy-none"),
        (Some(source), None) => finding(Check::Policy, Ok, "doctor-policy-ok")
            .arg("count", count(p.fixed))
            .arg("source", clean(source).as_str()),
        (Some(source), Some(first)) => finding(Check::Policy, Warning, "doctor-policy-problems")
            .arg("count", count(p.problems.len()))
            .arg("source", clean(source).as_str())
            .arg("problem", clean(first).as_str())
            .advice("doctor-policy-problems-fix"),
    });
    out
}
