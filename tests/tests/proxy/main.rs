//! Corporate networks (issue 27), through real proxies on loopback:
//! - Debian's tinyproxy, asking for a user name and password: with them in the proxy's address
//!   (Settings, or GNOME's proxy settings read through a real `gsettings`) the list syncs and
//!   streams through it (its log shows the requests); without, the app says the proxy wants
//!   them; `direct` goes around it.
//! - squid intercepting TLS (ssl-bump) with a test root: refused, and said so, while the root is
//!   not in the trust store; trusted once the store (`SSL_CERT_FILE`) holds it, with the proxy
//!   named by the environment (`HTTPS_PROXY`), as `doctor` then says.
//!
//! A binary of its own, its tests one at a time: the proxy and the environment are the whole
//! process's.
// tinyproxy and squid are Debian's: under Wine (scripts/windows.sh) there is none to start.
#![cfg(unix)]

mod tls;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lonceng_client::store::Store;
use lonceng_client::sync::lonceng::LoncengSource;
use lonceng_client::sync::{ConnState, SyncConfig};
use lonceng_domain::clock::{SystemClock, TokioSleeper};
use lonceng_domain::net::{use_proxy, ProxyChoice};
use lonceng_e2e::{mention, poll_until, server_config, start_server, TestClient, AGENT};
use lonceng_server::sqlite::SqliteDb;
use lonceng_server::Running;

const WAIT: Duration = Duration::from_secs(20);

/// One test at a time (the proxy and the environment are global), whatever an earlier one left.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let guard = SERIAL.lock().await;
    for var in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        std::env::remove_var(var);
    }
    lonceng_domain::net::use_os_proxy(None);
    use_proxy(ProxyChoice::System);
    guard
}

/// tinyproxy on a free loopback port, asking for `user`/`secret`; killed when dropped.
pub(crate) struct Tinyproxy {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    async fn start() -> Tinyproxy {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.path().join("tinyproxy.log");
        let conf = dir.path().join("tinyproxy.conf");
        let text = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Connect\nMaxClients 20\n\
             Allow 127.0.0.1\nBasicAuth user secret\n",
            log.display()
        );
        std::fs::write(&conf, text).unwrap();
        let child = Command::new("tinyproxy")
            .args(["-d", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy (Debian's package; scripts/test.sh installs it)");
        let up = poll_until(WAIT, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()).await;
        assert!(up, "tinyproxy listens");
        Tinyproxy { child, port, log, _dir: dir }
    }

    /// The requests it forwarded, from its log.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Request (file descriptor"))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn config() -> SyncConfig {
    SyncConfig {
        keepalive_timeout: Duration::from_secs(2),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        ..SyncConfig::default()
    }
}

/// The Lonceng server (plain HTTP on loopback) with one item for the agent, and the agent's token.
pub(crate) async fn serve(key: &str) -> (Running<SqliteDb>, String) {
    let server = start_server(
        SqliteDb::in_memory().unwrap(),
        server_config(),
        Arc::new(SystemClock),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    server.service.submit(mention(key, AGENT, Utc::now())).await.unwrap();
    (server, token)
}

/// The sync of `url` into a fresh local copy, through whatever proxy is chosen now.
pub(crate) fn client(url: &str, token: &str) -> TestClient {
    TestClient::start(
        LoncengSource::new(url, token).unwrap(),
        Store::open_in_memory().unwrap(),
        Arc::new(SystemClock),
        Arc::new(TokioSleeper),
        config(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_goes_through_a_proxy_that_asks_for_credentials() {
    let _serial = serial().await;
    let proxy = Tinyproxy::start().await;
    let (server, token) = serve("p1").await;
    let start = || client(&server.url(), &token);

    // Without the credentials: refused by the proxy, and said so.
    use_proxy(ProxyChoice::from_setting(&format!("http://127.0.0.1:{}", proxy.port)).unwrap());
    let mut c = start();
    c.until(WAIT, "the proxy's refusal said", |c| {
        c.states.lock().unwrap().iter().any(|s| {
            matches!(s, ConnState::Offline { reason, .. } if reason.contains("the proxy asks for a user name and password"))
        })
    })
    .await;
    assert_eq!(c.len(), 0);
    c.stop().await;

    // With them: the list syncs, and streams, through the proxy.
    use_proxy(ProxyChoice::from_setting(&format!("http://user:secret@127.0.0.1:{}", proxy.port)).unwrap());
    let mut c = start();
    c.until(WAIT, "synced through the proxy", |c| c.len() == 1).await;
    server.service.submit(mention("p2", AGENT, Utc::now())).await.unwrap();
    c.until(WAIT, "the stream through the proxy", |c| c.len() == 2).await;
    let through = proxy.requests();
    assert!(through.iter().any(|r| r.contains("/v1/changes")), "{through:#?}");
    assert!(through.iter().any(|r| r.contains("/v1/stream")), "{through:#?}");
    assert!(
        !std::fs::read_to_string(&proxy.log).unwrap_or_default().contains(&token),
        "no token in the proxy's log"
    );
    c.stop().await;

    // The updater's client takes the same way.
    use lonceng_domain::net::{route, Route};
    assert_eq!(route(&server.url()), Route::Via(format!("http://user:secret@127.0.0.1:{}", proxy.port)));

    // `direct`: around the proxy.
    use_proxy(ProxyChoice::Direct);
    assert_eq!(route(&server.url()), Route::Direct);
    let before = proxy.requests().len();
    let mut c = start();
    c.until(WAIT, "synced directly", |c| c.len() == 2).await;
    assert_eq!(proxy.requests().len(), before, "nothing through the proxy");
    c.stop().await;
    assert_eq!(
        ProxyChoice::from_setting("http://user:secret@proxy.example:3128").unwrap().describe(),
        "http://proxy.example:3128/"
    );
    assert!(ProxyChoice::from_setting("ftp://proxy").is_err());
    server.stop().await;
}

/// GNOME's proxy settings, set with a real `gsettings` (in a keyfile of the test's own), carry
/// the app through tinyproxy, credentials included, when the environment names no proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gnome_proxy_settings_carry_the_sync_when_the_environment_names_none() {
    use lonceng_desktop::platform::gsettings::Gsettings;
    use lonceng_domain::net::{proxy_for, use_os_proxy, OsProxy};
    let _serial = serial().await;
    let proxy = Tinyproxy::start().await;
    let config_home = tempfile::tempdir().unwrap();
    let gsettings = Gsettings {
        env: vec![
            ("GSETTINGS_BACKEND".into(), "keyfile".into()),
            ("XDG_CONFIG_HOME".into(), config_home.path().display().to_string()),
        ],
    };
    let set = |schema: &str, key: &str, value: &str| {
        let status = Command::new("gsettings")
            .envs(gsettings.env.iter().map(|(k, v)| (k, v)))
            .args(["set", schema, key, value])
            .status()
            .expect("gsettings (libglib2.0-bin)");
        assert!(status.success(), "gsettings set {schema} {key} {value}");
    };
    assert_eq!(gsettings.proxy(), None, "GNOME's default: no proxy");
    set("org.gnome.system.proxy", "mode", "manual");
    set("org.gnome.system.proxy", "ignore-hosts", "['localhost', '*.corp.example']");
    set("org.gnome.system.proxy.http", "host", "127.0.0.1");
    set("org.gnome.system.proxy.http", "port", &proxy.port.to_string());
    set("org.gnome.system.proxy.http", "use-authentication", "true");
    set("org.gnome.system.proxy.http", "authentication-user", "user");
    set("org.gnome.system.proxy.http", "authentication-password", "secret");
    let read = gsettings.proxy();
    let Some(OsProxy::Manual { no_proxy, .. }) = &read else { panic!("GNOME's manual proxy: {read:?}") };
    assert_eq!(no_proxy, "localhost,.corp.example");
    use_os_proxy(read);

    let (server, token) = serve("g1").await;
    assert_eq!(
        proxy_for(&server.url()),
        Ok(format!("http://127.0.0.1:{}/ (GNOME's proxy settings)", proxy.port))
    );
    assert_eq!(
        lonceng_domain::net::route(&server.url()),
        lonceng_domain::net::Route::Via(format!("http://user:secret@127.0.0.1:{}/", proxy.port)),
        "the updater's way too"
    );
    let mut c = client(&server.url(), &token);
    c.until(WAIT, "synced through GNOME's proxy", |c| c.len() == 1).await;
    assert!(proxy.requests().iter().any(|r| r.contains("/v1/changes")), "{:#?}", proxy.requests());
    c.stop().await;
    server.stop().await;
}
