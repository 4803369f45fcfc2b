//! The toast center applies the policy to what the sync engine (and the agent's own actions)
//! report: one toast per object (a conversation, a deal, a ticket), updated in place rather than
//! stacked; messages of one conversation coalesced ("3 new messages from Budi"); a toast withdrawn
//! when its item is read anywhere (NC-R13); a pause that ends with one summary.
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
use super::ports::{Activation, FocusProbe, Notifier, Toast, ToastAction, Urgency};
use super::settings::ToastSettings;
use crate::clock::Clock;
use crate::i18n::Catalog;
use crate::model::{Category, ChatMessage, Notification, ParamValue, Tab};
use crate::protocol::Presence;
use crate::sync::SyncEvent;

/// Decisions remembered for "why no toast?".
const REMEMBERED: usize = 5_000;

#[derive(Debug, Clone)]
struct Active {
    handle: u32,
    /// Notifications shown in this toast (empty for chat messages and summaries).
    ids: Vec<String>,
    url: String,
    /// Messages coalesced into a chat toast.
    messages: i64,
}

#[derive(Default)]
struct State {
    by_object: HashMap<String, Active>,
    by_handle: HashMap<u32, String>,
    reasons: HashMap<String, Reason>,
    reason_order: VecDeque<String>,
    /// Items that would have toasted during a pause.
    while_paused: i64,
    was_paused: bool,
    presence: Option<Presence>,
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
        }
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

    fn paused(&self, settings: &ToastSettings) -> bool {
        settings.paused_until.is_some_and(|t| t > self.clock.now())
    }

    fn held_back(&self) {
        let mut st = self.state();
        st.while_paused += 1;
        st.was_paused = true;
    }

    async fn probe(&self) -> Focus {
        let focus = self.focus.clone();
        tokio::task::spawn_blocking(move || focus.focus()).await.unwrap_or(Focus::Unknown)
    }

    /// Applies one event of the sync engine (or of the agent's own actions).
    pub async fn handle(&self, event: &SyncEvent) {
        self.end_pause_if_over().await;
        match event {
            SyncEvent::Arrived { notification, late } => self.arrived(notification, *late).await,
            SyncEvent::Chat(message) => self.chat(message).await,
            SyncEvent::Read { ids } | SyncEvent::Removed { ids } => self.withdraw(ids).await,
            SyncEvent::LateSummary { count } => {
                let settings = self.settings();
                if self.paused(&settings) {
                    // Folded into the one summary at the end of the pause.
                    let mut st = self.state();
                    st.while_paused += *count as i64;
                    st.was_paused = true;
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

    async fn input(&self, tab: Option<Tab>, read: bool, late: bool, muted: bool) -> PolicyInput {
        let settings = self.settings();
        let paused = self.paused(&settings);
        // The focus probe costs a round trip to the display server: only ask when it matters.
        let needs_focus = !read && !late && !muted && !paused && chat_sensitive(tab);
        let focus = if needs_focus { self.probe().await } else { Focus::Unknown };
        let web_chat_active = self.state().presence.as_ref().map(|p| p.active_in_web_chat);
        PolicyInput { tab, read, late, muted, paused, focus, web_chat_active }
    }

    /// Shows `toast` for `key`, in place of the toast the key has; returns the handle.
    async fn show(&self, key: &str, toast: Toast) -> Option<u32> {
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

    async fn arrived(&self, n: &Notification, late: bool) {
        let muted = self.settings().muted.contains(&n.category);
        let reason = decide(&self.input(Some(n.tab()), n.read_at.is_some(), late, muted).await);
        self.remember(&n.id, reason);
        match reason {
            Reason::Toasted => {}
            Reason::Paused => return self.held_back(),
            _ => return,
        }
        let lang = self.settings().lang;
        let rendered = self.catalog.render(lang, n.kind, &n.params);
        let toast = Toast {
            title: rendered.title,
            body: rendered.body,
            urgency: urgency(n),
            action_label: self.catalog.message(lang, "tray-open", &[]),
        };
        let key = object_key(n);
        if let Some(handle) = self.show(&key, toast).await {
            let mut st = self.state();
            let active = st.by_object.entry(key).or_insert(Active {
                handle,
                ids: vec![],
                url: n.url.clone(),
                messages: 0,
            });
            active.handle = handle;
            if !active.ids.contains(&n.id) {
                active.ids.push(n.id.clone());
            }
        }
    }

    async fn chat(&self, m: &ChatMessage) {
        let muted = self.settings().mute_chat;
        let reason = decide(&self.input(None, false, false, muted).await);
        if reason == Reason::Paused {
            self.held_back();
        }
        if reason != Reason::Toasted {
            return;
        }
        let key = format!("chat:{}", m.conversation_id);
        let count = self.state().by_object.get(&key).map_or(0, |a| a.messages) + 1;
        let lang = self.settings().lang;
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
            action_label: self.catalog.message(lang, "tray-open", &[]),
        };
        if let Some(handle) = self.show(&key, toast).await {
            self.state()
                .by_object
                .insert(key, Active { handle, ids: vec![], url: m.url.clone(), messages: count });
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
        let settings = self.settings();
        if self.paused(&settings) {
            return;
        }
        let toast = Toast {
            title: self.catalog.message(settings.lang, "app-name", &[]),
            body,
            urgency: Urgency::Low,
            action_label: self.catalog.message(settings.lang, "tray-open", &[]),
        };
        if let Some(handle) = self.show(key, toast).await {
            self.state()
                .by_object
                .insert(key.to_owned(), Active { handle, ids: vec![], url: String::new(), messages: 0 });
        }
    }

    /// Pauses toasts until `until` ("1 hour", "until tomorrow").
    pub fn pause(&self, until: DateTime<Utc>) {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).paused_until = Some(until);
        self.state().was_paused = true;
    }

    /// Ends a pause now; what arrived meanwhile gets one summary.
    pub async fn resume(&self) {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).paused_until = None;
        self.end_pause_if_over().await;
    }

    /// When a pause has ended (by time or by hand), one summary of what it held back.
    pub async fn end_pause_if_over(&self) {
        let settings = self.settings();
        if self.paused(&settings) {
            return;
        }
        let held = {
            let mut st = self.state();
            if !std::mem::take(&mut st.was_paused) {
                return;
            }
            std::mem::take(&mut st.while_paused)
        };
        if held > 0 {
            let text = self.catalog.message(settings.lang, "paused-summary", &[("count", held.into())]);
            self.summary("summary:paused", text).await;
        }
    }

    /// The agent acted on a toast: forgets it and hands what it stood for to the app. Returns
    /// whether the handle was a toast of this center (a second click on a gone toast is not).
    pub fn activate(&self, a: Activation) -> bool {
        let active = {
            let mut st = self.state();
            let Some(key) = st.by_handle.remove(&a.handle) else { return false };
            st.by_object.remove(&key)
        };
        let Some(active) = active else { return false };
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
/// activation comes back to it, and a pause is checked for its end once a minute even when
/// nothing arrives. A panic while handling one event (a bug) is logged and the next event is
/// handled: toasts never stop for the rest of the day.
pub async fn drive(
    center: Arc<ToastCenter>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<SyncEvent>,
    mut activations: tokio::sync::mpsc::UnboundedReceiver<Activation>,
    also: impl Fn(&SyncEvent) + Send,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
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
                survive("a click", std::panic::catch_unwind(AssertUnwindSafe(|| center.activate(a))).map(drop));
            }
            _ = minute.tick() => {
                survive("the end of a pause", AssertUnwindSafe(center.end_pause_if_over()).catch_unwind().await);
            }
        }
    }
}

/// Logs a panic caught while handling `what`; the caller goes on.
fn survive(what: &str, outcome: std::thread::Result<()>) {
    if outcome.is_err() {
        tracing::error!("the toast center failed on {what}; going on with the next");
    }
}
