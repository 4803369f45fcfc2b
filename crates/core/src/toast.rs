//! Native toasts: when to show one (NC-R12), what it says, and what a click does (NC-R7).
//!
//! [`decide`] is the policy as a pure function; every decision carries its [`Reason`], which the bell
//! window shows as "why no toast?". [`ToastCenter`] applies it to what the sync engine reports: one
//! toast per object (a conversation, a deal, a ticket), updated in place rather than stacked;
//! messages of one conversation coalesced ("3 new messages from Budi"); a toast withdrawn when its
//! item is read anywhere (NC-R13); a click opens the page — only on allowed hosts — and marks the item
//! read. The platform parts are traits ([`Notifier`], [`FocusProbe`], [`Opener`]); `lonceng-desktop`
//! implements them with D-Bus and X11.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::i18n::{Catalog, Lang};
use crate::model::{Category, ChatMessage, Notification, ParamValue, Tab};
use crate::protocol::Presence;
use crate::sync::{BoxFut, SharedStore, SyncEvent};

/// Where the agent's attention is, as the desktop can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Focus {
    /// The Qontak chat page is the focused window.
    ChatFocused,
    /// Another window (another app, another browser tab) is focused, or the chat is minimised.
    ChatNotFocused,
    /// The screen is locked.
    Locked,
    /// The platform does not say (Wayland without help, no display).
    Unknown,
}

/// Why a notification did or did not become a toast (shown in the bell window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Toasted,
    /// NC-R12: the agent is active in the web chat (focus, or presence when focus is unknown).
    ChatFocused,
    Muted,
    Paused,
    AlreadyRead,
    /// MW-5: arrived late; part of one summary instead.
    Late,
}

impl Reason {
    /// The catalog message that explains it.
    pub fn message_id(self) -> &'static str {
        match self {
            Reason::Toasted => "why-toasted",
            Reason::ChatFocused => "why-chat-focused",
            Reason::Muted => "why-muted",
            Reason::Paused => "why-paused",
            Reason::AlreadyRead => "why-already-read",
            Reason::Late => "why-late",
        }
    }
}

/// What the policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyInput {
    /// `None` for an incoming chat message.
    pub tab: Option<Tab>,
    pub read: bool,
    pub late: bool,
    pub muted: bool,
    pub paused: bool,
    pub focus: Focus,
    /// What the web chat reported to the server, if anything.
    pub web_chat_active: Option<bool>,
}

/// NC-R12 and its neighbours, in order: read, late, muted, paused; then Inbox items and chat
/// messages toast only when the agent is not active in the web chat — judged by window focus, by
/// the web chat's own presence report where focus cannot be seen, and toasting where nothing can
/// tell. General and Approval always toast.
pub fn decide(i: &PolicyInput) -> Reason {
    if i.read {
        return Reason::AlreadyRead;
    }
    if i.late {
        return Reason::Late;
    }
    if i.muted {
        return Reason::Muted;
    }
    if i.paused {
        return Reason::Paused;
    }
    let chat_sensitive = matches!(i.tab, None | Some(Tab::Inbox));
    if !chat_sensitive {
        return Reason::Toasted;
    }
    let active = match i.focus {
        Focus::ChatFocused => true,
        Focus::ChatNotFocused | Focus::Locked => false,
        Focus::Unknown => i.web_chat_active.unwrap_or(false),
    };
    if active {
        Reason::ChatFocused
    } else {
        Reason::Toasted
    }
}

/// How the desktop recognises the Qontak chat window: a browser window whose title contains one of
/// the patterns (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatWindowMatch {
    pub title_patterns: Vec<String>,
    /// Window classes counted as browsers; empty: any window.
    pub browser_classes: Vec<String>,
}

impl Default for ChatWindowMatch {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        ChatWindowMatch {
            title_patterns: s(&[
                "qontak chat",
                "chat.qontak.com",
                "qontak omnichannel",
                "inbox | qontak",
                "inbox - qontak",
            ]),
            browser_classes: s(&[
                "chromium",
                "google-chrome",
                "chrome",
                "firefox",
                "brave",
                "microsoft-edge",
                "msedge",
                "vivaldi",
                "opera",
                "navigator",
                "safari",
                "epiphany",
                "zen",
            ]),
        }
    }
}

impl ChatWindowMatch {
    pub fn matches(&self, title: &str, class: &str) -> bool {
        let (title, class) = (title.to_lowercase(), class.to_lowercase());
        let browser = self.browser_classes.is_empty()
            || self.browser_classes.iter().any(|b| class.contains(&b.to_lowercase()));
        browser && self.title_patterns.iter().any(|p| !p.is_empty() && title.contains(&p.to_lowercase()))
    }
}

/// Which pages a click may open: http(s) on these hosts or their subdomains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlPolicy {
    pub hosts: Vec<String>,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy { hosts: vec!["qontak.com".into(), "mekari.com".into(), "mekari.io".into()] }
    }
}

impl UrlPolicy {
    pub fn allows(&self, url: &str) -> bool {
        let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
            return false;
        };
        if !crate::model::is_web_url(url) {
            return false;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return false; // user:pass@host tricks
        }
        let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                authority
            }
        });
        let host = host.trim_end_matches('.').to_lowercase();
        self.hosts.iter().any(|allowed| {
            let allowed = allowed.to_lowercase();
            host == allowed || host.ends_with(&format!(".{allowed}"))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Low,
    Normal,
    Critical,
}

/// A toast as the platform shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub title: String,
    pub body: String,
    pub urgency: Urgency,
    /// The label of the default action ("Open").
    pub action_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("desktop notifications: {0}")]
pub struct NotifyError(pub String);

/// Shows native toasts. Clicks come back through the channel the implementation was built with, as
/// the handle of the toast clicked.
pub trait Notifier: Send + Sync + 'static {
    /// Shows a toast, replacing the one with handle `replaces` in place; returns its handle.
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>>;
    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>>;
}

pub trait FocusProbe: Send + Sync + 'static {
    fn focus(&self) -> Focus;
}

/// Opens a page in the default browser.
pub trait Opener: Send + Sync + 'static {
    fn open(&self, url: &str) -> Result<(), String>;
}

/// What the agent chose about toasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToastSettings {
    pub lang: Lang,
    pub muted: BTreeSet<Category>,
    /// Mutes incoming chat messages (they have no category of the list).
    pub mute_chat: bool,
    pub paused_until: Option<DateTime<Utc>>,
    pub urls: UrlPolicy,
}

impl Default for ToastSettings {
    fn default() -> Self {
        ToastSettings {
            lang: Lang::En,
            muted: BTreeSet::new(),
            mute_chat: false,
            paused_until: None,
            urls: UrlPolicy::default(),
        }
    }
}

/// Decisions remembered for "why no toast?".
const REMEMBERED: usize = 5_000;

#[derive(Debug, Clone)]
struct Active {
    handle: u32,
    /// Notifications shown in this toast (empty for chat messages).
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

/// What a click did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clicked {
    pub url: String,
    /// Whether the URL passed the policy and was opened.
    pub opened: bool,
    /// Notifications marked read by the click (NC-R7).
    pub marked_read: Vec<String>,
}

pub struct ToastCenter {
    notifier: Arc<dyn Notifier>,
    focus: Arc<dyn FocusProbe>,
    opener: Arc<dyn Opener>,
    catalog: Arc<Catalog>,
    clock: Arc<dyn Clock>,
    store: SharedStore,
    /// Called after a click queued reads, so that they reach the server now.
    on_marked: Box<dyn Fn() + Send + Sync>,
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
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        notifier: Arc<dyn Notifier>,
        focus: Arc<dyn FocusProbe>,
        opener: Arc<dyn Opener>,
        catalog: Arc<Catalog>,
        clock: Arc<dyn Clock>,
        store: SharedStore,
        on_marked: Box<dyn Fn() + Send + Sync>,
        settings: ToastSettings,
    ) -> ToastCenter {
        ToastCenter {
            notifier,
            focus,
            opener,
            catalog,
            clock,
            store,
            on_marked,
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

    async fn probe(&self) -> Focus {
        let focus = self.focus.clone();
        tokio::task::spawn_blocking(move || focus.focus()).await.unwrap_or(Focus::Unknown)
    }

    /// Applies one event of the sync engine.
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
        let needs_focus = !read && !late && !muted && !paused && matches!(tab, None | Some(Tab::Inbox));
        let focus = if needs_focus { self.probe().await } else { Focus::Unknown };
        let web_chat_active = self.state().presence.as_ref().map(|p| p.active_in_web_chat);
        PolicyInput { tab, read, late, muted, paused, focus, web_chat_active }
    }

    async fn arrived(&self, n: &Notification, late: bool) {
        let muted = self.settings().muted.contains(&n.category);
        let reason = decide(&self.input(Some(n.tab()), n.read_at.is_some(), late, muted).await);
        self.remember(&n.id, reason);
        match reason {
            Reason::Toasted => {}
            Reason::Paused => {
                let mut st = self.state();
                st.while_paused += 1;
                st.was_paused = true;
                return;
            }
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
        let existing = self.state().by_object.get(&key).map(|a| a.handle);
        match self.notifier.show(toast, existing).await {
            Ok(handle) => {
                let mut st = self.state();
                let active = st.by_object.entry(key.clone()).or_insert(Active {
                    handle,
                    ids: vec![],
                    url: n.url.clone(),
                    messages: 0,
                });
                active.handle = handle;
                if !active.ids.contains(&n.id) {
                    active.ids.push(n.id.clone());
                }
                st.by_handle.insert(handle, key);
            }
            Err(e) => tracing::warn!(error = %e, "toast not shown"),
        }
    }

    async fn chat(&self, m: &ChatMessage) {
        let muted = self.settings().mute_chat;
        let reason = decide(&self.input(None, false, false, muted).await);
        if reason == Reason::Paused {
            let mut st = self.state();
            st.while_paused += 1;
            st.was_paused = true;
        }
        if reason != Reason::Toasted {
            return;
        }
        let key = format!("chat:{}", m.conversation_id);
        let (existing, count) = {
            let st = self.state();
            let a = st.by_object.get(&key);
            (a.map(|a| a.handle), a.map_or(0, |a| a.messages) + 1)
        };
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
        match self.notifier.show(toast, existing).await {
            Ok(handle) => {
                let mut st = self.state();
                st.by_object
                    .insert(key.clone(), Active { handle, ids: vec![], url: m.url.clone(), messages: count });
                st.by_handle.insert(handle, key);
            }
            Err(e) => tracing::warn!(error = %e, "chat toast not shown"),
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
        let existing = self.state().by_object.get(key).map(|a| a.handle);
        if let Ok(handle) = self.notifier.show(toast, existing).await {
            let mut st = self.state();
            st.by_object
                .insert(key.to_owned(), Active { handle, ids: vec![], url: String::new(), messages: 0 });
            st.by_handle.insert(handle, key.to_owned());
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

    /// Opens a page in the browser if the URL policy allows it (toast clicks and the window's items
    /// both come here). Refusals and failures are logged and returned.
    pub fn open_page(&self, url: &str) -> Result<(), String> {
        if !self.settings().urls.allows(url) {
            tracing::warn!(url, "refused to open a URL outside the allowed hosts");
            return Err(format!("{url} is not a Qontak page; not opened"));
        }
        self.opener.open(url).inspect_err(|e| tracing::warn!(error = %e, url, "could not open the page"))
    }

    /// NC-R7: a click on a toast opens its page (if the URL is allowed) and marks its items read.
    pub async fn clicked(&self, handle: u32) -> Option<Clicked> {
        let active = {
            let mut st = self.state();
            let key = st.by_handle.remove(&handle)?;
            st.by_object.remove(&key)?
        };
        let opened = !active.url.is_empty() && self.open_page(&active.url).is_ok();
        let now = self.clock.now();
        let ids = active.ids.clone();
        let store = self.store.clone();
        let marked = tokio::task::spawn_blocking(move || {
            let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
            ids.into_iter().filter(|id| s.mark_read(id, now).unwrap_or(false)).collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        if !marked.is_empty() {
            (self.on_marked)();
        }
        Some(Clicked { url: active.url, opened, marked_read: marked })
    }

    /// Open toasts, for tests and diagnostics.
    pub fn active(&self) -> usize {
        self.state().by_object.len()
    }
}

/// Runs the toast center: every sync event goes to it (and to `also`, e.g. the window), every click
/// comes back to it, and a pause is checked for its end once a minute even when nothing arrives.
pub async fn drive(
    center: Arc<ToastCenter>,
    mut events: tokio::sync::mpsc::UnboundedReceiver<SyncEvent>,
    mut clicks: tokio::sync::mpsc::UnboundedReceiver<u32>,
    also: impl Fn(&SyncEvent) + Send,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut minute = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => match e {
                Some(e) => {
                    center.handle(&e).await;
                    also(&e);
                }
                None => return,
            },
            Some(handle) = clicks.recv() => {
                center.clicked(handle).await;
            }
            _ = minute.tick() => center.end_pause_if_over().await,
        }
    }
}

#[cfg(test)]
#[path = "toast_tests.rs"]
mod tests;
