//! Shared by the D-Bus suites: a private session bus per test, and a recording notification server.
#![allow(dead_code)] // each suite uses a different part of it

pub mod xvfb;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A test that runs on a private session bus: the wrapper re-runs the test binary for exactly this
/// function (its full name comes from the function and its module, so it cannot drift).
#[macro_export]
macro_rules! bus_test {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            // The name the harness knows it by: its module path without the binary's name.
            let path = concat!(module_path!(), "::", stringify!($name));
            if !$crate::common::in_private_bus(path.split_once("::").map_or(path, |(_, test)| test)) {
                return;
            }
            $body
        }
    };
}

/// True inside the private bus; outside it, runs `test` there and checks that exactly that one
/// test ran and passed (a name that matches nothing would otherwise run zero tests and pass).
pub fn in_private_bus(test: &str) -> bool {
    if std::env::var_os("LONCENG_TEST_BUS").is_some() {
        return true;
    }
    // A bus with no service directories: nothing is auto-started from the host's service files
    // (a second gnome-keyring with the real HOME, say); each test starts what it needs.
    let config = std::env::temp_dir().join(format!("lonceng-test-bus-{}-{test}.conf", std::process::id()));
    std::fs::write(
        &config,
        r#"<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
    )
    .expect("bus config written");
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("dbus-run-session")
        .arg(format!("--config-file={}", config.display()))
        .arg("--")
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("LONCENG_TEST_BUS", "1")
        .output()
        .expect("dbus-run-session runs (package dbus; scripts/test.sh installs it)");
    let _ = std::fs::remove_file(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{test} failed on its private bus");
    assert!(
        stdout.contains("test result: ok. 1 passed;"),
        "{test}: the private bus did not run exactly this one test"
    );
    false
}

#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Notify {
        app: String,
        replaces: u32,
        summary: String,
        body: String,
        actions: Vec<String>,
        urgency: Option<u8>,
        /// `Some(true)`: a sound named; `Some(false)`: sound suppressed; `None`: neither said.
        sound: Option<bool>,
    },
    Close(u32),
}

#[derive(Clone, Default)]
pub struct Recorder {
    pub calls: Arc<Mutex<Vec<Call>>>,
    next: Arc<Mutex<u32>>,
    /// The server's Do Not Disturb, as KDE Plasma's exposes it (ORG-6).
    pub inhibited: Arc<Mutex<bool>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v.clone()).ok());
        let suppressed = hints.get("suppress-sound").and_then(|v| bool::try_from(v.clone()).ok());
        let named = hints.get("sound-name").map(|_| true);
        self.calls.lock().unwrap().push(Call::Notify {
            app: app_name,
            replaces: replaces_id,
            summary,
            body,
            actions,
            urgency,
            sound: suppressed.map(|s| !s).or(named),
        });
        if replaces_id != 0 {
            return replaces_id;
        }
        let mut next = self.next.lock().unwrap();
        *next += 1;
        *next
    }

    async fn close_notification(&self, id: u32) {
        self.calls.lock().unwrap().push(Call::Close(id));
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into(), "body-markup".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("recorder".into(), "lonceng-tests".into(), "1".into(), "1.2".into())
    }

    #[zbus(property)]
    fn inhibited(&self) -> bool {
        *self.inhibited.lock().unwrap()
    }
}

pub async fn notification_server() -> (zbus::Connection, Recorder) {
    let recorder = Recorder::default();
    let conn = zbus::connection::Builder::session()
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", recorder.clone())
        .build()
        .await
        .expect("notification server on the private bus");
    (conn, recorder)
}

/// What a notification server does when the agent clicks a toast.
pub async fn click(server: &zbus::Connection, id: u32) {
    act(server, id, "default").await;
}

/// What a notification server does when the agent presses one of a toast's buttons.
pub async fn act(server: &zbus::Connection, id: u32, key: &str) {
    server
        .emit_signal(
            None::<&str>,
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "ActionInvoked",
            &(id, key),
        )
        .await
        .expect("signal");
}

pub async fn eventually(what: &str, f: impl Fn() -> bool) {
    eventually_within(what, Duration::from_secs(5), f).await
}

pub async fn eventually_within(what: &str, limit: Duration, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for an async condition (a server query, say).
pub async fn eventually_async<F, Fut>(what: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out: {what}");
}

/// Asserts that `f` holds throughout `period` (nothing more happens), checking as it goes.
pub async fn quiet_for(what: &str, period: Duration, f: impl Fn() -> bool) {
    let end = tokio::time::Instant::now() + period;
    while tokio::time::Instant::now() < end {
        assert!(f(), "{what}: something happened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(f(), "{what}: something happened");
}

/// The browser, recorded instead of started.
#[derive(Default)]
pub struct RecordingOpener(pub Mutex<Vec<String>>);

impl lonceng_domain::link::Opener for RecordingOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.into());
        Ok(())
    }
}

/// The real server on port 0, in memory.
pub async fn test_server() -> lonceng_server::Running<lonceng_server::sqlite::SqliteDb> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    lonceng_server::start(
        lonceng_server::sqlite::SqliteDb::in_memory().unwrap(),
        lonceng_server::Config::new("p", "a"),
        Arc::new(lonceng_domain::clock::SystemClock),
        listener,
    )
    .await
    .unwrap()
}

/// The desktop runtime signed in to `server` as agent-sari (settings and token as a first run
/// leaves them), with the browser recorded; returned once connected.
pub async fn connected_desktop(
    dir: &std::path::Path,
    server: &lonceng_server::Running<lonceng_server::sqlite::SqliteDb>,
    opener: Arc<RecordingOpener>,
) -> Arc<lonceng_desktop::runtime::Desktop> {
    let token = server.service.issue_token("agent-sari", "desktop").await.unwrap();
    std::fs::write(dir.join("settings.json"), format!(r#"{{"server_url": "{}"}}"#, server.url())).unwrap();
    std::fs::write(dir.join("token"), token).unwrap();
    restarted_desktop(dir, opener).await
}

/// The desktop runtime started again on what an earlier run left in `dir`; returned once connected.
pub async fn restarted_desktop(
    dir: &std::path::Path,
    opener: Arc<RecordingOpener>,
) -> Arc<lonceng_desktop::runtime::Desktop> {
    use lonceng_desktop::ports::Ports;
    use lonceng_desktop::runtime::{Desktop, Options};
    let mut ports = Ports::platform(dir);
    ports.opener = opener;
    let options = Options {
        data_dir: dir.to_path_buf(),
        demo: false,
        demo_pace: Duration::from_secs(1),
        demo_events: None,
        autostart_exe: None,
        policy: Default::default(),
    };
    let app = Desktop::start_with(options, Arc::new(|_| {}), ports).await.unwrap();
    let connected = || matches!(app.status().state, lonceng_client::sync::ConnState::Connected { .. });
    eventually("connected", connected).await;
    app
}

/// Text as the agent sees it: without the (invisible) isolation marks around parameters.
pub fn visible(s: &str) -> String {
    s.replace(['\u{2068}', '\u{2069}'], "")
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}
