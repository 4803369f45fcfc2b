//! Corporate networks (issue 27): sync through a real HTTP proxy on loopback, Debian's tinyproxy,
//! which asks for a user name and password. With them in the proxy's address the list syncs and
//! streams through it (its log shows the requests); without, the app says the proxy wants them;
//! `direct` goes around it. A binary of its own: the proxy is a choice for the whole process.
// tinyproxy is Debian's: under Wine (scripts/windows.sh) there is none to start.
#![cfg(unix)]

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

const WAIT: Duration = Duration::from_secs(20);

/// tinyproxy on a free loopback port, asking for `user`/`secret`; killed when dropped.
struct Tinyproxy {
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

fn config() -> SyncConfig {
    SyncConfig {
        keepalive_timeout: Duration::from_secs(2),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        ..SyncConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_goes_through_a_proxy_that_asks_for_credentials() {
    let proxy = Tinyproxy::start().await;
    let clock = Arc::new(SystemClock);
    let server = start_server(
        SqliteDb::in_memory().unwrap(),
        server_config(),
        clock.clone(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let token = server.service.issue_token(AGENT, "desktop").await.unwrap();
    server.service.submit(mention("p1", AGENT, Utc::now())).await.unwrap();
    let start = || {
        let source = LoncengSource::new(&server.url(), &token).unwrap();
        TestClient::start(
            source,
            Store::open_in_memory().unwrap(),
            clock.clone(),
            Arc::new(TokioSleeper),
            config(),
        )
    };

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

    // `direct`: around the proxy.
    use_proxy(ProxyChoice::Direct);
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
