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

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;

use super::policy::{chat_sensitive, decide, Focus, PolicyInput, Reason};
use super::ports::{
    shorten, Activation, FocusProbe, Held, HeldLog, MemoryHeld, Notifier, Toast, ToastAction, Urgency,
    MAX_BODY, MAX_TITLE,
};
use super::quiet::{QuietState, Zone};
use super::settings::ToastSettings;
use crate::sync::SyncEvent;
use lonceng_domain::clock::Clock;
use lonceng_domain::i18n::Catalog;
use lonceng_domain::model::{Category, ChatMessage, Notification, ParamValue, Tab};
use lonceng_domain::protocol::Presence;

/// Decisions remembered for "why no toast?".
const REMEMBERED: usize = 5_000;
/// The most toasts (not counting summaries) Lonceng keeps on screen at once: the oldest beyond it
/// fold into one "more are waiting" summary, so a busy day neither buries the desktop nor holds
/// hundreds of toasts open on a notification server that keeps them until dismissed.
pub const MAX_OPEN: usize = 10;
/// The longest the end of quiet goes unnoticed.
const MINUTE: std::time::Duration = std::time::Duration::from_secs(60);
/// The summary the oldest toasts fold into.
const MORE: &str = "summary:more";

#[derive(Debug, Clone)]
struct Active {
    handle: u32,
    /// Notifications shown in this toast (empty for chat messages and most summaries).
    ids: Vec<String>,
    url: String,
    /// Messages coalesced into a chat toast; the notifications folded into the "more" summary.
    messages: i64,
    /// When it was first shown (a counter): the oldest fold first.
    order: u64,
}

impl Active {
    fn new(handle: u32, url: &str, order: u64) -> Active {
        Active { handle, ids: vec![], url: url.to_owned(), messages: 0, order }
    }
}

struct State {
    by_object: HashMap<String, Active>,
    next_order: u64,
    by_handle: HashMap<u32, String>,
    reasons: HashMap<String, Reason>,
    reason_order: VecDeque<String>,
    /// Something may be held: the log is asked once quiet ends (and once after a start).
    maybe_held: bool,
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
            presence: None,
        }
    }
}

/// A toast the agent acted on, for the app to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    pub action: ToastAction,
    /// The page of the toast (empty for a summary).
    pub url: String,
    /// The notifications it showed (empty for chat messages and summaries).
    pub ids: Vec<String>,
}

/// Called when the agent acts on a toast.
pub type OnActivated = Box<dyn Fn(Activated) + Send + Sync>;

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

/// One toast per object: notifications about the same page share a toast; a conversation's messages
/// share one.
fn object_key(n: &Notification) -> String {
    format!("page:{}", n.url)
}

fn urgency(n: &Notification) -> Urgency {
    match n.tab() {
        Tab::Approval => Urgency::Critical,
        Tab::Inbox => Urgency::Normal,
        Tab::General => match n.category {
            Category::Mention | Category::Assignment | Category::Reminder => Urgency::Normal,
            _ => Urgency::Low,
        },
    }
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

    fn quiet_in(&self, settings: &ToastSettings) -> Option<QuietState> {
        settings.quiet(self.clock.now(), self.zone)
    }

    /// Whether toasts are held now (a pause or quiet hours), and until when.
    pub fn quiet(&self) -> Option<QuietState> {
        self.quiet_in(&self.settings())
    }

    fn held_back(&self, what: Held<'_>) {
        self.held.hold(what);
        self.state().maybe_held = true;
    }

    async fn probe(&self) -> Focus {
        let focus = self.focus.clone();
        tokio::task::spawn_blocking(move || focus.focus()).await.unwrap_or(Focus::Unknown)
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
                if self.quiet_in(&settings).is_some() {
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

    /// What the policy needs, and whether the toast (if any) is held to silence by quiet hours.
    async fn input(
        &self,
        tab: Option<Tab>,
        category: Option<Category>,
        read: bool,
        late: bool,
        muted: bool,
    ) -> (PolicyInput, bool) {
        let settings = self.settings();
        let quiet = self.quiet_in(&settings).map(|q| q.kind);
        let breaks_through = category.is_some_and(|c| settings.quiet_hours.breakthrough.contains(&c));
        let held = quiet.is_some() && !breaks_through;
        // The focus probe costs a round trip to the display server: only ask when it matters.
        let needs_focus = !read && !late && !muted && !held && chat_sensitive(tab);
        let focus = if needs_focus { self.probe().await } else { Focus::Unknown };
        let web_chat_active = self.state().presence.as_ref().map(|p| p.active_in_web_chat);
        (
            PolicyInput { tab, read, late, muted, quiet, breaks_through, focus, web_chat_active },
            quiet.is_some(),
        )
    }

    /// Shows `toast` for `key`, in place of the toast the key has (title and body shortened to
    /// what a toast holds); returns the handle.
    async fn show(&self, key: &str, mut toast: Toast) -> Option<u32> {
        toast.title = shorten(&toast.title, MAX_TITLE);
        toast.body = shorten(&toast.body, MAX_BODY);
        let existing = self.state().by_object.get(key).map(|a| a.handle);
        match self.notifier.show(toast, existing).await {
            Ok(handle) => {
                self.state().by_handle.insert(handle, key.to_owned());
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, key, "toast not shown");
                None
            }
        }
    }

    /// Records a shown toast for `key`, new or updated in place; `f` fills in what it stands for.
    fn record(&self, key: &str, handle: u32, url: &str, f: impl FnOnce(&mut Active)) {
        let mut st = self.state();
        let order = st.next_order;
        st.next_order += 1;
        let active = st.by_object.entry(key.to_owned()).or_insert_with(|| Active::new(handle, url, order));
        active.handle = handle;
        f(active);
    }

    /// Keeps at most [`MAX_OPEN`] toasts on screen: the oldest fold into the "more" summary.
    async fn trim(&self) {
        let folded: Vec<Active> = {
            let mut st = self.state();
            let mut open: Vec<(u64, String)> = st
                .by_object
                .iter()
                .filter(|(k, _)| !k.starts_with("summary:"))
                .map(|(k, a)| (a.order, k.clone()))
                .collect();
            if open.len() <= MAX_OPEN {
                return;
            }
            open.sort();
            let excess = open.len() - MAX_OPEN;
            let mut folded = Vec::new();
            for (_, key) in open.into_iter().take(excess) {
                if let Some(a) = st.by_object.remove(&key) {
                    st.by_handle.remove(&a.handle);
                    folded.push(a);
                }
            }
            folded
        };
        for a in &folded {
            if let Err(e) = self.notifier.close(a.handle).await {
                tracing::warn!(error = %e, "toast not folded away");
            }
        }
        let (mut ids, mut count) =
            self.state().by_object.get(MORE).map_or((vec![], 0), |m| (m.ids.clone(), m.messages));
        for a in folded {
            count += if a.ids.is_empty() { a.messages.max(1) } else { a.ids.len() as i64 };
            ids.extend(a.ids);
        }
        let lang = self.settings().lang;
        let body = self.catalog.message(lang, "more-summary", &[("count", count.into())]);
        if let Some(handle) = self.show(MORE, self.summary_toast(body)).await {
            self.record(MORE, handle, "", |a| {
                a.ids = ids;
                a.messages = count;
            });
        }
    }

    async fn arrived(&self, n: &Notification, late: bool) {
        let settings = self.settings();
        let muted = settings.muted.contains(&n.category);
        let (input, quiet) =
            self.input(Some(n.tab()), Some(n.category), n.read_at.is_some(), late, muted).await;
        let reason = decide(&input);
        self.remember(&n.id, reason);
        match reason {
            Reason::Toasted => {}
            Reason::Paused | Reason::QuietHours => return self.held_back(Held::Item(&n.id)),
            _ => return,
        }
        let lang = settings.lang;
        let rendered = self.catalog.render(lang, n.kind, &n.params);
        let toast = Toast {
            title: rendered.title,
            body: rendered.body,
            urgency: urgency(n),
            action_label: self.catalog.message(lang, "tray-open", &[]),
            mark_read_label: Some(self.catalog.message(lang, "mark-read", &[])),
            // A category that breaks through quiet hours does so silently.
            sound: !quiet && settings.sound_for(Some(n.category)),
        };
        let key = object_key(n);
        if let Some(handle) = self.show(&key, toast).await {
            self.record(&key, handle, &n.url, |a| {
                if !a.ids.contains(&n.id) {
                    a.ids.push(n.id.clone());
                }
            });
            self.trim().await;
        }
    }

    async fn chat(&self, m: &ChatMessage) {
        let settings = self.settings();
        let (input, quiet) = self.input(None, None, false, false, settings.mute_chat).await;
        let reason = decide(&input);
        if matches!(reason, Reason::Paused | Reason::QuietHours) {
            self.held_back(Held::Other(1));
        }
        if reason != Reason::Toasted {
            return;
        }
        let key = format!("chat:{}", m.conversation_id);
        let count = self.state().by_object.get(&key).map_or(0, |a| a.messages) + 1;
        let lang = settings.lang;
        let args: Vec<(&str, ParamValue)> = vec![
            ("sender", m.sender_name.clone().into()),
            ("channel", m.channel.clone().into()),
            ("preview", m.preview.clone().into()),
            ("count", count.into()),
        ];
        let id = if count > 1 { "chat-messages" } else { "chat-message" };
        let toast = Toast {
            title: self.catalog.attribute(lang, id, "title", &args),
            body: self.catalog.message(lang, id, &args),
            urgency: Urgency::Normal,
            action_label: self.catalog.message(lang, "open-conversation", &[]),
            mark_read_label: None,
            sound: !quiet && settings.sound_for(None),
        };
        if let Some(handle) = self.show(&key, toast).await {
            self.record(&key, handle, &m.url, |a| a.messages = count);
            self.trim().await;
        }
    }

    /// NC-R13: toasts of items read anywhere (or expired) are withdrawn.
    async fn withdraw(&self, ids: &[String]) {
        let mut to_close = Vec::new();
        {
            let mut st = self.state();
            let mut emptied = Vec::new();
            for (key, active) in st.by_object.iter_mut() {
                let before = active.ids.len();
                active.ids.retain(|id| !ids.contains(id));
                if before > 0 && active.ids.is_empty() {
                    emptied.push((key.clone(), active.handle));
                }
            }
            for (key, handle) in emptied {
                st.by_object.remove(&key);
                st.by_handle.remove(&handle);
                to_close.push(handle);
            }
        }
        for handle in to_close {
            if let Err(e) = self.notifier.close(handle).await {
                tracing::warn!(error = %e, "toast not withdrawn");
            }
        }
    }

    async fn summary(&self, key: &str, body: String) {
        if self.quiet().is_some() {
            return;
        }
        if let Some(handle) = self.show(key, self.summary_toast(body)).await {
            self.record(key, handle, "", |_| {});
        }
    }

    fn summary_toast(&self, body: String) -> Toast {
        let lang = self.settings().lang;
        Toast {
            title: self.catalog.message(lang, "app-name", &[]),
            body,
            urgency: Urgency::Low,
            action_label: self.catalog.message(lang, "tray-open", &[]),
            mark_read_label: None,
            sound: false,
        }
    }

    /// Pauses toasts until `until` ("1 hour", "until tomorrow").
    pub fn pause(&self, until: DateTime<Utc>) {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).paused_until = Some(until);
    }

    /// Ends a pause now, and skips the scheduled quiet period running now; what arrived meanwhile
    /// gets one summary.
    pub async fn resume(&self) {
        {
            let mut settings = self.settings.lock().unwrap_or_else(|p| p.into_inner());
            settings.paused_until = None;
            if let Some(q) = settings.quiet(self.clock.now(), self.zone) {
                settings.quiet_skipped_until = Some(q.until);
            }
        }
        self.end_quiet_if_over().await;
    }

    /// When quiet has ended (by time or by hand), one summary of what it held back that is still
    /// unread; after a restart too.
    pub async fn end_quiet_if_over(&self) {
        let settings = self.settings();
        if self.quiet_in(&settings).is_some() || !std::mem::take(&mut self.state().maybe_held) {
            return;
        }
        let held = self.held.release();
        if held > 0 {
            let count = i64::try_from(held).unwrap_or(i64::MAX);
            let text = self.catalog.message(settings.lang, "paused-summary", &[("count", count.into())]);
            self.summary("summary:paused", text).await;
        }
    }

    /// The agent acted on a toast: it goes from the screen (a server keeps a toast whose button
    /// was pressed), and what it stood for is handed to the app. Returns whether the handle was a
    /// toast of this center (a second click on a gone toast is not).
    pub async fn activate(&self, a: Activation) -> bool {
        let active = {
            let mut st = self.state();
            let Some(key) = st.by_handle.remove(&a.handle) else { return false };
            st.by_object.remove(&key)
        };
        let Some(active) = active else { return false };
        if let Err(e) = self.notifier.close(a.handle).await {
            tracing::debug!(error = %e, "an acted-on toast was gone already");
        }
        (self.on_activated)(Activated { action: a.action, url: active.url, ids: active.ids });
        true
    }

    /// The notifications that have a toast on screen now.
    pub fn toasted_ids(&self) -> Vec<String> {
        self.state().by_object.values().flat_map(|a| a.ids.iter().cloned()).collect()
    }

    /// Open toasts, for tests and diagnostics.
    pub fn active(&self) -> usize {
        self.state().by_object.len()
    }
}

/// Runs the toast center: every event goes to it (and to `also`, e.g. the window), every
/// activation comes back to it, and quiet is checked when it is due to end (and once a minute even
/// when nothing arrives). This is the app's one quiet-hours timer: when quiet begins or ends by the
/// clock, `on_quiet` hears it (the tray's look and the window's "Resume" change). A panic while handling one event (a bug) is logged and the next event is
/// handled: toasts never stop for the rest of the day.
pub async fn drive(
    center: Arc<ToastCenter>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<SyncEvent>,
    mut activations: tokio::sync::mpsc::UnboundedReceiver<Activation>,
    also: impl Fn(&SyncEvent) + Send,
    on_quiet: impl Fn(Option<QuietState>) + Send,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut was = center.quiet();
    loop {
        // Quiet is looked at when it is due to end, and at least once a minute (a clock change).
        let wake = center
            .quiet()
            .and_then(|q| (q.until - center.clock.now()).to_std().ok())
            .unwrap_or(MINUTE)
            .min(MINUTE)
            // A moment past the end, so that it has passed on every clock.
            + std::time::Duration::from_millis(50);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => match e {
                Some(e) => {
                    survive("an event", AssertUnwindSafe(center.handle(&e)).catch_unwind().await);
                    survive("the window's refresh", std::panic::catch_unwind(AssertUnwindSafe(|| also(&e))));
                }
                None => return,
            },
            Some(a) = activations.recv() => {
                survive("a click", AssertUnwindSafe(center.activate(a)).catch_unwind().await.map(drop));
            }
            _ = tokio::time::sleep(wake) => {
                survive("the end of quiet", AssertUnwindSafe(center.end_quiet_if_over()).catch_unwind().await);
            }
        }
        // Looked at after every turn: a steady flow of events must not hide the start of quiet.
        let now = center.quiet();
        if now != was {
            survive("the change of quiet", std::panic::catch_unwind(AssertUnwindSafe(|| on_quiet(now))));
            was = now;
        }
    }
}

/// Logs a panic caught while handling `what`; the caller goes on.
fn survive(what: &str, outcome: std::thread::Result<()>) {
    if outcome.is_err() {
        tracing::error!("the toast center failed on {what}; going on with the next");
    }
}
