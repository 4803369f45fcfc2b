//! The composition root: builds the app's parts once and connects them. The store, the toast
//! center and the one path for actions are made here; the sync source is chosen here (today the
//! Lonceng server, the organisation's bridge; the embedded one in demo mode); and one event channel
//! carries what sync and the agent's own actions report to the toast center, the window and the
//! tray. The Tauri shell's commands are one call each into [`Desktop`], so all of it runs (and is
//! tested) headless.
//!
//! Rooms: this file wires the parts together; [`source`] chooses and runs the sync source,
//! [`list`] is what the window reads and what the agent does, [`settings`] the agent's settings,
//! [`timers`] what runs by the clock.

mod account;
mod list;
mod mutes;
mod settings;
mod source;
mod timers;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use lonceng_client::store::Store;
use lonceng_client::sync::BoxFut;
use lonceng_client::sync::{SharedStore, SyncEvent};
use lonceng_client::toast::{MuteUntil, Notifier, NotifyError, Toast, ToastAction, ToastCenter};
use lonceng_domain::clock::Clock;
use lonceng_domain::i18n::Catalog;
use lonceng_domain::link::{Links, UrlPolicy};
use lonceng_domain::model::Kind;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use crate::actions::{Actions, UiNotify};
use crate::error::AppError;
use crate::focus::ChatFocus;
use crate::keyring::Secrets;
use crate::policy::Loaded;
use crate::ports::Ports;
use crate::settings::DesktopSettings;
use crate::views::{UiEvent, UpdateOffer};

pub use account::{server_of_link, LINK_PREFIX};
pub use settings::tomorrow_morning;
use source::{Connected, Held};
use timers::spawn_indexer;

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
    /// IT's policy, above the agent's settings (ORG-3): `crate::platform::policy()` in the app.
    pub policy: Loaded,
}

pub struct Desktop {
    /// Itself, for what outlives a call (the sign-in's renewals sign the app out from sync's task).
    me: Weak<Desktop>,
    store: SharedStore,
    /// The running engine: started at once in demo mode, after the keyring is read otherwise, and
    /// again whenever the source changes.
    sync: Arc<Mutex<Option<Connected>>>,
    actions: Arc<Actions>,
    toasts: Arc<ToastCenter>,
    links: Arc<Links>,
    /// The browser, for the sign-in page (notification links go through `links`' policy).
    opener: Arc<dyn lonceng_domain::link::Opener>,
    /// The sign-in waiting for the browser, if any (a newer one replaces it), by its number.
    signing_in: Mutex<Option<(u64, CancellationToken)>>,
    sign_ins: AtomicU64,
    /// A server a clicked sign-in link names, until the agent answers.
    offered: Mutex<Option<String>>,
    focus: Arc<dyn ChatFocus>,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    /// The agent's own settings, as saved; what is in force is these under [`Desktop::policy`].
    settings: Mutex<DesktopSettings>,
    policy: Loaded,
    settings_path: PathBuf,
    secrets: Arc<dyn Secrets>,
    held: Mutex<Held>,
    demo: bool,
    autostart_exe: Option<PathBuf>,
    /// The embedded server's address and token in the demo (Diagnose tries them).
    demo_endpoint: Option<(String, String)>,
    /// A signed update on offer (the Tauri shell checks; the agent consents).
    update: Mutex<Option<UpdateOffer>>,
    /// Why the keyboard shortcut does not work, as the shell found when it registered it.
    shortcut_problem: Mutex<Option<crate::settings::ShortcutProblem>>,
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
        let own = DesktopSettings::load(&settings_path);
        for problem in &opts.policy.problems {
            tracing::warn!(problem, source = ?opts.policy.source, "a policy key was ignored");
        }
        let settings = opts.policy.over(own.clone());
        // The way out before anything goes out (the first update check, a sign-in, the sync).
        let network = settings.clone();
        let _ = tokio::task::spawn_blocking(move || network.use_network()).await;
        let db = if opts.demo { opts.data_dir.join("demo.db") } else { opts.data_dir.join("lonceng.db") };
        if opts.demo {
            // The demo server starts empty each time: so does the demo's local copy.
            let _ = std::fs::remove_file(&db);
        }
        let catalog = Arc::new(Catalog::builtin().map_err(|e| AppError::Store(e.to_string()))?);
        let mut opened = Store::open(&db)?;
        // Search finds items by their text in both languages, indexed in the background.
        opened.set_indexer(lonceng_client::store::rendered(catalog.clone()));
        let store: SharedStore = Arc::new(Mutex::new(opened));
        let shutdown = CancellationToken::new();
        let sync: Arc<Mutex<Option<Connected>>> = Arc::new(Mutex::new(None));
        let (events, events_rx) = mpsc::unbounded_channel();
        let (activations_tx, activations) = mpsc::unbounded_channel();

        let opener = ports.opener;
        let links = Arc::new(Links::new(UrlPolicy::default(), opener.clone()));
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
        // The app itself, once made: a toast's "Mute" and a resolved conversation change settings.
        let me: Arc<std::sync::OnceLock<Weak<Desktop>>> = Arc::default();
        let (me_toast, me_events) = (me.clone(), me.clone());
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
                    if activated.action == ToastAction::Mute {
                        let app = me_toast.get().and_then(Weak::upgrade);
                        if let (Some(app), Some((id, label))) = (app, activated.conversation) {
                            tokio::spawn(async move {
                                if let Err(e) = app
                                    .mute_conversation(&id, &label, &activated.url, MuteUntil::Resolved)
                                    .await
                                {
                                    tracing::warn!(error = %e, "the conversation was not muted");
                                }
                            });
                        }
                        return;
                    }
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
        tokio::spawn(lonceng_client::toast::drive(
            toasts.clone(),
            events_rx,
            activations,
            move |e| {
                if matches!(e, SyncEvent::StoreChanged) {
                    changed(UiEvent::Changed);
                    index.notify_one();
                }
                if let SyncEvent::Arrived { notification: n, .. } = e {
                    if n.kind == Kind::ConversationResolved {
                        if let Some(app) = me_events.get().and_then(Weak::upgrade) {
                            let url = n.url.clone();
                            tokio::spawn(async move { app.conversation_resolved(&url).await });
                        }
                    }
                }
            },
            // Quiet hours or a pause began or ended by the clock: the tray and "Resume" change.
            {
                let notify = notify.clone();
                move |_| notify(UiEvent::Settings)
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

        let app = Arc::new_cyclic(|weak| {
            let _ = me.set(weak.clone());
            Desktop {
                me: weak.clone(),
                store,
                sync,
                actions,
                toasts,
                links,
                opener,
                signing_in: Mutex::new(None),
                sign_ins: AtomicU64::new(0),
                offered: Mutex::new(None),
                focus,
                clock,
                catalog,
                settings: Mutex::new(own),
                policy: opts.policy,
                settings_path,
                secrets: ports.secrets,
                held: Mutex::new(Held::default()),
                demo: opts.demo,
                autostart_exe: opts.autostart_exe.filter(|_| !opts.demo),
                demo_endpoint: demo_endpoint.clone(),
                update: Mutex::new(None),
                shortcut_problem: Mutex::new(None),
                events,
                notify,
                shutdown,
                #[cfg(feature = "demo")]
                server: tokio::sync::Mutex::new(server),
            }
        });
        // An installed app's first run turns start at login on (the default); later runs keep
        // the entry in step with the agent's choice and this binary's path.
        app.apply_autostart();
        app.clone().connect_in_background(demo_endpoint);
        app.spawn_snooze_timer();
        crate::housekeeping::spawn(
            app.store.clone(),
            app.clock.clone(),
            app.notify.clone(),
            app.shutdown.clone(),
        );
        Ok(app)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The settings in force: the agent's, with IT's policy on top (ORG-3).
    fn settings_snapshot(&self) -> DesktopSettings {
        self.policy.over(self.settings.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    pub async fn stop(&self) {
        self.shutdown.cancel();
        #[cfg(feature = "demo")]
        if let Some(server) = self.server.lock().await.take() {
            server.stop().await;
        }
    }
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
