//! The composition root: builds the app's parts once and connects them. The store, the toast
//! center and the one path for actions are made here; the sync source is chosen here (today the
//! Lonceng server, the organisation's bridge; the embedded one in demo mode); and one event channel
//! carries what sync and the agent's own actions report to the toast center, the window and the
//! tray. The Tauri shell's commands are one call each into [`Desktop`], so all of it runs (and is
//! tested) headless.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use lonceng_core::clock::{Clock, TokioSleeper};
use lonceng_core::i18n::{Catalog, Lang};
use lonceng_core::link::{Links, UrlPolicy};
use lonceng_core::store::{ListQuery, PageCursor, Scope, Store};
use lonceng_core::sync::lonceng::LoncengSource;
use lonceng_core::sync::{
    ConnState, SharedStore, Source, SyncConfig, SyncEngine, SyncEvent, SyncHandle, SyncStatus,
};
use lonceng_core::toast::{Reason, ToastCenter};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::actions::{Actions, UiNotify};
use crate::error::AppError;
use crate::focus::ChatFocus;
use crate::keyring::{Secrets, TokenStore};
use crate::ports::Ports;
use crate::settings::{DesktopSettings, SettingsChanges, SettingsView};
use crate::views::{
    CountsView, MarkAllView, PageView, QuarantineView, QuarantinedView, TrayInput, TrayView, UiEvent,
};

/// The reasons shown for notifications that could not be shown.
const QUARANTINE_SHOWN: usize = 20;

pub struct Options {
    pub data_dir: PathBuf,
    /// Run the embedded reference server with simulated activity (a build with the `demo` feature).
    pub demo: bool,
    pub demo_pace: Duration,
    /// Stop the demo after this many events (tests want a list that holds still).
    pub demo_events: Option<u64>,
}

pub struct Desktop {
    store: SharedStore,
    /// Filled once the engine starts: at once in demo mode, after the keyring is read otherwise.
    sync: Arc<OnceLock<SyncHandle>>,
    actions: Arc<Actions>,
    toasts: Arc<ToastCenter>,
    links: Arc<Links>,
    focus: Arc<dyn ChatFocus>,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    settings: Mutex<DesktopSettings>,
    settings_path: PathBuf,
    secrets: Arc<dyn Secrets>,
    token_store: Mutex<TokenStore>,
    demo: bool,
    /// The one event channel (sync and local actions → toasts, window, tray).
    events: UnboundedSender<SyncEvent>,
    notify: UiNotify,
    shutdown: CancellationToken,
    #[cfg(feature = "demo")]
    server: tokio::sync::Mutex<Option<crate::demo::DemoServer>>,
}

impl Desktop {
    /// Opens the store, starts the toasts and the sync engine (and the embedded server in demo mode).
    pub async fn start(opts: Options, notify: UiNotify) -> Result<Arc<Desktop>, AppError> {
        let ports = Ports::platform(&opts.data_dir);
        Desktop::start_with(opts, notify, ports).await
    }

    /// [`Desktop::start`] with the ports given.
    pub async fn start_with(opts: Options, notify: UiNotify, ports: Ports) -> Result<Arc<Desktop>, AppError> {
        let clock = ports.clock;
        if opts.demo && !cfg!(feature = "demo") {
            return Err(AppError::Invalid(
                "this build of Lonceng has no demo mode (build it with the `demo` feature)".into(),
            ));
        }
        std::fs::create_dir_all(&opts.data_dir)
            .map_err(|e| AppError::Store(format!("cannot create {}: {e}", opts.data_dir.display())))?;
        let settings_path = opts.data_dir.join("settings.json");
        let settings = DesktopSettings::load(&settings_path);
        let db = if opts.demo { opts.data_dir.join("demo.db") } else { opts.data_dir.join("lonceng.db") };
        if opts.demo {
            // The demo server starts empty each time: so does the demo's local copy.
            let _ = std::fs::remove_file(&db);
        }
        let store: SharedStore = Arc::new(Mutex::new(Store::open(&db)?));
        let catalog = Arc::new(Catalog::builtin().map_err(|e| AppError::Store(e.to_string()))?);
        let shutdown = CancellationToken::new();
        let sync: Arc<OnceLock<SyncHandle>> = Arc::new(OnceLock::new());
        let (events, events_rx) = mpsc::unbounded_channel();
        let (activations_tx, activations) = mpsc::unbounded_channel();

        let links = Arc::new(Links::new(UrlPolicy::default(), ports.opener));
        let running = sync.clone();
        let actions = Arc::new(Actions::new(
            store.clone(),
            clock.clone(),
            links.clone(),
            Arc::new(move || {
                if let Some(s) = running.get() {
                    s.nudge();
                }
            }),
            events.clone(),
            notify.clone(),
        ));
        let focus = ports.focus;
        focus.set_matcher(settings.chat_match());
        // The center holds the actions only weakly: the actions hold the center (to withdraw toasts).
        let on_toast = Arc::downgrade(&actions);
        let toasts = Arc::new(ToastCenter::new(
            (ports.notifier)(activations_tx),
            focus.clone(),
            catalog.clone(),
            clock.clone(),
            settings.toasts(),
            // The center says which toast; the one path for actions carries it out (it writes the store).
            Box::new(move |activated| {
                if let Some(actions) = on_toast.upgrade() {
                    tokio::task::spawn_blocking(move || actions.toast_activated(activated));
                }
            }),
        ));
        actions.set_toasts(toasts.clone());
        let changed = notify.clone();
        tokio::spawn(lonceng_core::toast::drive(
            toasts.clone(),
            events_rx,
            activations,
            move |e| {
                if matches!(e, SyncEvent::StoreChanged) {
                    changed(UiEvent::Changed);
                }
            },
            shutdown.clone(),
        ));

        #[cfg(feature = "demo")]
        let (server, demo_endpoint) = if opts.demo {
            let (server, url, token) =
                crate::demo::DemoServer::start(clock.clone(), opts.demo_pace, opts.demo_events).await?;
            (Some(server), Some((url, token)))
        } else {
            (None, None)
        };
        #[cfg(not(feature = "demo"))]
        let demo_endpoint: Option<(String, String)> = None;

        let app = Arc::new(Desktop {
            store,
            sync,
            actions,
            toasts,
            links,
            focus,
            clock,
            catalog,
            settings: Mutex::new(settings),
            settings_path,
            secrets: ports.secrets,
            token_store: Mutex::new(TokenStore::None),
            demo: opts.demo,
            events,
            notify,
            shutdown,
            #[cfg(feature = "demo")]
            server: tokio::sync::Mutex::new(server),
        });
        app.clone().connect_in_background(demo_endpoint);
        crate::housekeeping::spawn(
            app.store.clone(),
            app.clock.clone(),
            app.notify.clone(),
            app.shutdown.clone(),
        );
        Ok(app)
    }

    /// Connects: at once in demo mode; otherwise once the token is read, in the background,
    /// because the first use of a keyring can take seconds and the tray must not wait for it.
    fn connect_in_background(self: Arc<Self>, demo: Option<(String, String)>) {
        tokio::spawn(async move {
            let endpoint = match demo {
                Some(e) => Some(e),
                None => {
                    let (token, store) = self.secrets.read().await;
                    *self.token_store.lock().unwrap_or_else(|p| p.into_inner()) = store;
                    (self.notify)(UiEvent::Settings);
                    let url = self.settings_snapshot().server_url;
                    token.filter(|_| !url.is_empty()).map(|t| (url, t))
                }
            };
            if let Some((url, token)) = endpoint {
                // The source is chosen here: the Lonceng server at `url`.
                match LoncengSource::new(&url, &token) {
                    Ok(source) => {
                        // Self-hosted deployments link to their own pages.
                        self.links.set_policy(UrlPolicy::default().with_server(&url));
                        self.run_sync(source);
                    }
                    Err(e) => tracing::error!(error = %e, "cannot sync with {url}"),
                }
            }
        });
    }

    /// Runs the sync engine with `source`, reporting to the app's one event channel.
    fn run_sync<S: Source>(&self, source: S) {
        let (engine, handle) = SyncEngine::new(
            source,
            self.store.clone(),
            self.clock.clone(),
            Arc::new(TokioSleeper),
            SyncConfig::default(),
            self.events.clone(),
        );
        let mut status = handle.status.clone();
        if self.sync.set(handle).is_err() {
            return; // connected already
        }
        let stop = self.shutdown.clone();
        tokio::spawn(engine.run(stop.clone()));
        let notify = self.notify.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = status.changed() => if r.is_err() { return } else { notify(UiEvent::Status) },
                }
            }
        });
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settings_snapshot(&self) -> DesktopSettings {
        self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    // ---- what the window reads ----

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
        let store = self.store();
        Ok(CountsView::new(&store.unread_counts()?, store.quarantine_count()?))
    }

    /// Why notifications could not be shown: the count and the latest reasons.
    pub fn quarantine(&self) -> Result<QuarantineView, AppError> {
        let store = self.store();
        let latest = store
            .quarantine_reasons(QUARANTINE_SHOWN)?
            .into_iter()
            .map(|(received_at, reason)| QuarantinedView { received_at, reason })
            .collect();
        Ok(QuarantineView { count: store.quarantine_count()?, latest })
    }

    pub fn status(&self) -> SyncStatus {
        let configured = self.demo || !self.settings_snapshot().server_url.is_empty();
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

    pub fn why(&self, id: &str) -> Option<Reason> {
        self.toasts.why(id)
    }

    pub fn lang(&self) -> Lang {
        self.settings_snapshot().lang
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The tray's look now (NC-R14, MW-2, NC-R11).
    pub fn tray(&self) -> TrayView {
        let settings = self.settings_snapshot();
        let unread = self.store().unread_counts().map(|c| c.total()).unwrap_or(0);
        let state = self.status().state;
        TrayView::compute(
            &self.catalog,
            TrayInput {
                lang: settings.lang,
                unread,
                state: &state,
                paused: self.paused_until().is_some(),
                autostart: settings.autostart,
            },
        )
    }

    // ---- what the agent does: the one path for actions ----

    /// NC-R8.
    pub fn mark_read(&self, id: &str) -> Result<(), AppError> {
        self.actions.mark_read(id)
    }

    /// NC-R7.
    pub fn open_item(&self, id: &str) -> Result<(), AppError> {
        self.actions.open(id)
    }

    /// NC-R6.
    pub fn mark_all_read(&self, scope: Scope) -> Result<MarkAllView, AppError> {
        self.actions.mark_all_read(scope)
    }

    /// The tray's "Mark all as read": every tab, each scoped (NC-R6).
    pub fn mark_everything_read(&self) -> Result<u64, AppError> {
        self.actions.mark_everything_read()
    }

    pub fn undo(&self, token: &str) -> Result<bool, AppError> {
        self.actions.undo(token)
    }

    // ---- settings ----

    pub fn settings(&self) -> SettingsView {
        let settings = self.settings_snapshot();
        let store = *self.token_store.lock().unwrap_or_else(|p| p.into_inner());
        let has_token = self.demo || store != TokenStore::None;
        SettingsView { settings, has_token, token_store: store.as_str(), demo: self.demo }
    }

    /// Saves a change from the window or the tray. A sign-in token goes to the OS keyring (or a
    /// private file where none runs); the new server and token are used from the next start.
    pub async fn save_settings(&self, changes: SettingsChanges) -> Result<SettingsView, AppError> {
        // Refused before anything is written (an address that is not http(s), say).
        self.settings_snapshot().apply(changes.clone())?;
        if let Some(token) = &changes.token {
            let store = self.secrets.write(token.trim()).await.map_err(AppError::Store)?;
            *self.token_store.lock().unwrap_or_else(|p| p.into_inner()) = store;
        }
        // Applied to the settings as they are now: a change made meanwhile (the tray's pause,
        // say, while the keyring took its time) is kept.
        self.update(|s| s.apply(changes))?;
        Ok(self.settings())
    }

    /// "Pause for an hour" (from the tray).
    pub async fn pause_for_an_hour(&self) -> Result<(), AppError> {
        self.pause(Some(self.clock.now() + chrono::Duration::hours(1))).await
    }

    /// "Pause until tomorrow": 08:00 tomorrow where the agent is.
    pub async fn pause_until_tomorrow(&self) -> Result<(), AppError> {
        self.pause(tomorrow_morning(self.clock.now().with_timezone(&Local))).await
    }

    pub async fn resume(&self) -> Result<(), AppError> {
        self.pause(None).await
    }

    /// Pauses toasts until `until`; `None` resumes (what arrived meanwhile gets one summary). The
    /// toasts follow only once the setting is saved.
    async fn pause(&self, until: Option<DateTime<Utc>>) -> Result<(), AppError> {
        self.update(|s| {
            s.paused_until = until;
            Ok(())
        })?;
        match until {
            Some(t) => self.toasts.pause(t),
            None => self.toasts.resume().await,
        }
        Ok(())
    }

    pub fn paused_until(&self) -> Option<DateTime<Utc>> {
        self.settings_snapshot().paused_until.filter(|t| *t > self.clock.now())
    }

    /// Changes the settings as they are now, saves them, and hands them to the parts that use
    /// them; writers take turns, so no change is lost to another made at the same time.
    fn update(&self, f: impl FnOnce(&mut DesktopSettings) -> Result<(), AppError>) -> Result<(), AppError> {
        let next = {
            let mut current = self.settings.lock().unwrap_or_else(|p| p.into_inner());
            let mut next = current.clone();
            f(&mut next)?;
            next.save(&self.settings_path)?;
            *current = next.clone();
            next
        };
        self.toasts.set_settings(next.toasts());
        self.focus.set_matcher(next.chat_match());
        (self.notify)(UiEvent::Settings);
        Ok(())
    }

    pub async fn stop(&self) {
        self.shutdown.cancel();
        #[cfg(feature = "demo")]
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
