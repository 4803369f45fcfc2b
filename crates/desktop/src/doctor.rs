//! `lonceng doctor` and Settings → Diagnose: the facts of this computer and of the server, gathered
//! here and judged in `lonceng_client::doctor`. Each probe has a short timeout and never fails the
//! report: what cannot be asked is itself a finding.
//!
//! The command runs without the tray app (no display needed, so it also answers over SSH or in a
//! terminal without a desktop); the window's Diagnose runs the same probes from the running app.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_client::doctor::{self, Autostart, Facts, Network, PolicyFacts, Report, Server, Stream, Token};
use lonceng_client::store::Store;
use lonceng_domain::i18n::{Catalog, Lang};

use crate::policy::Loaded;
use crate::settings::{DesktopSettings, SourceKind};

/// How long one network or D-Bus probe may take.
const PROBE: Duration = Duration::from_secs(4);

/// What the probes need to know of the app.
pub struct Context {
    pub settings: DesktopSettings,
    /// The server to try: the embedded one in the demo, else the settings' address.
    pub server: Option<String>,
    /// The sign-in token: the demo agent's, or the stored one.
    pub token: Option<String>,
    pub demo: bool,
    pub crm_secret_stored: bool,
    pub exe: PathBuf,
    pub autostart_managed: bool,
    pub quarantined: Option<u64>,
    /// IT's policy, as read at start (ORG-3).
    pub policy: Loaded,
}

/// The app's data directory where Tauri puts it (`<data dir>/id.lonceng.desktop`), for the command
/// that runs without Tauri.
pub fn default_data_dir() -> Option<PathBuf> {
    Some(crate::platform::data_home()?.join("id.lonceng.desktop"))
}

/// The local copy's quarantine count, when it can be read (a copy not made yet holds nothing).
pub fn quarantined_in(db: &Path) -> Option<u64> {
    if !db.exists() {
        return Some(0);
    }
    Store::open(db).ok()?.quarantine_count().ok()
}

/// `lonceng doctor`: the report for the data directory given (or the default), in the settings'
/// language (or `lang`).
pub async fn run_command(data_dir: Option<PathBuf>, lang: Option<Lang>) -> (String, i32) {
    let data_dir = data_dir.or_else(default_data_dir).unwrap_or_else(|| PathBuf::from("."));
    let policy = crate::platform::policy();
    let settings = policy.over(DesktopSettings::load(&data_dir.join("settings.json")));
    settings.use_network();
    let vault = crate::keyring::TokenVault::new(data_dir.clone());
    use crate::keyring::{SecretKind, Secrets, TokenStore};
    // A sign-in's access token while it lasts (never renewed here: a renewal rotates the refresh
    // token under the running app's feet), else an admin's token.
    let (creds, _) = vault.read(SecretKind::DeviceCredentials).await;
    let signed_in = creds
        .and_then(|j| serde_json::from_str::<lonceng_client::auth::Credentials>(&j).ok())
        .filter(|c| c.server == settings.server_url.trim() && c.expires_at > chrono::Utc::now())
        .map(|c| c.access_token);
    let (token, _) = vault.read(SecretKind::SignInToken).await;
    let token = signed_in.or(token);
    let (_, crm_store) = vault.read(SecretKind::CrmClientSecret).await;
    let exe = std::env::current_exe().unwrap_or_default();
    let context = Context {
        server: Some(settings.server_url.trim().to_owned()).filter(|u| !u.is_empty()),
        token,
        demo: false,
        crm_secret_stored: crm_store != TokenStore::None,
        autostart_managed: crate::autostart::managed(&exe, false),
        exe,
        quarantined: quarantined_in(&data_dir.join("lonceng.db")),
        settings,
        policy,
    };
    let lang = lang.unwrap_or(context.settings.lang);
    let catalog = match Catalog::builtin() {
        Ok(c) => c,
        Err(e) => return (format!("lonceng doctor: the messages cannot be read: {e}\n"), 2),
    };
    let report = report(&context, &catalog, lang).await;
    (report.text(&catalog, lang), report.exit_code())
}

/// `lonceng doctor --bundle`: the report as `run_command` gives it, and the zip for IT beside it
/// (`out`, or a new file here); the exit code is the report's, or 2 when the zip cannot be written.
pub async fn bundle_command(data_dir: Option<PathBuf>, lang: Option<Lang>, out: PathBuf) -> (String, i32) {
    use crate::keyring::{SecretKind, Secrets};
    let data_dir = data_dir.or_else(default_data_dir).unwrap_or_else(|| PathBuf::from("."));
    let (text, code) = run_command(Some(data_dir.clone()), lang).await;
    let vault = crate::keyring::TokenVault::new(data_dir.clone());
    let mut known = Vec::new();
    for kind in [SecretKind::SignInToken, SecretKind::CrmClientSecret] {
        known.extend(vault.read(kind).await.0);
    }
    if let (Some(json), _) = vault.read(SecretKind::DeviceCredentials).await {
        known.extend(crate::report::credential_secrets(&json));
    }
    let db = data_dir.join("lonceng.db");
    let private = match db.exists().then(|| Store::open(&db)).transpose() {
        Ok(store) => crate::report::private_words(
            store.as_ref(),
            &DesktopSettings::load(&data_dir.join("settings.json")),
        ),
        Err(e) => Err(e.into()),
    };
    match private {
        Ok(words) => known.extend(words),
        Err(e) => return (format!("{text}\nlonceng doctor: no report for IT: {e}\n"), 2),
    }
    let settings = std::fs::read_to_string(data_dir.join("settings.json")).unwrap_or_default();
    let out = if out.as_os_str().is_empty() {
        PathBuf::from(crate::report::file_name(chrono::Local::now()))
    } else {
        out
    };
    let redactor = crate::report::Redactor::new(known);
    match crate::report::write(&out, &text, &settings, &crate::logs::dir(&data_dir), &redactor) {
        Ok(path) => (
            format!(
                "{text}\nThe report for IT: {} (tokens, secrets, names and text redacted)\n",
                path.display()
            ),
            code,
        ),
        Err(e) => (format!("{text}\nlonceng doctor: {e}\n"), 2),
    }
}

/// Gathers the facts and renders the report.
pub async fn report(context: &Context, catalog: &Catalog, lang: Lang) -> Report {
    let facts = gather(context).await;
    Report::render(&doctor::diagnose(&facts), catalog, lang)
}

/// Every fact the checks look at.
pub async fn gather(c: &Context) -> Facts {
    let (notifications, tray, display, screen_lock, keyring) = crate::platform::probe(PROBE).await;
    let entry = crate::autostart::current();
    let autostart = Autostart {
        managed: c.autostart_managed,
        wanted: c.settings.autostart,
        starts_this: entry.as_deref().is_some_and(|e| crate::autostart::starts(e, &c.exe)),
        entry,
    };
    let (server, token, stream, clock_skew) = remote(c).await;
    let target = match c.settings.source {
        SourceKind::Crm if !c.demo => c.settings.crm_base_url.clone(),
        _ => c.server.clone().unwrap_or_default(),
    };
    let network =
        Network { proxy: lonceng_domain::net::proxy_for(&target), trust: lonceng_domain::net::trust_store() };
    Facts {
        notifications,
        tray,
        display,
        screen_lock,
        keyring,
        autostart,
        network,
        server,
        token,
        stream,
        clock_skew,
        quarantined: c.quarantined,
        policy: PolicyFacts {
            source: c.policy.source.clone(),
            fixed: c.policy.fixed(),
            problems: c.policy.problems.clone(),
        },
    }
}

/// The server (or the CRM), the token, the stream and the clock.
async fn remote(c: &Context) -> (Server, Token, Stream, Option<i64>) {
    let http = match lonceng_domain::net::builder().timeout(PROBE).connect_timeout(PROBE).build() {
        Ok(h) => h,
        Err(e) => {
            let server = Server::Lonceng { url: String::new(), reachable: Err(e.to_string()) };
            return (server, Token::Unchecked, Stream::Unchecked, None);
        }
    };
    if c.settings.source == SourceKind::Crm && !c.demo {
        let url = c.settings.crm_base_url.clone();
        let (reachable, skew) = match http.get(&url).send().await {
            Ok(r) => (Ok(()), skew(r.headers())),
            Err(e) => (Err(reason(&e)), None),
        };
        let token = Token::CrmSecret { stored: c.crm_secret_stored };
        return (Server::Crm { url, reachable }, token, Stream::Polled, skew);
    }
    let token = &c.token;
    let Some(url) = &c.server else {
        let token = if token.is_some() { Token::Unchecked } else { Token::Missing };
        return (Server::NotConfigured, token, Stream::Unchecked, None);
    };
    let base = url.trim_end_matches('/');
    let health = http.get(format!("{base}/healthz")).send().await;
    let (reachable, clock) = match health {
        Ok(r) if r.status().is_success() => (Ok(()), skew(r.headers())),
        Ok(r) => (Err(format!("/healthz answered {}", r.status())), skew(r.headers())),
        Err(e) => (Err(reason(&e)), None),
    };
    let server = if c.demo {
        Server::Demo { url: url.clone() }
    } else {
        Server::Lonceng { url: url.clone(), reachable: reachable.clone() }
    };
    if reachable.is_err() {
        return (
            server,
            if token.is_some() { Token::Unchecked } else { Token::Missing },
            Stream::Unchecked,
            clock,
        );
    }
    let Some(secret) = token else { return (server, Token::Missing, Stream::Unchecked, clock) };
    let token = match http.get(format!("{base}/v1/me")).bearer_auth(secret).send().await {
        Ok(r) if r.status().is_success() => {
            let user = r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v.get("user_id").and_then(|u| u.as_str()).map(str::to_owned))
                .unwrap_or_default();
            Some(Token::Valid { user })
        }
        Ok(r) if matches!(r.status().as_u16(), 401 | 403) => Some(Token::Rejected),
        _ => None,
    };
    let stream = match &token {
        Some(Token::Valid { .. }) => stream(&http, base, secret).await,
        _ => Stream::Unchecked,
    };
    (server, token.unwrap_or(Token::Unchecked), stream, clock)
}

/// Opens the stream and lets it go once its headers have come.
async fn stream(http: &reqwest::Client, base: &str, token: &str) -> Stream {
    let request = http
        .get(format!("{base}/v1/stream"))
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .send();
    match request.await {
        // 501: the server was started with --no-streaming.
        Ok(r) if matches!(r.status().as_u16(), 404 | 501) => Stream::Off,
        Ok(r) if r.status().is_success() => {
            let event_stream = r
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("text/event-stream"));
            if event_stream {
                Stream::Open
            } else {
                Stream::Failed("the answer is not an event stream (a proxy in between?)".into())
            }
        }
        Ok(r) => Stream::Failed(format!("HTTP {}", r.status())),
        Err(e) => Stream::Failed(reason(&e)),
    }
}

/// The server's `Date` minus now, in seconds.
fn skew(headers: &reqwest::header::HeaderMap) -> Option<i64> {
    let date = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    let theirs = DateTime::parse_from_rfc2822(date).ok()?.with_timezone(&Utc);
    Some((theirs - Utc::now()).num_seconds())
}

/// A network error in a few words, with its cause (reqwest's own text hides it).
fn reason(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}
