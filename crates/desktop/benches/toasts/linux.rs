//! The benchmark itself; see `../toasts.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use lonceng_client::store::Store;
use lonceng_client::sync::lonceng::LoncengSource;
use lonceng_client::sync::SharedStore;
use lonceng_client::toast::{Focus, FocusProbe, ToastCenter, ToastSettings};
use lonceng_desktop::platform::notifier::DbusNotifier;
use lonceng_domain::clock::SystemClock;
use lonceng_domain::i18n::Catalog;
use lonceng_domain::rules::ProducerEvent;
use lonceng_server::sqlite::SqliteDb;
use tokio_util::sync::CancellationToken;

const EVENTS: usize = 1_000;

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Instant>>>);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app: String,
        replaces_id: u32,
        _icon: String,
        _summary: String,
        _body: String,
        _actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::OwnedVariant>,
        _timeout: i32,
    ) -> u32 {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.push(Instant::now());
        if replaces_id != 0 {
            replaces_id
        } else {
            log.len() as u32
        }
    }
    fn close_notification(&self, _id: u32) {}
    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into()]
    }
    fn get_server_information(&self) -> (String, String, String, String) {
        ("bench".into(), "lonceng".into(), "1".into(), "1.2".into())
    }
}

struct NotFocused;
impl FocusProbe for NotFocused {
    fn focus(&self) -> Focus {
        Focus::ChatNotFocused
    }
}
fn event(i: usize) -> ProducerEvent {
    let mut e = lonceng_e2e::mention(&format!("bench-{i}"), "agent-sari", Utc::now());
    if let ProducerEvent::Notification(d) = &mut e {
        // One object: the toast is updated in place, as for a busy deal.
        d.url = "https://app.qontak.com/crm/deals/1".into();
    }
    e
}

pub fn main() {
    if std::env::var_os("LONCENG_TEST_BUS").is_none() {
        let status = std::process::Command::new("dbus-run-session")
            .arg("--")
            .arg(std::env::current_exe().expect("bench binary"))
            .env("LONCENG_TEST_BUS", "1")
            .status()
            .expect("dbus-run-session");
        std::process::exit(status.code().unwrap_or(1));
    }
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let rec = Recorder::default();
    let _bus = zbus::connection::Builder::session()
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", rec.clone())
        .build()
        .await
        .expect("notification server");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let server = lonceng_server::start(
        SqliteDb::open(&dir.join("server.db")).expect("db"),
        lonceng_server::Config::new("p", "a"),
        Arc::new(SystemClock),
        listener,
    )
    .await
    .expect("server");
    let token = server.service.issue_token("agent-sari", "desktop").await.expect("token");
    let store: SharedStore = Arc::new(Mutex::new(Store::open(dir.join("client.db")).expect("store")));
    let source = LoncengSource::new(&server.url(), &token).expect("source");
    let (engine, _handle, events) = lonceng_e2e::real_engine(source, store.clone());
    let (click_tx, clicks) = tokio::sync::mpsc::unbounded_channel();
    let center = Arc::new(ToastCenter::new(
        Arc::new(DbusNotifier::new("Lonceng", "lonceng", click_tx)),
        Arc::new(NotFocused),
        Arc::new(Catalog::builtin().expect("catalog")),
        Arc::new(SystemClock),
        ToastSettings::default(),
        Box::new(|_| {}),
    ));
    let shutdown = CancellationToken::new();
    tokio::spawn(engine.run(shutdown.clone()));
    tokio::spawn(lonceng_client::toast::drive(center, events, clicks, |_| {}, |_| {}, shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut latencies = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let before = rec.0.lock().unwrap_or_else(|p| p.into_inner()).len();
        let start = Instant::now();
        server.service.submit(event(i)).await.expect("accepted");
        let arrived = loop {
            if let Some(t) = rec.0.lock().unwrap_or_else(|p| p.into_inner()).get(before).copied() {
                break t;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
            assert!(start.elapsed() < Duration::from_secs(10), "event {i} never toasted");
        };
        latencies.push(arrived - start);
    }
    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    println!("| measurement | p50 | p99 | max | goal |\n|---|---|---|---|---|");
    println!(
        "| producer event accepted → Notify on D-Bus ({EVENTS} events) | {} | {} | {} | p50 ≤ 5 ms, p99 ≤ 20 ms |",
        ms(p(0.5)),
        ms(p(0.99)),
        ms(*latencies.last().expect("some"))
    );
    shutdown.cancel();
    server.stop().await;
}
