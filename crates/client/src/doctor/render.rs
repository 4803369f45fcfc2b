//! The findings in the agent's language: a [`Report`] of lines for Settings → Diagnose, and as
//! text for a terminal (`lonceng doctor`), with the exit code that says whether something is a
//! problem.

use serde::Serialize;

use lonceng_domain::i18n::{strip_bidi_controls, Catalog, Lang};
use lonceng_domain::model::ParamValue;

use super::{Check, Finding, Level};

impl Check {
    /// The check's part of its catalog ids (`doctor-check-…`).
    fn id(self) -> &'static str {
        match self {
            Check::Notifications => "notifications",
            Check::Tray => "tray",
            Check::Display => "display",
            Check::ScreenLock => "lock",
            Check::Keyring => "keyring",
            Check::Autostart => "autostart",
            Check::Network => "network",
            Check::Server => "server",
            Check::Token => "token",
            Check::Stream => "stream",
            Check::Clock => "clock",
            Check::Quarantine => "quarantine",
            Check::Policy => "policy",
        }
    }
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
