//! The desktop app's runtime, without Tauri: settings, the local store, the sync engine, the toast
//! center, the embedded demo server. The Tauri shell's commands are one call each into [`Desktop`],
//! so everything here runs (and is tested) headless.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_core::clock::{Clock, SystemClock, TokioSleeper};
use lonceng_core::i18n::{Catalog, Lang};
use lonceng_core::model::{Category, Tab, WireNotification};
use lonceng_core::store::{ListQuery, MarkAllReport, PageCursor, Scope, Store, StoreError, UNDO_WINDOW};
use lonceng_core::sync::lonceng::LoncengSource;
use lonceng_core::sync::{ConnState, SharedStore, SyncConfig, SyncEngine, SyncEvent, SyncHandle, SyncStatus};
use lonceng_core::toast::{ChatWindowMatch, Reason, ToastCenter, ToastSettings, UrlPolicy};
use lonceng_server::sqlite::SqliteDb;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::focus::DesktopFocus;
use crate::keyring::{TokenStore, TokenVault};
use crate::notifier::DbusNotifier;
use crate::opener::SystemOpener;

/// One error type for the window: what went wrong, in a sentence, and a kind to branch on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum AppError {
    #[error("{0}")]
    Store(String),
    #[error("no notification '{0}'")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => AppError::NotFound(id),
            StoreError::CategoryNotInTab { .. } => AppError::Invalid(e.to_string()),
            other => AppError::Store(other.to_string()),
        }
    }
}

/// What the agent chose, saved as JSON in the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DesktopSettings {
    pub lang: Lang,
    pub muted: BTreeSet<Category>,
    pub mute_chat: bool,
    pub paused_until: Option<DateTime<Utc>>,
    pub server_url: String,
    pub chat_window_patterns: Vec<String>,
    pub autostart: bool,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            lang: Lang::En,
            muted: BTreeSet::new(),
            mute_chat: false,
            paused_until: None,
            server_url: String::new(),
            chat_window_patterns: ChatWindowMatch::default().title_patterns,
            autostart: true,
        }
    }
}

/// The settings as the window sees them (the token itself never leaves the app).
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    #[serde(flatten)]
    pub settings: DesktopSettings,
    pub has_token: bool,
    pub token_store: &'static str,
    pub demo: bool,
}

/// A change from the window; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsChanges {
    pub lang: Option<Lang>,
    pub muted: Option<BTreeSet<Category>>,
    pub mute_chat: Option<bool>,
    pub server_url: Option<String>,
    pub token: Option<String>,
    pub chat_window_patterns: Option<Vec<String>>,
    pub autostart: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageView {
    pub items: Vec<WireNotification>,
    pub next: Option<PageCursor>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CountsView {
    pub total: u64,
    pub tabs: BTreeMap<Tab, u64>,
    pub categories: BTreeMap<Category, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarkAllView {
    pub changed: u64,
    pub undo: Option<String>,
}

/// What the window should refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiEvent {
    Changed,
    Status,
    Settings,
}

pub struct Options {
    pub data_dir: PathBuf,
    /// Run the embedded reference server with simulated activity.
    pub demo: bool,
    pub demo_pace: Duration,
    /// Stop the demo after this many events (tests want a list that holds still).
    pub demo_events: Option<u64>,
}

pub struct Desktop {
    store: SharedStore,
    /// Filled once the engine starts: at once in demo mode, after the keyring is read otherwise.
    sync: Arc<OnceLock<SyncHandle>>,
    toasts: Arc<ToastCenter>,
    focus: Arc<DesktopFocus>,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    settings: Mutex<DesktopSettings>,
    settings_path: PathBuf,
    token: TokenVault,
    token_store: Mutex<TokenStore>,
    demo: bool,
    undos: Mutex<HashMap<String, MarkAllReport>>,
    notify: Arc<dyn Fn(UiEvent) + Send + Sync>,
    shutdown: CancellationToken,
    server: tokio::sync::Mutex<Option<lonceng_server::Running<SqliteDb>>>,
}

fn load_settings(path: &Path) -> DesktopSettings {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, path = %path.display(), "settings unreadable; using defaults");
            DesktopSettings::default()
        }),
        Err(_) => DesktopSettings::default(),
    }
}

impl Desktop {
    /// Opens the store, starts the embedded server in demo mode, the sync engine and the toasts.
    pub async fn start(
        opts: Options,
        notify: Arc<dyn Fn(UiEvent) + Send + Sync>,
    ) -> Result<Arc<Desktop>, AppError> {
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(|e| AppError::Store(format!("cannot create {}: {e}", opts.data_dir.display())))?;
        let settings_path = opts.data_dir.join("settings.json");
        let settings = load_settings(&settings_path);
        let db = if opts.demo { opts.data_dir.join("demo.db") } else { opts.data_dir.join("lonceng.db") };
        if opts.demo {
            // The demo server starts empty each time: so does the demo's local copy.
            let _ = std::fs::remove_file(&db);
        }
        let store: SharedStore = Arc::new(Mutex::new(Store::open(&db)?));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let catalog = Arc::new(Catalog::builtin().map_err(|e| AppError::Store(e.to_string()))?);
        let token = TokenVault::new(opts.data_dir.join("token"));
        let shutdown = CancellationToken::new();

        let (server, endpoint) = if opts.demo {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| AppError::Store(format!("the demo server cannot listen: {e}")))?;
            let db = SqliteDb::in_memory().map_err(|e| AppError::Store(e.to_string()))?;
            let config = lonceng_server::Config::new(
                lonceng_server::demo::PRODUCER_TOKEN,
                lonceng_server::demo::ADMIN_TOKEN,
            );
            let running = lonceng_server::start(db, config, clock.clone(), listener)
                .await
                .map_err(|e| AppError::Store(format!("the demo server did not start: {e}")))?;
            lonceng_server::demo::seed(&running.app).await.map_err(|e| AppError::Store(e.to_string()))?;
            tokio::spawn(lonceng_server::demo::simulate(
                running.app.clone(),
                opts.demo_pace,
                opts.demo_events,
            ));
            let url = running.url();
            (Some(running), Some((url, lonceng_server::demo::AGENTS[0].2.to_owned())))
        } else {
            (None, None)
        };

        let (click_tx, clicks) = tokio::sync::mpsc::unbounded_channel();
        let focus = Arc::new(DesktopFocus::new(None, chat_match(&settings)));
        let icon = "lonceng";
        let sync: Arc<OnceLock<SyncHandle>> = Arc::new(OnceLock::new());
        let (events_tx, events) = tokio::sync::mpsc::unbounded_channel();
        let nudge = sync.clone();
        let toasts = Arc::new(ToastCenter::new(
            Arc::new(DbusNotifier::new("Lonceng", icon, click_tx)),
            focus.clone(),
            Arc::new(SystemOpener),
            catalog.clone(),
            clock.clone(),
            store.clone(),
            Box::new(move || {
                if let Some(n) = nudge.get() {
                    n.nudge();
                }
            }),
            toast_settings(&settings, None),
        ));
        let app = Arc::new(Desktop {
            store,
            sync,
            toasts: toasts.clone(),
            focus,
            clock,
            catalog,
            settings: Mutex::new(settings),
            settings_path,
            token,
            token_store: Mutex::new(TokenStore::None),
            demo: opts.demo,
            undos: Mutex::new(HashMap::new()),
            notify: notify.clone(),
            shutdown: shutdown.clone(),
            server: tokio::sync::Mutex::new(server),
        });

        let changed = notify.clone();
        tokio::spawn(lonceng_core::toast::drive(
            toasts,
            events,
            clicks,
            move |e| {
                if matches!(e, SyncEvent::StoreChanged) {
                    changed(UiEvent::Changed);
                }
            },
            shutdown.clone(),
        ));
        // Connect: at once in demo mode; otherwise once the token is read, in the background,
        // because the first use of a keyring can take seconds and the tray must not wait for it.
        let connector = app.clone();
        tokio::spawn(async move {
            let endpoint = match endpoint {
                Some(e) => Some(e),
                None => {
                    let (token, store) = connector.token.read().await;
                    *connector.token_store.lock().unwrap_or_else(|p| p.into_inner()) = store;
                    (connector.notify)(UiEvent::Settings);
                    let url = connector.settings.lock().unwrap_or_else(|p| p.into_inner()).server_url.clone();
                    token.filter(|_| !url.is_empty()).map(|t| (url, t))
                }
            };
            if let Some((url, token)) = endpoint {
                if let Err(e) = connector.connect(&url, &token, events_tx) {
                    tracing::error!(error = %e, "cannot sync with {url}");
                }
            }
        });
        app.spawn_housekeeping();
        Ok(app)
    }

    /// Starts the sync engine with `url` and `token`, and passes its events on to the toasts.
    fn connect(
        self: &Arc<Self>,
        url: &str,
        token: &str,
        events: tokio::sync::mpsc::UnboundedSender<SyncEvent>,
    ) -> Result<(), AppError> {
        let source = LoncengSource::new(url, token).map_err(|e| AppError::Invalid(e.to_string()))?;
        let (engine, handle, mut rx) = SyncEngine::new(
            source,
            self.store.clone(),
            self.clock.clone(),
            Arc::new(TokioSleeper),
            SyncConfig::default(),
        );
        let mut toast = self.toasts.settings();
        toast.urls.hosts.extend(server_host(url));
        self.toasts.set_settings(toast);
        let mut status = handle.status.clone();
        if self.sync.set(handle).is_err() {
            return Ok(()); // connected already
        }
        let stop = self.shutdown.clone();
        tokio::spawn(engine.run(stop.clone()));
        let forward = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = forward.cancelled() => return,
                    e = rx.recv() => match e {
                        Some(e) => if events.send(e).is_err() { return },
                        None => return,
                    },
                }
            }
        });
        let notify = self.notify.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = status.changed() => if r.is_err() { return } else { notify(UiEvent::Status) },
                }
            }
        });
        Ok(())
    }

    /// Retention (NC-R5) hourly, and compaction after mark-alls.
    fn spawn_housekeeping(self: &Arc<Self>) {
        let app = Arc::downgrade(self);
        let stop = self.shutdown.clone();
        tokio::spawn(async move {
            let mut hourly = tokio::time::interval(Duration::from_secs(3600));
            let mut compact = tokio::time::interval(Duration::from_millis(500));
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = hourly.tick() => {
                        let Some(app) = app.upgrade() else { return };
                        let now = app.clock.now();
                        let store = app.store.clone();
                        let pruned = tokio::task::spawn_blocking(move || store.lock().unwrap_or_else(|p| p.into_inner()).prune_expired(now)).await;
                        if matches!(pruned, Ok(Ok(r)) if r.removed > 0) {
                            (app.notify)(UiEvent::Changed);
                        }
                    }
                    _ = compact.tick() => {
                        let Some(app) = app.upgrade() else { return };
                        let (store, now) = (app.store.clone(), app.clock.now());
                        // Small steps: the window's queries never wait long for the lock.
                        let _ = tokio::task::spawn_blocking(move || store.lock().unwrap_or_else(|p| p.into_inner()).compact_read_marks(2_000, now)).await;
                    }
                }
            }
        });
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn nudge(&self) {
        if let Some(s) = self.sync.get() {
            s.nudge();
        }
    }

    pub fn page(
        &self,
        scope: Scope,
        unread_only: bool,
        after: Option<PageCursor>,
        limit: usize,
    ) -> Result<PageView, AppError> {
        let scope = Scope::new(scope.tab, scope.category)?;
        let page = self.store().page(&ListQuery { scope, unread_only, after, limit })?;
        Ok(PageView { items: page.items.iter().map(|n| n.to_wire()).collect(), next: page.next })
    }

    pub fn counts(&self) -> Result<CountsView, AppError> {
        let c = self.store().unread_counts()?;
        Ok(CountsView {
            total: c.total(),
            tabs: Tab::ALL.iter().map(|t| (*t, c.tab(*t))).collect(),
            categories: Category::ALL.iter().map(|k| (*k, c.category(*k))).collect(),
        })
    }

    pub fn unread_total(&self) -> u64 {
        self.store().unread_counts().map(|c| c.total()).unwrap_or(0)
    }

    pub fn status(&self) -> SyncStatus {
        let configured =
            self.demo || !self.settings.lock().unwrap_or_else(|p| p.into_inner()).server_url.is_empty();
        match self.sync.get() {
            Some(s) => s.status.borrow().clone(),
            None if configured => {
                SyncStatus { state: ConnState::Connecting, last_synced_at: None, maintenance: None }
            }
            None => SyncStatus {
                state: ConnState::Offline {
                    reason: "Set the server address and sign-in token in Settings.".into(),
                    next_attempt_at: self.clock.now(),
                },
                last_synced_at: None,
                maintenance: None,
            },
        }
    }

    /// NC-R8.
    pub fn mark_read(&self, id: &str) -> Result<(), AppError> {
        if self.store().mark_read(id, self.clock.now())? {
            self.nudge();
            (self.notify)(UiEvent::Changed);
        }
        Ok(())
    }

    /// NC-R7: opens the page (only on allowed hosts) and marks the item read.
    pub fn open_item(&self, id: &str) -> Result<(), AppError> {
        let item = self.store().get(id)?.ok_or_else(|| AppError::NotFound(id.to_owned()))?;
        let opened = self.toasts.open_page(&item.url).map_err(AppError::Refused);
        self.mark_read(id)?;
        opened
    }

    /// NC-R6: exactly the scope; undoable for [`UNDO_WINDOW`], then sent to the server.
    pub fn mark_all_read(&self, scope: Scope) -> Result<MarkAllView, AppError> {
        let scope = Scope::new(scope.tab, scope.category)?;
        let report = self.store().mark_all_read(scope, self.clock.now())?;
        let changed = report.changed;
        let undo = report.outbox_key.clone();
        if let Some(key) = &undo {
            self.undos.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), report);
            // Send it once the undo window has passed.
            if let Some(s) = self.sync.get().cloned() {
                let wait =
                    UNDO_WINDOW.to_std().unwrap_or(Duration::from_secs(10)) + Duration::from_millis(200);
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    s.nudge();
                });
            }
        }
        if changed > 0 {
            (self.notify)(UiEvent::Changed);
        }
        Ok(MarkAllView { changed, undo })
    }

    pub fn undo(&self, token: &str) -> Result<bool, AppError> {
        let Some(report) = self.undos.lock().unwrap_or_else(|p| p.into_inner()).remove(token) else {
            return Ok(false);
        };
        let undone = self.store().undo_mark_all(&report, self.clock.now())?;
        if undone {
            (self.notify)(UiEvent::Changed);
        }
        Ok(undone)
    }

    pub fn why(&self, id: &str) -> Option<Reason> {
        self.toasts.why(id)
    }

    pub fn lang(&self) -> Lang {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).lang
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn settings(&self) -> SettingsView {
        let settings = self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let store = *self.token_store.lock().unwrap_or_else(|p| p.into_inner());
        let has_token = self.demo || store != TokenStore::None;
        SettingsView { settings, has_token, token_store: store.as_str(), demo: self.demo }
    }

    /// Saves a change from the window or the tray. A sign-in token goes to the OS keyring (or a
    /// private file where none runs); the new server and token are used from the next start.
    pub async fn save_settings(&self, changes: SettingsChanges) -> Result<SettingsView, AppError> {
        if let Some(url) = &changes.server_url {
            if !url.is_empty() && !lonceng_core::model::is_web_url(url) {
                return Err(AppError::Invalid(format!("'{url}' is not an http(s) address")));
            }
        }
        if let Some(token) = &changes.token {
            let store = self.token.write(token.trim()).await.map_err(AppError::Store)?;
            *self.token_store.lock().unwrap_or_else(|p| p.into_inner()) = store;
        }
        let snapshot = {
            let mut s = self.settings.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(v) = changes.lang {
                s.lang = v;
            }
            if let Some(v) = changes.muted {
                s.muted = v;
            }
            if let Some(v) = changes.mute_chat {
                s.mute_chat = v;
            }
            if let Some(v) = changes.server_url {
                s.server_url = v;
            }
            if let Some(v) = changes.chat_window_patterns {
                s.chat_window_patterns = v;
            }
            if let Some(v) = changes.autostart {
                s.autostart = v;
            }
            s.clone()
        };
        self.apply(&snapshot)?;
        Ok(self.settings())
    }

    /// Pauses toasts until `until` (the tray's "1 hour" / "until tomorrow"); `None` resumes.
    pub async fn pause(&self, until: Option<DateTime<Utc>>) -> Result<(), AppError> {
        let snapshot = {
            let mut s = self.settings.lock().unwrap_or_else(|p| p.into_inner());
            s.paused_until = until;
            s.clone()
        };
        match until {
            Some(t) => self.toasts.pause(t),
            None => self.toasts.resume().await,
        }
        self.apply(&snapshot)
    }

    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).paused_until.filter(|t| *t > self.clock.now())
    }

    /// Saves the settings and hands them to the parts that use them.
    fn apply(&self, s: &DesktopSettings) -> Result<(), AppError> {
        let json = serde_json::to_string_pretty(s).map_err(|e| AppError::Store(e.to_string()))?;
        std::fs::write(&self.settings_path, json)
            .map_err(|e| AppError::Store(format!("saving {}: {e}", self.settings_path.display())))?;
        let mut toast = toast_settings(s, None);
        toast.urls = self.toasts.settings().urls;
        self.toasts.set_settings(toast);
        self.focus.set_matcher(chat_match(s));
        (self.notify)(UiEvent::Settings);
        Ok(())
    }

    pub async fn stop(&self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.lock().await.take() {
            server.stop().await;
        }
    }
}

/// "Pause until tomorrow": 08:00 on the next calendar day of `now`'s time zone (the device's).
pub fn tomorrow_morning<Z: chrono::TimeZone>(now: DateTime<Z>) -> Option<DateTime<Utc>> {
    let day = now.date_naive().succ_opt()?;
    let at = day.and_hms_opt(8, 0, 0)?;
    // On a daylight-saving jump take the earliest valid instant.
    now.timezone().from_local_datetime(&at).earliest().map(|t| t.with_timezone(&Utc))
}

/// A self-hosted server's own host (not a loopback demo), whose pages may be opened too.
fn server_host(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    (!host.is_empty() && host != "127.0.0.1" && host != "localhost").then(|| host.to_owned())
}

fn chat_match(s: &DesktopSettings) -> ChatWindowMatch {
    ChatWindowMatch { title_patterns: s.chat_window_patterns.clone(), ..ChatWindowMatch::default() }
}

/// Toast settings from the agent's; the server's own host may also be opened (self-hosted
/// deployments link to their own pages).
fn toast_settings(s: &DesktopSettings, server: Option<&str>) -> ToastSettings {
    let mut urls = UrlPolicy::default();
    urls.hosts.extend(server.and_then(server_host));
    ToastSettings {
        lang: s.lang,
        muted: s.muted.clone(),
        mute_chat: s.mute_chat,
        paused_until: s.paused_until,
        urls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    #[test]
    fn until_tomorrow_means_eight_in_the_morning_where_the_agent_is() {
        let jakarta = FixedOffset::east_opt(7 * 3600).unwrap();
        // 23:30 on Jan 20 in Jakarta -> 08:00 on Jan 21 in Jakarta = 01:00Z.
        let late = jakarta.with_ymd_and_hms(2026, 1, 20, 23, 30, 0).unwrap();
        assert_eq!(tomorrow_morning(late), Some("2026-01-21T01:00:00Z".parse().unwrap()));
        // 00:10 on Jan 21 -> still the next day: 08:00 on Jan 22.
        let early = jakarta.with_ymd_and_hms(2026, 1, 21, 0, 10, 0).unwrap();
        assert_eq!(tomorrow_morning(early), Some("2026-01-22T01:00:00Z".parse().unwrap()));
    }
}
