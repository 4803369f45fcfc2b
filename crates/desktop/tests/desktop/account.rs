//! ORG-1 on the desktop: the real runtime signs in through the real server and a test identity
//! provider (the browser is a recording opener that follows the redirects as a browser would, back
//! to the app's loopback listener), syncs with the device credentials, renews them as they run out,
//! and is signed out when the organisation revokes the device: the window and the tray say so, the
//! list stays, and signing in again works. No token is typed anywhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use lonceng_client::auth::{Credentials, SIGNED_OUT};
use lonceng_client::sync::{BoxFut, ConnState};
use lonceng_desktop::keyring::{SecretKind, Secrets, TokenStore};
use lonceng_desktop::ports::Ports;
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::settings::SettingsChanges;
use lonceng_domain::clock::{Clock, ManualClock};
use lonceng_domain::link::Opener;
use lonceng_e2e::idp::{Idp, Person, CLIENT_ID, CLIENT_SECRET};
use lonceng_e2e::{mention, poll_until, server_config};
use lonceng_server::service::signin::OidcConfig;
use lonceng_server::service::Actor;

use crate::fakes::{Away, NoToasts};

const EMAIL: &str = "sari@example.co.id";

/// The keyring, in memory.
#[derive(Default)]
struct Vault(Mutex<HashMap<&'static str, String>>);

fn key(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::SignInToken => "token",
        SecretKind::CrmClientSecret => "crm",
        SecretKind::DeviceCredentials => "credentials",
    }
}

impl Secrets for Vault {
    fn read(&self, kind: SecretKind) -> BoxFut<'_, (Option<String>, TokenStore)> {
        let v = self.0.lock().unwrap().get(key(kind)).cloned();
        Box::pin(async move {
            let store = if v.is_some() { TokenStore::Keyring } else { TokenStore::None };
            (v, store)
        })
    }
    fn write<'a>(&'a self, kind: SecretKind, value: &'a str) -> BoxFut<'a, Result<TokenStore, String>> {
        self.0.lock().unwrap().insert(key(kind), value.to_owned());
        Box::pin(async { Ok(TokenStore::Keyring) })
    }
    fn forget(&self, kind: SecretKind) -> BoxFut<'_, ()> {
        self.0.lock().unwrap().remove(key(kind));
        Box::pin(async {})
    }
}

impl Vault {
    fn credentials(&self) -> Option<Credentials> {
        self.0.lock().unwrap().get("credentials").map(|j| serde_json::from_str(j).unwrap())
    }
}

/// The system browser: follows each redirect as a browser would, and keeps the last page's text.
#[derive(Default)]
struct Browser {
    /// Off: the page is "opened" and nobody signs in (an abandoned sign-in).
    signs_in: AtomicBool,
    pages: Arc<Mutex<Vec<String>>>,
    /// Every address the browser went to (the last one carries the app's one-time code).
    visited: Arc<Mutex<Vec<String>>>,
    /// How many times the app opened it.
    opened: AtomicUsize,
}

impl Opener for Browser {
    fn open(&self, url: &str) -> Result<(), String> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        if !self.signs_in.load(Ordering::SeqCst) {
            return Ok(());
        }
        let (mut at, pages, visited) = (url.to_owned(), self.pages.clone(), self.visited.clone());
        // The opener returns at once, as the real one does; the "browser" runs meanwhile.
        tokio::spawn(async move {
            let http =
                reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            for _ in 0..6 {
                visited.lock().unwrap().push(at.clone());
                let resp = http.get(&at).send().await.unwrap();
                match resp.headers().get("location") {
                    Some(to) => at = to.to_str().unwrap().to_owned(),
                    None => {
                        let text = resp.text().await.unwrap();
                        pages.lock().unwrap().push(text);
                        return;
                    }
                }
            }
        });
        Ok(())
    }
}

/// Waits for `f` (the e2e crate's poll), failing the test after 20 s.
async fn until(what: &str, f: impl FnMut() -> bool) {
    assert!(poll_until(Duration::from_secs(20), f).await, "timed out waiting for {what}");
}

/// The organisation: a test identity provider and the real server on it; and the agent's app,
/// whose keyring and browser the test holds.
struct World {
    clock: Arc<ManualClock>,
    _idp: Idp,
    server: lonceng_server::Running<lonceng_server::sqlite::SqliteDb>,
    url: String,
    app: Arc<Desktop>,
    vault: Arc<Vault>,
    browser: Arc<Browser>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let idp = Idp::start(clock.clone(), Person::new("sub-sari", EMAIL)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = server_config();
    config.oidc = Some(OidcConfig {
        issuer: idp.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        public_url: url.clone(),
        allowed_domains: vec!["example.co.id".into()],
        required_group: None,
        admin_group: None,
        groups_claim: "groups".into(),
        extra_scopes: Vec::new(),
        clock_skew: chrono::Duration::seconds(60),
        access_lifetime: chrono::Duration::hours(1),
    });
    let db = lonceng_server::sqlite::SqliteDb::in_memory().unwrap();
    let server = lonceng_server::start(db, config, clock.clone(), listener).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let vault = Arc::new(Vault::default());
    let browser = Arc::new(Browser::default());
    let ports = Ports {
        clock: clock.clone(),
        opener: browser.clone(),
        notifier: Box::new(|_| Arc::new(NoToasts)),
        focus: Arc::new(Away),
        secrets: vault.clone(),
    };
    let options = Options {
        data_dir: dir.path().to_path_buf(),
        demo: false,
        demo_pace: Duration::from_secs(1),
        demo_events: None,
        autostart_exe: None,
        policy: Default::default(),
    };
    let app = Desktop::start_with(options, Arc::new(|_| {}), ports).await.unwrap();
    World { clock, _idp: idp, server, url, app, vault, browser, _dir: dir }
}

#[tokio::test]
async fn org_1_the_app_signs_in_in_the_browser_renews_and_is_signed_out_by_the_organisation() {
    let w = world().await;
    let (clock, server, url) = (w.clock.clone(), &w.server, w.url.clone());
    let (app, vault, browser) = (w.app.clone(), w.vault.clone(), w.browser.clone());
    app.save_settings(SettingsChanges { server_url: Some(url.clone()), ..SettingsChanges::default() })
        .await
        .unwrap();
    until("the keyring was read", || app.needs_sign_in().is_some()).await;
    assert_eq!(app.needs_sign_in(), Some(false), "the tray offers Sign in");
    match app.status().state {
        ConnState::Offline { reason, .. } => assert!(reason.contains("Sign in"), "{reason}"),
        other => panic!("{other:?}"),
    }

    // An abandoned sign-in is replaced by the next click, which completes.
    let waiting = tokio::spawn({
        let app = app.clone();
        async move { app.sign_in().await }
    });
    // The browser is opened for it, and nobody signs in there.
    until("the first sign-in waits for the browser", || browser.opened.load(Ordering::SeqCst) == 1).await;
    assert!(app.account().signing_in);
    browser.signs_in.store(true, Ordering::SeqCst);
    let account = app.sign_in().await.unwrap();
    assert_eq!(account.signed_in_as.as_deref(), Some(EMAIL));
    assert!(waiting.await.unwrap().is_err(), "the first sign-in was replaced");
    let pages = browser.pages.lock().unwrap().clone();
    assert!(pages.last().is_some_and(|p| p.contains("You can close this tab")), "{pages:?}");
    assert!(!app.account().signing_in);
    let kept = vault.credentials().expect("the keyring holds the credentials");
    assert_eq!((kept.server.as_str(), kept.user_id.as_str()), (url.as_str(), EMAIL));
    assert_eq!(app.needs_sign_in(), None, "signed in: the tray offers no sign-in");
    let view = app.settings();
    assert!(
        !serde_json::to_string(&view).unwrap().contains(&kept.access_token),
        "no token reaches the window"
    );

    // Synced with those credentials: the agent's item arrives.
    until("connected", || matches!(app.status().state, ConnState::Connected { .. })).await;
    server.service.submit(mention("m-1", EMAIL, clock.now())).await.unwrap();
    until("the item arrives", || app.counts().map(|c| c.total).unwrap_or(0) == 1).await;

    // An hour later the access token has run out: the next request renews it, silently.
    clock.advance(chrono::Duration::minutes(61));
    server.service.submit(mention("m-2", EMAIL, clock.now())).await.unwrap();
    until("the second item arrives", || app.counts().map(|c| c.total).unwrap_or(0) == 2).await;
    let first = kept.refresh_token.clone();
    let general = lonceng_client::store::Scope::new(lonceng_domain::model::Tab::General, None).unwrap();
    let id = app.page(general, false, None, 10).unwrap().items[0].id.clone();
    app.mark_read(&id).unwrap();
    until("renewed and kept", || vault.credentials().is_some_and(|c| c.refresh_token != first)).await;

    // The organisation signs the device out: the stream ends, renewing is refused, the app says so.
    let device = vault.credentials().unwrap().device_id;
    server.service.revoke_devices(&Actor::admin(None), EMAIL, Some(&device)).await.unwrap();
    until("signed out", || app.account().signed_out.is_some()).await;
    assert_eq!(app.account().signed_out.as_deref(), Some(SIGNED_OUT));
    assert!(vault.credentials().is_none(), "the keyring no longer holds them");
    assert_eq!(app.needs_sign_in(), Some(true), "the tray offers Sign in again");
    until(
        "offline, saying why",
        || matches!(app.status().state, ConnState::Offline { ref reason, .. } if reason == SIGNED_OUT),
    )
    .await;
    assert!(app.counts().unwrap().total >= 1, "the list stays readable");

    // One click signs in again.
    let again = app.sign_in().await.unwrap();
    assert_eq!(again.signed_in_as.as_deref(), Some(EMAIL));
    assert_eq!(app.account().signed_out, None);
    until("connected again", || matches!(app.status().state, ConnState::Connected { .. })).await;

    // Signing out on the device: the server forgets it too.
    let creds = vault.credentials().unwrap();
    app.sign_out().await.unwrap();
    assert!(vault.credentials().is_none());
    let me = reqwest::Client::new()
        .get(format!("{url}/v1/me"))
        .bearer_auth(&creds.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn org_1_a_sign_in_link_is_asked_about_and_never_followed_silently() {
    let w = world().await;
    assert!(
        w.app.offer_sign_in_link("lonceng://sign-in?server=http://evil.example").is_err(),
        "http elsewhere"
    );
    assert_eq!(w.app.account().offered_server, None);
    let link = format!("lonceng://sign-in?server={}", w.url);
    w.app.offer_sign_in_link(&link).unwrap();
    assert_eq!(w.app.account().offered_server.as_deref(), Some(w.url.as_str()));
    assert_eq!(w.app.settings().settings.server_url, "", "nothing changes before the agent answers");
    assert!(w.browser.pages.lock().unwrap().is_empty(), "no browser opened");
    // "Not now": forgotten, nothing changed.
    w.app.answer_sign_in_link(false).await.unwrap();
    assert_eq!(w.app.account().offered_server, None);
    assert_eq!(w.app.settings().settings.server_url, "");
    // Yes: the app points at the server and signs in there.
    w.app.offer_sign_in_link(&link).unwrap();
    w.browser.signs_in.store(true, Ordering::SeqCst);
    let account = w.app.answer_sign_in_link(true).await.unwrap();
    assert_eq!(account.signed_in_as.as_deref(), Some(EMAIL));
    assert_eq!(w.app.settings().settings.server_url, w.url);
    assert_eq!(w.vault.credentials().unwrap().server, w.url);
    w.app.stop().await;
}

#[tokio::test]
async fn org_1_a_server_without_an_identity_provider_is_said_at_once_not_in_a_browser() {
    let w = world().await;
    // Another server of the organisation's, with no identity provider set up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let db = lonceng_server::sqlite::SqliteDb::in_memory().unwrap();
    let plain = lonceng_server::start(db, server_config(), w.clock.clone(), listener).await.unwrap();
    w.app
        .save_settings(SettingsChanges { server_url: Some(plain.url()), ..SettingsChanges::default() })
        .await
        .unwrap();
    w.browser.signs_in.store(true, Ordering::SeqCst);
    let refused = w.app.sign_in().await.unwrap_err().to_string();
    assert!(refused.contains("Advanced"), "{refused}");
    assert!(w.browser.pages.lock().unwrap().is_empty(), "no browser tab to wait on");
    assert!(!w.app.account().signing_in);
    w.app.stop().await;
    plain.stop().await;
}

/// The whole flow again (sign in, sync, renew) in a child of this test binary whose one subscriber
/// writes every line at TRACE, the app's and the in-process server's, to a file: the one-time code,
/// the access and refresh tokens (old and renewed) are nowhere in it. (A child, because a log
/// subscriber cannot tell this test's lines from the other tests' in one process.)
#[cfg(unix)]
#[tokio::test]
async fn org_1_no_code_or_token_reaches_the_logs_of_the_app_or_the_server_even_at_trace() {
    const NAME: &str =
        "account::org_1_no_code_or_token_reaches_the_logs_of_the_app_or_the_server_even_at_trace";
    if let Some(log) = std::env::var_os("LONCENG_TRACE_LOG") {
        return traced_flow(std::path::PathBuf::from(log)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trace.log");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env("LONCENG_TRACE_LOG", &log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the traced flow failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("test result: ok. 1 passed;"),
        "the child did not run exactly this test: {stdout}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("TRACE") && text.contains("/v1/auth/token"), "the flow was logged at TRACE");
    let secrets: Vec<(String, String)> =
        serde_json::from_str(&std::fs::read_to_string(log.with_extension("secrets")).unwrap()).unwrap();
    assert_eq!(secrets.len(), 5);
    for (what, secret) in secrets {
        assert!(!text.contains(&secret), "{what} is in the log");
    }
}

/// The child's side: everything at TRACE to `log`, the secrets it met beside it.
#[cfg(unix)]
async fn traced_flow(log: std::path::PathBuf) {
    let file = std::fs::File::create(&log).unwrap();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .init();
    let w = world().await;
    w.app
        .save_settings(SettingsChanges { server_url: Some(w.url.clone()), ..SettingsChanges::default() })
        .await
        .unwrap();
    until("the keyring was read", || w.app.needs_sign_in().is_some()).await;
    w.browser.signs_in.store(true, Ordering::SeqCst);
    w.app.sign_in().await.unwrap();
    let first = w.vault.credentials().unwrap();
    until("connected", || matches!(w.app.status().state, ConnState::Connected { .. })).await;
    w.server.service.submit(mention("m-1", EMAIL, w.clock.now())).await.unwrap();
    until("the item arrives", || w.app.counts().map(|c| c.total).unwrap_or(0) == 1).await;
    w.clock.advance(chrono::Duration::minutes(61));
    let general = lonceng_client::store::Scope::new(lonceng_domain::model::Tab::General, None).unwrap();
    let id = w.app.page(general, false, None, 10).unwrap().items[0].id.clone();
    w.app.mark_read(&id).unwrap();
    until("renewed", || w.vault.credentials().is_some_and(|c| c.refresh_token != first.refresh_token)).await;
    let renewed = w.vault.credentials().unwrap();
    let back = w.browser.visited.lock().unwrap().last().cloned().unwrap();
    let code =
        url::Url::parse(&back).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let secrets = [
        ("the one-time code", code),
        ("the access token", first.access_token),
        ("the refresh token", first.refresh_token),
        ("the renewed access token", renewed.access_token),
        ("the renewed refresh token", renewed.refresh_token),
    ];
    std::fs::write(log.with_extension("secrets"), serde_json::to_string(&secrets).unwrap()).unwrap();
    w.app.stop().await;
}
