//! ORG-1 on the desktop: signing in through the organisation's identity provider, staying signed
//! in, and being signed out. "Sign in" opens the system browser at the server's sign-in page and
//! waits on a loopback port (`lonceng_client::auth::loopback`); the device credentials it brings
//! back go to the keyring and sync starts with them, renewing them as they run out. When the
//! organisation signs the device out (or the person leaves the group that may use Lonceng), the
//! next renewal is refused: the credentials go, sync stops, the list stays readable, and the window
//! and the tray say so with "Sign in again". An admin's pasted token stays possible (Advanced).

use std::sync::Arc;

use lonceng_client::auth::loopback::{self, DeviceInfo, SignInError};
use lonceng_client::auth::{token_http, Credentials, Keep, Renewing, SIGNED_OUT};
use tokio_util::sync::CancellationToken;

use crate::error::AppError;
use crate::keyring::SecretKind;
use crate::settings::{AccountView, SignInMethod, SourceKind};
use crate::views::UiEvent;

use super::Desktop;

/// What the device tells the server about itself (the admin's list of devices).
fn this_device() -> DeviceInfo {
    let host = std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    let os = match std::env::consts::OS {
        "windows" => "Windows",
        "linux" => "Linux",
        "macos" => "macOS",
        other => other,
    };
    DeviceInfo { name: host, os: os.into(), app_version: env!("CARGO_PKG_VERSION").into() }
}

impl Desktop {
    pub fn account(&self) -> AccountView {
        // Before `held` is locked: it locks it too.
        let sign_in_offered = self.needs_sign_in().is_some();
        let held = self.held();
        let server = self.settings_snapshot().server_url;
        let creds = held.credentials.as_ref().filter(|c| c.server == server.trim());
        AccountView {
            signed_in_as: creds.map(|c| c.user_id.clone()),
            signed_out: held.signed_out.clone(),
            signing_in: self.signing_in.lock().unwrap_or_else(|p| p.into_inner()).is_some(),
            offered_server: self.offered.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            method: self.policy.policy.sign_in,
            sign_in_offered,
        }
    }

    /// Whether the tray offers "Sign in" (`Some(true)`: "Sign in again", the organisation signed
    /// the app out): a Lonceng server is set, and neither a sign-in nor an admin's token is held.
    pub fn needs_sign_in(&self) -> Option<bool> {
        let settings = self.settings_snapshot();
        let held = self.held();
        let signed_in = held.credentials.as_ref().is_some_and(|c| c.server == settings.server_url.trim());
        // Not before the keyring has been read: it may hold a sign-in.
        let wanted = !self.demo
            && self.policy.policy.sign_in != Some(SignInMethod::Token)
            && held.token_store.is_some()
            && settings.source == SourceKind::Server
            && !settings.server_url.trim().is_empty()
            && !signed_in
            && held.token.is_none();
        wanted.then_some(held.signed_out.is_some())
    }

    /// Signs in through the organisation's identity provider: opens the browser and waits for it
    /// (a few minutes at most). A second call replaces a sign-in still waiting.
    pub async fn sign_in(&self) -> Result<AccountView, AppError> {
        let settings = self.settings_snapshot();
        let server = settings.server_url.trim().to_owned();
        if self.demo {
            return Err(AppError::Invalid("the demo is signed in already".into()));
        }
        if server.is_empty() || settings.source != SourceKind::Server {
            return Err(AppError::Invalid("enter your organisation's server address first".into()));
        }
        if self.policy.policy.sign_in == Some(SignInMethod::Token) {
            return Err(AppError::Refused(
                "your organisation has this computer use a token from your admin".into(),
            ));
        }
        let cancel = CancellationToken::new();
        let id = self.sign_ins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some((_, previous)) =
            self.signing_in.lock().unwrap_or_else(|p| p.into_inner()).replace((id, cancel.clone()))
        {
            previous.cancel();
        }
        (self.notify)(UiEvent::Settings);
        let result = self.sign_in_with(&server, &cancel).await;
        {
            // Only this sign-in's own slot is cleared: a newer one may have taken it.
            let mut slot = self.signing_in.lock().unwrap_or_else(|p| p.into_inner());
            if slot.as_ref().is_some_and(|(held, _)| *held == id) {
                *slot = None;
            }
        }
        let creds = match result {
            Ok(c) => c,
            Err(e) => {
                (self.notify)(UiEvent::Settings);
                return Err(e);
            }
        };
        tracing::info!(user = %creds.user_id, device = %creds.device_id, "signed in");
        self.keep_credentials(Some(creds)).await;
        // Told once the credentials are held: the window and the tray read who is signed in.
        (self.notify)(UiEvent::Settings);
        self.reconnect().await;
        Ok(self.account())
    }

    async fn sign_in_with(&self, server: &str, cancel: &CancellationToken) -> Result<Credentials, AppError> {
        let refused = |e: SignInError| AppError::Invalid(format!("signing in: {e}"));
        // A server without an identity provider says so at once, rather than in a browser tab
        // the agent would wait on.
        let probe = format!("{}/v1/auth/sign-in", server.trim_end_matches('/'));
        let asked = token_http().get(probe).send().await;
        match asked {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_IMPLEMENTED => {
                return Err(AppError::Invalid(
                    "this server has no sign-in through your organisation: ask your admin for a token \
                     (Settings → Advanced)"
                        .into(),
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(AppError::Invalid(format!("the server cannot be reached: {e}"))),
        }
        let (url, pending) = loopback::start(server, &this_device()).await.map_err(refused)?;
        self.opener
            .open(&url)
            .map_err(|e| AppError::Invalid(format!("the browser cannot be opened: {e}")))?;
        let clock = self.clock.clone();
        tokio::select! {
            _ = cancel.cancelled() => Err(refused(SignInError::Replaced)),
            done = pending.finish(move || clock.now()) => done.map_err(refused),
        }
    }

    /// A sign-in link was clicked: the server it names waits for the agent's yes (the window shows
    /// it). A link that is not one, or names a server that is not https (but on this computer), or
    /// one IT's policy rules out, is refused.
    pub fn offer_sign_in_link(&self, link: &str) -> Result<(), AppError> {
        let server = server_of_link(link)?;
        if self.policy.locked().contains(&"server_url")
            && server != self.settings_snapshot().server_url.trim()
        {
            return Err(AppError::Invalid(
                "your organisation's policy sets the server; the link was ignored".into(),
            ));
        }
        *self.offered.lock().unwrap_or_else(|p| p.into_inner()) = Some(server);
        (self.notify)(UiEvent::Settings);
        Ok(())
    }

    /// The agent's answer to a sign-in link: yes points the app at its server and signs in there.
    pub async fn answer_sign_in_link(&self, accept: bool) -> Result<AccountView, AppError> {
        let offered = self.offered.lock().unwrap_or_else(|p| p.into_inner()).take();
        (self.notify)(UiEvent::Settings);
        let Some(server) = offered.filter(|_| accept) else { return Ok(self.account()) };
        let changes = crate::settings::SettingsChanges {
            source: Some(SourceKind::Server),
            server_url: Some(server),
            ..Default::default()
        };
        self.save_settings(changes).await?;
        self.sign_in().await
    }

    /// Signs this device out: the server forgets its credentials, and so does the keyring.
    pub async fn sign_out(&self) -> Result<(), AppError> {
        let creds = self.held().credentials.clone();
        if let Some(c) = creds {
            let url = format!("{}/v1/auth/sign-out", c.server.trim_end_matches('/'));
            // The server may be out of reach: the device forgets its credentials all the same.
            let answer = token_http().post(url).bearer_auth(&c.access_token).send().await;
            if let Err(e) = answer {
                tracing::warn!(error = %e, "the server was not told of the sign-out");
            }
        }
        self.keep_credentials(None).await;
        self.held().signed_out = None;
        self.reconnect().await;
        (self.notify)(UiEvent::Settings);
        Ok(())
    }

    /// Keeps new credentials (or forgets them) in the keyring and in memory.
    pub(super) async fn keep_credentials(&self, creds: Option<Credentials>) {
        match &creds {
            Some(c) => match serde_json::to_string(c) {
                Ok(json) => {
                    if let Err(e) = self.secrets.write(SecretKind::DeviceCredentials, &json).await {
                        tracing::error!(error = %e, "the sign-in cannot be kept: it lasts until Lonceng quits");
                    }
                }
                Err(e) => tracing::error!(error = %e, "the sign-in cannot be written"),
            },
            None => self.secrets.forget(SecretKind::DeviceCredentials).await,
        }
        let mut held = self.held();
        if creds.is_some() {
            held.signed_out = None;
        }
        held.credentials = creds;
    }

    /// The source's bearer for these credentials: renewals are kept, and a refusal signs the app
    /// out (the window and the tray say so; the list stays).
    pub(super) fn renewing(&self, creds: Credentials) -> Option<Arc<Renewing>> {
        let me = self.me.clone();
        let keep: Keep = Arc::new(move |fresh: Option<Credentials>| {
            let Some(app) = me.upgrade() else { return };
            tokio::spawn(async move {
                let signed_out = fresh.is_none();
                app.keep_credentials(fresh).await;
                if signed_out {
                    tracing::warn!("the organisation signed this device out");
                    app.held().signed_out = Some(SIGNED_OUT.into());
                    app.reconnect().await;
                    (app.notify)(UiEvent::Settings);
                    (app.notify)(UiEvent::Status);
                }
            });
        });
        match Renewing::new(creds, self.clock.clone(), keep) {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                tracing::error!(error = %e, "the sign-in cannot be used");
                None
            }
        }
    }
}

/// What a sign-in link starts with.
pub const LINK_PREFIX: &str = "lonceng://";

/// The server a sign-in link names (`lonceng://sign-in?server=https://…`): https, or http on this
/// computer only; no user name or password in it.
pub fn server_of_link(link: &str) -> Result<String, AppError> {
    let bad = |why: &str| AppError::Invalid(format!("not a Lonceng sign-in link: {why}"));
    let url = url::Url::parse(link.trim()).map_err(|_| bad("it does not parse"))?;
    if url.scheme() != "lonceng" || url.host_str() != Some("sign-in") {
        return Err(bad("it must be lonceng://sign-in?server=…"));
    }
    let server = url
        .query_pairs()
        .find(|(k, _)| k == "server")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| bad("it names no server"))?;
    let parsed = url::Url::parse(&server).map_err(|_| bad("its server is not an address"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    if !scheme_ok || parsed.host().is_none() {
        return Err(bad("its server must be an https:// address"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() || parsed.fragment().is_some() {
        return Err(bad("its server address carries more than an address"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_1_a_sign_in_link_names_an_https_server_or_one_on_this_computer() {
        assert_eq!(
            server_of_link("lonceng://sign-in?server=https://nc.example.com/").unwrap(),
            "https://nc.example.com"
        );
        assert_eq!(
            server_of_link("lonceng://sign-in?server=https%3A%2F%2Fnc.example.com%3A8443%2Flonceng").unwrap(),
            "https://nc.example.com:8443/lonceng"
        );
        assert_eq!(
            server_of_link("lonceng://sign-in?server=http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "lonceng://sign-in?server=http://nc.example.com",
            "lonceng://sign-in?server=javascript:alert(1)",
            "lonceng://sign-in?server=https://user:pw@nc.example.com",
            "lonceng://sign-in?server=file:///etc/passwd",
            "lonceng://sign-in",
            "lonceng://sign-out?server=https://nc.example.com",
            "https://sign-in?server=https://nc.example.com",
            "not a link",
        ] {
            assert!(server_of_link(bad).is_err(), "{bad}");
        }
    }
}
