//! Where the list comes from: the secrets read at start, the source the settings choose (the
//! organisation's Lonceng server or the Qontak CRM API directly; the embedded server in the demo),
//! the engine running with it, and the status the window and the tray show when none runs.

use std::sync::Arc;
use std::time::Duration;

use lonceng_client::auth::{Bearer, Fixed};
use lonceng_client::sync::crm_source::CrmSource;
use lonceng_client::sync::lonceng::LoncengSource;
use lonceng_client::sync::{ConnState, Source, SyncConfig, SyncEngine, SyncEvent, SyncHandle, SyncStatus};
use lonceng_domain::clock::TokioSleeper;
use lonceng_domain::crm::Credentials;
use lonceng_domain::link::UrlPolicy;
use tokio_util::sync::CancellationToken;

use crate::keyring::{SecretKind, TokenStore};
use crate::settings::SourceKind;
use crate::views::UiEvent;
use lonceng_client::auth::SIGNED_OUT;

use super::Desktop;

/// How often the direct CRM mode polls: the CRM has no stream, and its gateway is shared by the
/// whole company.
const CRM_POLL: Duration = Duration::from_secs(60);

/// The sync engine while it runs, and how to stop it (a change of source starts another).
pub(super) struct Connected {
    pub(super) handle: SyncHandle,
    stop: CancellationToken,
    /// The engine's task: a change of source waits for it to end, so that nothing it was still
    /// writing lands in the list of the next source.
    task: tokio::task::JoinHandle<()>,
}

/// The secrets as read from the keyring at start and kept since (the engine needs them again
/// when the source changes).
#[derive(Default)]
pub(super) struct Held {
    /// The device credentials of a sign-in (ORG-1), and why the organisation signed the app out.
    pub(super) credentials: Option<lonceng_client::auth::Credentials>,
    pub(super) signed_out: Option<String>,
    pub(super) token: Option<String>,
    pub(super) token_store: Option<TokenStore>,
    pub(super) crm_secret: Option<String>,
    pub(super) crm_store: Option<TokenStore>,
}

impl Desktop {
    /// Connects: at once in demo mode; otherwise once the secrets are read, in the background,
    /// because the first use of a keyring can take seconds and the tray must not wait for it.
    pub(super) fn connect_in_background(self: Arc<Self>, demo: Option<(String, String)>) {
        tokio::spawn(async move {
            if let Some((url, token)) = demo {
                match LoncengSource::new(&url, &token) {
                    Ok(source) => self.run_sync("demo", source),
                    Err(e) => tracing::error!(error = %e, "cannot sync with the demo server"),
                }
                return;
            }
            let (creds, _) = self.secrets.read(SecretKind::DeviceCredentials).await;
            let creds = creds.and_then(|json| match serde_json::from_str(&json) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "the kept sign-in cannot be read: sign in again");
                    None
                }
            });
            let (token, token_store) = self.secrets.read(SecretKind::SignInToken).await;
            let (crm_secret, crm_store) = self.secrets.read(SecretKind::CrmClientSecret).await;
            {
                // A secret the agent saved while these were read is newer: it stays.
                let mut held = self.held();
                if held.token_store.is_none() {
                    (held.token, held.token_store) = (token, Some(token_store));
                }
                if held.credentials.is_none() {
                    held.credentials = creds;
                }
                if held.crm_store.is_none() {
                    (held.crm_secret, held.crm_store) = (crm_secret, Some(crm_store));
                }
            }
            (self.notify)(UiEvent::Settings);
            self.reconnect().await;
        });
    }

    /// (Re)starts sync with the source the settings choose, stopping the one before. The source is
    /// chosen here: the organisation's Lonceng server, or the Qontak CRM API directly.
    pub(super) async fn reconnect(&self) {
        let old = self.sync.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(old) = old {
            old.stop.cancel();
            if let Err(e) = old.task.await {
                tracing::warn!(error = %e, "the previous sync engine ended badly");
            }
        }
        let settings = self.settings_snapshot();
        let (token, crm_secret, creds) = {
            let held = self.held();
            (held.token.clone(), held.crm_secret.clone(), held.credentials.clone())
        };
        match settings.source {
            SourceKind::Server => {
                let url = settings.server_url.trim();
                if url.is_empty() {
                    return;
                }
                // A sign-in to this server first; else an admin's token (Advanced).
                let bearer: Arc<dyn Bearer> = match (creds.filter(|c| c.server == url), token) {
                    (Some(c), _) => match self.renewing(c) {
                        Some(r) => r,
                        None => return,
                    },
                    (None, Some(token)) => Arc::new(Fixed(token)),
                    (None, None) => return,
                };
                match LoncengSource::with_bearer(url, bearer) {
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
    pub(super) fn run_sync<S: Source>(&self, identity: &str, source: S) {
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

    /// MW-2: "Try now" (the tray, while offline): the engine's wait ends and it connects at once.
    pub fn retry_now(&self) {
        if let Some(c) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            c.handle.retry_now();
        }
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
            SourceKind::Server if held.signed_out.is_some() => Some(SIGNED_OUT),
            SourceKind::Server if settings.server_url.is_empty() => {
                Some("Set your organisation's server address in Settings, then sign in.")
            }
            SourceKind::Server if read && held.token.is_none() && held.credentials.is_none() => {
                Some("Sign in to your organisation to see your notifications.")
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
}
