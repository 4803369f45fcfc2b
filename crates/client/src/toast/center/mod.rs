//! The toast center applies the policy to what the sync engine (and the agent's own actions)
//! report: one toast per object (a conversation, a deal, a ticket), updated in place rather than
//! stacked; messages of one conversation coalesced ("3 new messages from Budi"); a toast withdrawn
//! when its item is read anywhere (NC-R13); quiet hours and a pause that hold toasts (but for the
//! categories that break through, silently) and end with one summary of what they held, kept in
//! a [`HeldLog`] so that a restart meanwhile loses none of it.
//!
//! It holds no store: when the agent acts on a toast, the center says which toast that was
//! ([`Activated`]) through the callback it was built with, and the app's one path for actions
//! opens the page and marks the items read (NC-R7).
//!
//! Rooms: this module owns the center's state and sends each event where it goes; `arrivals`
//! (an item through the policy, into a toast), `screen` (one toast per object, the cap, NC-R13
//! withdrawal), `held` (a pause and quiet hours, and the summary that ends them), `activate`
//! (a click handed to the app), `drive` (the task that runs it all).

mod activate;
mod arrivals;
mod drive;
mod held;
mod screen;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::policy::Reason;
use super::ports::{FocusProbe, Held, HeldLog, MemoryHeld, Notifier};
use super::quiet::Zone;
use super::settings::ToastSettings;
use crate::sync::SyncEvent;
use lonceng_domain::clock::Clock;
use lonceng_domain::i18n::Catalog;
use lonceng_domain::protocol::Presence;

pub use activate::{Activated, OnActivated};
pub use drive::drive;
use screen::Active;

/// Decisions remembered for "why no toast?".
const REMEMBERED: usize = 5_000;
/// The most toasts (not counting summaries) Lonceng keeps on screen at once: the oldest beyond it
/// fold into one "more are waiting" summary, so a busy day neither buries the desktop nor holds
/// hundreds of toasts open on a notification server that keeps them until dismissed.
pub const MAX_OPEN: usize = 10;

/// What the center remembers between events, behind one lock (each room takes it briefly, never
/// across an await).
struct State {
    /// The toasts on screen, by object (`page:…`, `chat:…`, `summary:…`).
    by_object: HashMap<String, Active>,
    next_order: u64,
    by_handle: HashMap<u32, String>,
    reasons: HashMap<String, Reason>,
    reason_order: VecDeque<String>,
    /// Something may be held: the log is asked once quiet ends (and once after a start).
    maybe_held: bool,
    /// ORG-6: the OS's Do Not Disturb was on when last looked at (while it holds toasts back, it
    /// is looked at again every few seconds to notice its end).
    system_quiet: bool,
    /// Chat messages muted per conversation key, told in its next toast once unmuted.
    muted_messages: HashMap<String, i64>,
    presence: Option<Presence>,
}

impl Default for State {
    fn default() -> Self {
        State {
            by_object: HashMap::new(),
            next_order: 0,
            by_handle: HashMap::new(),
            reasons: HashMap::new(),
            reason_order: VecDeque::new(),
            maybe_held: true,
            system_quiet: false,
            muted_messages: HashMap::new(),
            presence: None,
        }
    }
}

pub struct ToastCenter {
    notifier: Arc<dyn Notifier>,
    focus: Arc<dyn FocusProbe>,
    catalog: Arc<Catalog>,
    clock: Arc<dyn Clock>,
    on_activated: OnActivated,
    settings: Mutex<ToastSettings>,
    state: Mutex<State>,
    held: Arc<dyn HeldLog>,
    zone: Zone,
}

impl ToastCenter {
    pub fn new(
        notifier: Arc<dyn Notifier>,
        focus: Arc<dyn FocusProbe>,
        catalog: Arc<Catalog>,
        clock: Arc<dyn Clock>,
        settings: ToastSettings,
        on_activated: OnActivated,
    ) -> ToastCenter {
        ToastCenter {
            notifier,
            focus,
            catalog,
            clock,
            on_activated,
            settings: Mutex::new(settings),
            state: Mutex::new(State::default()),
            held: Arc::new(MemoryHeld::default()),
            zone: Zone::Device,
        }
    }

    /// Keeps what quiet hours hold in `log` (the store, in the app).
    pub fn with_held(mut self, log: Arc<dyn HeldLog>) -> ToastCenter {
        self.held = log;
        self
    }

    /// Reads quiet hours in `zone` (the device's by default).
    pub fn with_zone(mut self, zone: Zone) -> ToastCenter {
        self.zone = zone;
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn settings(&self) -> ToastSettings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_settings(&self, s: ToastSettings) {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = s;
    }

    /// "Why no toast?" for a notification this run has seen.
    pub fn why(&self, id: &str) -> Option<Reason> {
        self.state().reasons.get(id).copied()
    }

    fn remember(&self, id: &str, reason: Reason) {
        let mut st = self.state();
        if st.reasons.insert(id.to_owned(), reason).is_none() {
            st.reason_order.push_back(id.to_owned());
            if st.reason_order.len() > REMEMBERED {
                if let Some(old) = st.reason_order.pop_front() {
                    st.reasons.remove(&old);
                }
            }
        }
    }

    /// Applies one event of the sync engine (or of the agent's own actions).
    pub async fn handle(&self, event: &SyncEvent) {
        self.end_quiet_if_over().await;
        match event {
            SyncEvent::Arrived { notification, late } => self.arrived(notification, *late).await,
            SyncEvent::Chat(message) => self.chat(message).await,
            SyncEvent::Read { ids } | SyncEvent::Removed { ids } => self.withdraw(ids).await,
            SyncEvent::LateSummary { count } => {
                let settings = self.settings();
                if self.quiet_in(&settings).is_some() || self.system_quiet() {
                    // Folded into the one summary at the end of quiet.
                    self.held_back(Held::Other(*count as u64));
                } else {
                    let text = self.catalog.message(
                        settings.lang,
                        "late-summary",
                        &[("count", (*count as i64).into())],
                    );
                    self.summary("summary:late", text).await;
                }
            }
            SyncEvent::Presence(p) => self.state().presence = Some(p.clone()),
            SyncEvent::Gap { .. } | SyncEvent::StoreChanged => {}
        }
    }
}
