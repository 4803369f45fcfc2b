//! The composition root: builds the app's parts once and connects them. The store, the toast
//! center and the one path for actions are made here; the sync source is chosen here (today the
//! Lonceng server, the organisation's bridge; the embedded one in demo mode); and one event channel
//! carries what sync and the agent's own actions report to the toast center, the window and the
//! tray. The Tauri shell's commands are one call each into [`Desktop`], so all of it runs (and is
//! tested) headless.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use lonceng_core::clock::{Clock, TokioSleeper};
use lonceng_core::crm::Credentials;
use lonceng_core::i18n::{Catalog, Lang};
use lonceng_core::link::{Links, UrlPolicy};
use lonceng_core::model::Tab;
use lonceng_core::store::{ListQuery, PageCursor, Scope, SearchQuery, Store, MAX_RESULTS};
use lonceng_core::sync::crm_source::CrmSource;
use lonceng_core::sync::lonceng::LoncengSource;
use lonceng_core::sync::BoxFut;
use lonceng_core::sync::{
    ConnState, SharedStore, Source, SyncConfig, SyncEngine, SyncEvent, SyncHandle, SyncStatus,
};
use lonceng_core::toast::{
    snooze_times, Notifier, NotifyError, QuietKind, QuietState, Reason, SnoozeTimes, Toast, ToastCenter, Zone,
};
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::actions::{Actions, UiNotify};
use crate::error::AppError;
use crate::focus::ChatFocus;
use crate::keyring::{SecretKind, Secrets, TokenStore};
use crate::ports::Ports;
use crate::settings::{DesktopSettings, SettingsChanges, SettingsView, SourceKind};
use crate::views::{
    CountsView, MarkAllView, PageView, QuarantineView, QuarantinedView, SearchView, SnoozedView, TrayInput,
    TrayView, UiEvent, UpdateOffer,
};

/// The reasons shown for notifications that could not be shown.
const QUARANTINE_SHOWN: usize = 20;
/// How often the direct CRM mode polls: the CRM has no stream, and its gateway is shared by the
/// whole company.
const CRM_POLL: Duration = Duration::from_secs(60);

/// The sync engine while it runs, and how to stop it (a change of source starts another).
struct Connected {
    handle: SyncHandle,
    stop: CancellationToken,
    /// The engine's task: a change of source waits for it to end, so that nothing it was still
    /// writing lands in the list of the next source.
    task: tokio::task::JoinHandle<()>,
}

/// The secrets as read from the keyring at start and kept since (the engine needs them again
/// when the source changes).
#[derive(Default)]
struct Held {
    token: Option<String>,
    token_store: Option<TokenStore>,
    crm_secret: Option<String>,
    crm_store: Option<TokenStore>,
}

pub struct Options {
    pub data_dir: PathBuf,
    /// Run the embedded reference server with simulated activity (a build with the `demo` feature).
    pub demo: bool,
    pub demo_pace: Duration,
    /// Stop the demo after this many events (tests want a list that holds still).
    pub demo_events: Option<u64>,
    /// The installed binary whose login entry this run manages, or `None` (a build folder's copy,
    /// the demo, a test): see [`crate::autostart`].
    pub autostart_exe: Option<PathBuf>,
}

pub struct Desktop {
    store: SharedStore,
    /// The running engine: started at once in demo mode, after the keyring is read otherwise, and
    /// again whenever the source changes.
    sync: Arc<Mutex<Option<Connected>>>,
    actions: Arc<Actions>,
    toasts: Arc<ToastCenter>,
    links: Arc<Links>,
    focus: Arc<dyn ChatFocus>,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    settings: Mutex<DesktopSettings>,
    settings_path: PathBuf,
    secrets: Arc<dyn Secrets>,
    held: Mutex<Held>,
    demo: bool,
    autostart_exe: Option<PathBuf>,
    /// The embedded server's address and token in the demo (Diagnose tries them).
    demo_endpoint: Option<(String, String)>,
    /// A signed update on offer (the Tauri shell checks; the agent consents).
    update: Mutex<Option<UpdateOffer>>,
    /// The one event channel (sync and local actions → toasts, window, tray).
    events: UnboundedSender<SyncEvent>,
    /// Wakes the snooze timer when a snooze is set or moved.
    snoozes: Arc<tokio::sync::Notify>,
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
        let catalog = Arc::new(Catalog::builtin().map_err(|e| AppError::Store(e.to_string()))?);
        let mut opened = Store::open(&db)?;
        // Search finds items by their text in both languages, indexed in the background.
        opened.set_indexer(lonceng_core::store::rendered(catalog.clone()));
        let store: SharedStore = Arc::new(Mutex::new(opened));
        let shutdown = CancellationToken::new();
        let sync: Arc<Mutex<Option<Connected>>> = Arc::new(Mutex::new(None));
        let (events, events_rx) = mpsc::unbounded_channel();
        let (activations_tx, activations) = mpsc::unbounded_channel();

        let links = Arc::new(Links::new(UrlPolicy::default(), ports.opener));
        let running = sync.clone();
        let actions = Arc::new(Actions::new(
            store.clone(),
            clock.clone(),
            links.clone(),
            Arc::new(move || {
                if let Some(c) = running.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                    c.handle.nudge();
                }
            }),
            events.clone(),
            notify.clone(),
        ));
        let focus = ports.focus;
        focus.set_matcher(settings.chat_match());
        // The center holds the actions only weakly: the actions hold the center (to withdraw toasts).
        let on_toast = Arc::downgrade(&actions);
        let notifier: Arc<dyn Notifier> =
            Arc::new(Announcing { inner: (ports.notifier)(activations_tx), notify: notify.clone() });
        let toasts = Arc::new(
            ToastCenter::new(
                notifier,
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
            )
            // What quiet hours hold is kept in the store: a restart meanwhile loses no summary.
            .with_held(store.clone()),
        );
        actions.set_toasts(toasts.clone());
        let changed = notify.clone();
        let index = Arc::new(tokio::sync::Notify::new());
        spawn_indexer(store.clone(), index.clone(), notify.clone(), shutdown.clone());
        tokio::spawn(lonceng_core::toast::drive(
            toasts.clone(),
            events_rx,
            activations,
            move |e| {
                if matches!(e, SyncEvent::StoreChanged) {
                    changed(UiEvent::Changed);
                    index.notify_one();
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
            held: Mutex::new(Held::default()),
            demo: opts.demo,
            autostart_exe: opts.autostart_exe.filter(|_| !opts.demo),
            demo_endpoint: demo_endpoint.clone(),
            update: Mutex::new(None),
            events,
            snoozes: Arc::new(tokio::sync::Notify::new()),
            notify,
            shutdown,
            #[cfg(feature = "demo")]
            server: tokio::sync::Mutex::new(server),
        });
        // An installed app's first run turns start at login on (the default); later runs keep
        // the entry in step with the agent's choice and this binary's path.
        app.apply_autostart();
        app.clone().connect_in_background(demo_endpoint);
        app.spawn_snooze_timer();
        app.spawn_quiet_watch();
        crate::housekeeping::spawn(
            app.store.clone(),
            app.clock.clone(),
            app.notify.clone(),
            app.shutdown.clone(),
        );
        Ok(app)
    }

    /// Connects: at once in demo mode; otherwise once the secrets are read, in the background,
    /// because the first use of a keyring can take seconds and the tray must not wait for it.
    fn connect_in_background(self: Arc<Self>, demo: Option<(String, String)>) {
        tokio::spawn(async move {
            if let Some((url, token)) = demo {
                match LoncengSource::new(&url, &token) {
                    Ok(source) => self.run_sync("demo", source),
                    Err(e) => tracing::error!(error = %e, "cannot sync with the demo server"),
                }
                return;
            }
            let (token, token_store) = self.secrets.read(SecretKind::SignInToken).await;
            let (crm_secret, crm_store) = self.secrets.read(SecretKind::CrmClientSecret).await;
            {
                // A secret the agent saved while these were read is newer: it stays.
                let mut held = self.held();
                if held.token_store.is_none() {
                    (held.token, held.token_store) = (token, Some(token_store));
                }
                if held.crm_store.is_none() {
                    (held.crm_secret, held.crm_store) = (crm_secret, Some(crm_store));
                }
            }
            (self.notify)(UiEvent::Settings);
            self.reconnect().await;
        });
    }

    /// Brings snoozed items back at their time: unread, with a fresh toast (quiet hours permitting).
    /// It sleeps until the next snooze ends, at most a minute (the clock may be changed), and wakes
    /// when one is set.
    fn spawn_snooze_timer(&self) {
        let (store, clock, events) = (self.store.clone(), self.clock.clone(), self.events.clone());
        let (wake, shutdown) = (self.snoozes.clone(), self.shutdown.clone());
        tokio::spawn(async move {
            const MINUTE: Duration = Duration::from_secs(60);
            // After a failure, a due snooze is tried again a little later, not at once forever.
            let mut backoff = Duration::ZERO;
            loop {
                let next = store.lock().unwrap_or_else(|p| p.into_inner()).next_snooze().ok().flatten();
                let wait =
                    next.map_or(MINUTE, |t| (t - clock.now()).to_std().unwrap_or(Duration::ZERO).min(MINUTE));
                let wait = wait.max(backoff);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = wake.notified() => continue,
                    _ = tokio::time::sleep(wait) => {}
                }
                let (store, now) = (store.clone(), clock.now());
                let due = tokio::task::spawn_blocking(move || {
                    store.lock().unwrap_or_else(|p| p.into_inner()).take_due_snoozes(now)
                })
                .await;
                backoff = Duration::ZERO;
                match due {
                    Ok(Ok(due)) if !due.is_empty() => {
                        let _ = events.send(SyncEvent::StoreChanged);
                        for n in due {
                            let _ = events.send(SyncEvent::Arrived { notification: n, late: false });
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "snoozed items not brought back");
                        backoff = Duration::from_secs(5);
                    }
                    Err(e) => tracing::warn!(error = %e, "the snooze timer failed"),
                }
            }
        });
    }

    /// Tells the tray and the window when quiet hours or a pause begin or end by the clock (the
    /// toast center summarises; the icon and "Resume" change).
    fn spawn_quiet_watch(&self) {
        let (toasts, clock, notify, shutdown) =
            (self.toasts.clone(), self.clock.clone(), self.notify.clone(), self.shutdown.clone());
        tokio::spawn(async move {
            const MINUTE: Duration = Duration::from_secs(60);
            let mut was = toasts.quiet();
            loop {
                let wait = was.map_or(MINUTE, |q| {
                    (q.until - clock.now()).to_std().unwrap_or(Duration::ZERO).min(MINUTE)
                });
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    // A moment past the end, so that it has passed on every clock.
                    _ = tokio::time::sleep(wait + Duration::from_millis(50)) => {}
                }
                let now = toasts.quiet();
                if now != was {
                    toasts.end_quiet_if_over().await;
                    notify(UiEvent::Settings);
                    was = now;
                }
            }
        });
    }

    /// Writes or removes the login entry as the settings say, when this run manages it.
    fn apply_autostart(&self) {
        let Some(exe) = &self.autostart_exe else { return };
        if let Err(e) = crate::autostart::set(self.settings_snapshot().autostart, exe) {
            tracing::warn!(error = %e, "could not change start at login");
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// (Re)starts sync with the source the settings choose, stopping the one before. The source is
    /// chosen here: the organisation's Lonceng server, or the Qontak CRM API directly.
    async fn reconnect(&self) {
        let old = self.sync.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(old) = old {
            old.stop.cancel();
            if let Err(e) = old.task.await {
                tracing::warn!(error = %e, "the previous sync engine ended badly");
            }
        }
        let settings = self.settings_snapshot();
        let (token, crm_secret) = {
            let held = self.held();
            (held.token.clone(), held.crm_secret.clone())
        };
        match settings.source {
            SourceKind::Server => {
                let (url, Some(token)) = (&settings.server_url, token) else { return };
                if url.is_empty() {
                    return;
                }
                match LoncengSource::new(url, &token) {
                    Ok(source) => {
                        // Self-hosted deployments link to their own pages.
                        self.links.set_policy(UrlPolicy::default().with_server(url));
                        self.run_sync(&format!("server:{url}"), source);
                    }
                    Err(e) => tracing::error!(error = %e, "cannot sync with {url}"),
                }
            }
            SourceKind::Crm => {
                let (base, id, sso) =
                    (&settings.crm_base_url, &settings.crm_client_id, &settings.crm_sso_user_id);
                let Some(secret) = crm_secret else { return };
                if id.is_empty() || sso.is_empty() {
                    return;
                }
                let creds = Credentials { username: id.clone(), secret, sso_user_id: sso.clone() };
                match CrmSource::new(base, creds, sso, self.clock.clone()) {
                    Ok(source) => {
                        self.links.set_policy(UrlPolicy::default());
                        self.run_sync(&format!("crm:{base}|{id}|{sso}"), source.with_poll_interval(CRM_POLL));
                    }
                    Err(e) => tracing::error!(error = %e, "cannot sync with the CRM at {base}"),
                }
            }
        }
    }

    /// Runs the sync engine with `source`, reporting to the app's one event channel. The store is
    /// bound to the source first: what another source put there goes.
    fn run_sync<S: Source>(&self, identity: &str, source: S) {
        match self.store().bind_source(identity) {
            Ok(true) => {
                tracing::info!("the source changed: the list starts anew");
                let _ = self.events.send(SyncEvent::StoreChanged);
            }
            Ok(false) => {}
            Err(e) => return tracing::error!(error = %e, "cannot prepare the store for the source"),
        }
        let (engine, handle) = SyncEngine::new(
            source,
            self.store.clone(),
            self.clock.clone(),
            Arc::new(TokioSleeper),
            SyncConfig::default(),
            self.events.clone(),
        );
        let mut status = handle.status.clone();
        let stop = self.shutdown.child_token();
        let task = tokio::spawn(engine.run(stop.clone()));
        *self.sync.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Connected { handle, stop: stop.clone(), task });
        let notify = self.notify.clone();
        notify(UiEvent::Status);
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
        if let Some(c) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            return c.handle.status.borrow().clone();
        }
        let settings = self.settings_snapshot();
        let held = self.held();
        let read = held.token_store.is_some();
        let missing = match settings.source {
            _ if self.demo => None,
            SourceKind::Server if settings.server_url.is_empty() || (read && held.token.is_none()) => {
                Some("Set the server address and sign-in token in Settings.")
            }
            SourceKind::Crm
                if settings.crm_client_id.is_empty()
                    || settings.crm_sso_user_id.is_empty()
                    || (read && held.crm_secret.is_none()) =>
            {
                Some("Enter the CRM client id, client secret and your SSO user id in Settings.")
            }
            _ => None,
        };
        match missing {
            None => SyncStatus { state: ConnState::Connecting, last_synced_at: None, maintenance: None },
            Some(reason) => SyncStatus {
                state: ConnState::Offline { reason: reason.into(), next_attempt_at: self.clock.now() },
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
        let update = self.update_offer();
        let quiet = self.quiet();
        let until = quiet.map(|q| q.until.with_timezone(&Local).format("%H:%M").to_string());
        TrayView::compute(
            &self.catalog,
            TrayInput {
                lang: settings.lang,
                unread,
                state: &state,
                quiet: quiet.zip(until.as_deref()).map(|(q, t)| (q.kind, t)),
                quiet_hours_on: settings.quiet_hours.enabled,
                autostart: settings.autostart,
                autostart_managed: self.autostart_exe.is_some(),
                update: update.as_ref().map(|u| u.version.as_str()),
            },
        )
    }

    // ---- what the agent does: the one path for actions ----

    /// The signed update on offer, if any.
    pub fn update_offer(&self) -> Option<UpdateOffer> {
        self.update.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Offers an update (or withdraws the offer); the window and the tray are told.
    pub fn offer_update(&self, offer: Option<UpdateOffer>) {
        *self.update.lock().unwrap_or_else(|p| p.into_inner()) = offer;
        (self.notify)(UiEvent::Update);
    }

    /// Where updates are looked for: the settings' manifest URL, never in the demo.
    pub fn update_url(&self) -> Option<String> {
        self.settings_snapshot().update_url().filter(|_| !self.demo)
    }

    /// Settings → Diagnose: the same checks as `lonceng doctor`, from the running app.
    pub async fn diagnose(&self) -> lonceng_core::doctor::Report {
        let settings = self.settings_snapshot();
        let (token, crm_secret_stored) = {
            let held = self.held();
            (held.token.clone(), held.crm_store.is_some_and(|s| s != TokenStore::None))
        };
        let (server, token) = match &self.demo_endpoint {
            Some((url, token)) => (Some(url.clone()), Some(token.clone())),
            None => (Some(settings.server_url.trim().to_owned()).filter(|u| !u.is_empty()), token),
        };
        let lang = settings.lang;
        let context = crate::doctor::Context {
            settings,
            server,
            token,
            demo: self.demo,
            crm_secret_stored,
            exe: self.autostart_exe.clone().or_else(|| std::env::current_exe().ok()).unwrap_or_default(),
            autostart_managed: self.autostart_exe.is_some(),
            quarantined: self.store().quarantine_count().ok(),
        };
        crate::doctor::report(&context, &self.catalog, lang).await
    }

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

    // ---- snooze, search, gaps ----

    /// Snoozes an unread item until `until`: it leaves the lists and its toast, and comes back
    /// then as unread with a fresh toast.
    pub fn snooze(&self, id: &str, until: DateTime<Utc>) -> Result<bool, AppError> {
        if until <= self.clock.now() {
            return Err(AppError::Invalid("a snooze ends in the future".into()));
        }
        let snoozed = self.store().snooze(id, until)?;
        if snoozed {
            // Its toast goes as a read item's would (NC-R13's withdrawal).
            let _ = self.events.send(SyncEvent::Removed { ids: vec![id.to_owned()] });
            let _ = self.events.send(SyncEvent::StoreChanged);
            self.snoozes.notify_one();
        }
        Ok(snoozed)
    }

    /// Brings a snoozed item back now (without a toast: the agent is looking at it).
    pub fn unsnooze(&self, id: &str) -> Result<bool, AppError> {
        let back = self.store().unsnooze(id)?;
        if back {
            let _ = self.events.send(SyncEvent::StoreChanged);
            self.snoozes.notify_one();
        }
        Ok(back)
    }

    /// The "Snoozed" view: what waits, soonest first.
    pub fn snoozed(&self) -> Result<Vec<SnoozedView>, AppError> {
        let waiting = self.store().snoozed()?;
        Ok(waiting
            .into_iter()
            .map(|s| SnoozedView { item: s.notification.to_wire(), until: s.until })
            .collect())
    }

    /// The snooze menu's times, where the agent is.
    pub fn snooze_times(&self) -> Result<SnoozeTimes, AppError> {
        snooze_times(self.clock.now(), Zone::Device)
            .ok_or_else(|| AppError::Invalid("no snooze time fits this date".into()))
    }

    /// Searches the history: within `scope` (the active tab and chip) or everywhere.
    pub fn search(
        &self,
        text: &str,
        scope: Option<Scope>,
        unread_only: bool,
    ) -> Result<SearchView, AppError> {
        let scope = scope.map(|s| Scope::new(s.tab, s.category)).transpose()?;
        let q = SearchQuery { text: text.to_owned(), scope, unread_only, limit: MAX_RESULTS };
        let items = self.store().search(&q)?;
        Ok(SearchView {
            limited: items.len() >= MAX_RESULTS,
            items: items.iter().map(|n| n.to_wire()).collect(),
        })
    }

    /// Tabs that may have lost items while the agent was away (NC-R5), until dismissed.
    pub fn gaps(&self) -> Result<Vec<Tab>, AppError> {
        Ok(self.store().gaps()?)
    }

    pub fn dismiss_gap(&self, tab: Tab) -> Result<(), AppError> {
        self.store().dismiss_gap(tab)?;
        (self.notify)(UiEvent::Changed);
        Ok(())
    }

    // ---- settings ----

    pub fn settings(&self) -> SettingsView {
        let settings = self.settings_snapshot();
        let held = self.held();
        let token_store = held.token_store.unwrap_or(TokenStore::None);
        let crm_store = held.crm_store.unwrap_or(TokenStore::None);
        SettingsView {
            settings,
            has_token: self.demo || token_store != TokenStore::None,
            token_store: token_store.as_str(),
            has_crm_secret: crm_store != TokenStore::None,
            crm_secret_store: crm_store.as_str(),
            demo: self.demo,
            autostart_managed: self.autostart_exe.is_some(),
        }
    }

    /// Saves a change from the window or the tray. Secrets (the sign-in token, the CRM client
    /// secret) go to the OS keyring (or a private file where none runs). A change of source, of its
    /// address or of a secret starts sync again with it, and the list then holds only what that
    /// source has.
    pub async fn save_settings(&self, changes: SettingsChanges) -> Result<SettingsView, AppError> {
        // Refused before anything is written (an address that is not http(s), say).
        let before = self.settings_snapshot();
        before.clone().apply(changes.clone())?;
        let mut secret_changed = false;
        for (kind, value) in [
            (SecretKind::SignInToken, &changes.token),
            (SecretKind::CrmClientSecret, &changes.crm_client_secret),
        ] {
            let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else { continue };
            let store = self.secrets.write(kind, value).await.map_err(AppError::Store)?;
            let mut held = self.held();
            match kind {
                SecretKind::SignInToken => {
                    (held.token, held.token_store) = (Some(value.to_owned()), Some(store))
                }
                SecretKind::CrmClientSecret => {
                    (held.crm_secret, held.crm_store) = (Some(value.to_owned()), Some(store))
                }
            }
            secret_changed = true;
        }
        // Applied to the settings as they are now: a change made meanwhile (the tray's pause,
        // say, while the keyring took its time) is kept.
        let autostart = changes.autostart;
        self.update(|s| s.apply(changes))?;
        if autostart.is_some() {
            self.apply_autostart();
        }
        if !self.demo && (secret_changed || self.settings_snapshot().source_changed(&before)) {
            self.reconnect().await;
        }
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

    /// Ends a pause, or skips the quiet hours running now; what was held gets one summary.
    pub async fn resume(&self) -> Result<(), AppError> {
        self.pause(None).await
    }

    /// Pauses toasts until `until`; `None` resumes (what arrived meanwhile gets one summary). The
    /// toasts follow only once the setting is saved.
    async fn pause(&self, until: Option<DateTime<Utc>>) -> Result<(), AppError> {
        let now = self.clock.now();
        self.update(|s| {
            s.paused_until = until;
            if until.is_none() {
                // Resumed inside quiet hours (paused or not): the period running now is skipped.
                if let Some(QuietState { kind: QuietKind::Scheduled, until }) =
                    s.toasts().quiet(now, Zone::Device)
                {
                    s.quiet_skipped_until = Some(until);
                }
            }
            Ok(())
        })?;
        match until {
            Some(t) => self.toasts.pause(t),
            None => self.toasts.resume().await,
        }
        Ok(())
    }

    /// Turns the weekly quiet hours on or off (the tray's check item).
    pub async fn set_quiet_hours(&self, on: bool) -> Result<(), AppError> {
        let mut quiet_hours = self.settings_snapshot().quiet_hours;
        quiet_hours.enabled = on;
        self.save_settings(SettingsChanges { quiet_hours: Some(quiet_hours), ..SettingsChanges::default() })
            .await?;
        // Turned off in the middle of quiet hours: what they held is told now.
        self.toasts.end_quiet_if_over().await;
        Ok(())
    }

    /// Whether toasts are held now (a pause or quiet hours), and until when.
    pub fn quiet(&self) -> Option<QuietState> {
        self.toasts.quiet()
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

/// Keeps search up to date: after every change of the list (and once at start, for a store from
/// before search), what is not indexed yet is, 500 items per turn on the store, so that the window
/// and sync never wait long for it (docs/PERFORMANCE.md).
fn spawn_indexer(
    store: SharedStore,
    wake: Arc<tokio::sync::Notify>,
    notify: UiNotify,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let mut indexed = false;
            loop {
                let store = store.clone();
                let step = tokio::task::spawn_blocking(move || {
                    store.lock().unwrap_or_else(|p| p.into_inner()).index_some(500)
                })
                .await;
                match step {
                    Ok(Ok(0)) => break,
                    Ok(Ok(_)) => indexed = true,
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "search index not brought up to date");
                        break;
                    }
                    Err(e) => return tracing::warn!(error = %e, "the search indexer failed"),
                }
            }
            // A search open in the window finds what just arrived.
            if indexed {
                notify(UiEvent::Changed);
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified() => {}
            }
        }
    });
}

/// The platform's notifier, telling the shell when a toast appeared: an agent who sees one is
/// likely to click, so the window's processes start then (docs/PERFORMANCE.md: cold open).
struct Announcing {
    inner: Arc<dyn Notifier>,
    notify: UiNotify,
}

impl Notifier for Announcing {
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        Box::pin(async move {
            let shown = self.inner.show(toast, replaces).await;
            if shown.is_ok() {
                (self.notify)(UiEvent::Toasted);
            }
            shown
        })
    }

    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        self.inner.close(handle)
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
