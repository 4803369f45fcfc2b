//! `lonceng doctor`: an agent finds out alone why a toast or the tray icon does not appear. The
//! desktop gathers [`Facts`] about this computer and the server (`lonceng_desktop::doctor`); here
//! they are judged ([`diagnose`]) and rendered in the agent's language ([`Report::render`]): one
//! line per check, ok / warning / problem, and for anything not ok what to do. The same report is
//! printed by `lonceng doctor` (exit code 1 on a problem) and shown under Settings → Diagnose.
//!
//! Text that comes from elsewhere (a notification server's name, an error, a login entry's
//! command) is cleaned of control characters before it is put in a line ([`clean`]): a terminal
//! must not run escape sequences from a D-Bus peer.
//!
//! Rooms: `facts` (what the platform reports), `judge` (each check's verdict), `render` (the
//! report in a language, for the window and the terminal). This module keeps what judging and
//! rendering share (a [`Finding`], its [`Check`] and [`Level`]); the rooms are private and their
//! items are public here, so each has one path.

mod facts;
mod judge;
mod render;

use serde::Serialize;

use lonceng_domain::model::ParamValue;

pub use facts::{
    Autostart, Display, Facts, Network, Notifications, PolicyFacts, Server, Stream, Token, Tray,
};
pub use judge::{clean, diagnose};
pub use render::{Line, Report};

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
    Network,
    Server,
    Token,
    Stream,
    Clock,
    Quarantine,
    Policy,
}

/// One check's outcome: a message id and its arguments, and the advice's id when not ok.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: Check,
    pub level: Level,
    pub message: &'static str,
    pub args: Vec<(&'static str, ParamValue)>,
    pub advice: Option<&'static str>,
}

#[cfg(test)]
mod tests;
