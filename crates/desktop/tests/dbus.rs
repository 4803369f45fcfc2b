//! Toasts on a real D-Bus: each test re-executes itself under `dbus-run-session` (a private session
//! bus), where a recording notification server written with zbus stands in for dunst or GNOME Shell.
//! It records every Notify and CloseNotification call, and the tests emit `ActionInvoked` as a
//! notification server does when the agent clicks a toast.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;

use chrono::{DateTime, Utc};
use lonceng_core::clock::ManualClock;
use lonceng_core::i18n::Catalog;
use lonceng_core::model::{Category, Kind, Notification, Params};
use lonceng_core::store::Store;
use lonceng_core::sync::{SharedStore, SyncEvent};
use lonceng_core::toast::{Focus, FocusProbe, Notifier, Opener, Toast, ToastCenter, ToastSettings, Urgency};
use lonceng_desktop::focus::DesktopFocus;
use lonceng_desktop::notifier::DbusNotifier;
use tokio::sync::mpsc;

#[test]
fn toasts_are_shown_replaced_and_closed_on_the_bus() {
    if !in_private_bus("toasts_are_shown_replaced_and_closed_on_the_bus") {
        return;
    }
    rt().block_on(async {
        let (_server, rec) = notification_server().await;
        let (tx, _rx) = mpsc::unbounded_channel();
        let n = DbusNotifier::new("Lonceng", "lonceng", tx);
        let toast = |body: &str| Toast {
            title: "Budi on WhatsApp".into(),
            body: body.into(),
            urgency: Urgency::Critical,
            action_label: "Open".into(),
        };
        let id = n.show(toast("<b>Halo</b> & selamat pagi"), None).await.unwrap();
        let again = n.show(toast("2 new messages"), Some(id)).await.unwrap();
        assert_eq!(again, id, "updated in place");
        n.close(id).await.unwrap();
        let calls = rec.calls.lock().unwrap().clone();
        assert_eq!(
            calls[0],
            Call::Notify {
                app: "Lonceng".into(),
                replaces: 0,
                summary: "Budi on WhatsApp".into(),
                body: "&lt;b&gt;Halo&lt;/b&gt; &amp; selamat pagi".into(),
                actions: vec!["default".into(), "Open".into()],
                urgency: Some(2),
            },
            "text is escaped for a server that renders markup"
        );
        assert!(matches!(&calls[1], Call::Notify { replaces, .. } if *replaces == id));
        assert_eq!(calls[2], Call::Close(id));
    });
}

#[derive(Default)]
struct RecordingOpener(Mutex<Vec<String>>);
impl Opener for RecordingOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        self.0.lock().unwrap().push(url.into());
        Ok(())
    }
}

struct NotFocused;
impl FocusProbe for NotFocused {
    fn focus(&self) -> Focus {
        Focus::ChatNotFocused
    }
}

fn t0() -> DateTime<Utc> {
    "2026-01-20T03:00:00Z".parse().unwrap()
}

// NC-R7, NC-R13
#[test]
fn a_click_reaches_the_opener_with_the_right_url_and_marks_the_item_read() {
    if !in_private_bus("a_click_reaches_the_opener_with_the_right_url_and_marks_the_item_read") {
        return;
    }
    rt().block_on(async {
        let (server, rec) = notification_server().await;
        let (tx, mut clicks) = mpsc::unbounded_channel();
        let notifier = Arc::new(DbusNotifier::new("Lonceng", "lonceng", tx));
        let opener = Arc::new(RecordingOpener::default());
        let store: SharedStore = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
        let center = ToastCenter::new(
            notifier,
            Arc::new(NotFocused),
            opener.clone(),
            Arc::new(Catalog::builtin().unwrap()),
            Arc::new(ManualClock::new(t0())),
            store.clone(),
            Box::new(|| {}),
            ToastSettings::default(),
        );
        let deal = |id: &str| Notification {
            id: id.into(),
            category: Category::Assignment,
            kind: Kind::DealOwnerAssigned,
            params: Params::new().with("actor", "Budi").with("deal_name", "PT Maju"),
            actor_id: Some("u-2".into()),
            recipient_id: "u-1".into(),
            url: format!("https://app.qontak.com/crm/deals/{id}"),
            created_at: t0(),
            read_at: None,
        };
        store.lock().unwrap().upsert(&[deal("41"), deal("42")], t0()).unwrap();
        center.handle(&SyncEvent::Arrived { notification: deal("41"), late: false }).await;
        center.handle(&SyncEvent::Arrived { notification: deal("42"), late: false }).await;
        eventually("two toasts", || rec.calls.lock().unwrap().len() == 2).await;
        let calls = rec.calls.lock().unwrap().clone();
        assert!(matches!(&calls[0], Call::Notify { summary, body, .. }
            if summary == "Deal assigned to you" && body == "Budi made you the owner of deal PT Maju"));

        // The agent clicks the second toast (ids follow the recorder's numbering), as a person does:
        // some time after it appeared.
        tokio::time::sleep(Duration::from_millis(200)).await;
        click(&server, 2).await;
        let clicked = tokio::time::timeout(Duration::from_secs(5), clicks.recv())
            .await
            .expect("click delivered")
            .unwrap();
        assert_eq!(clicked, 2);
        let outcome = center.clicked(clicked).await.expect("a known toast");
        assert!(outcome.opened);
        assert_eq!(*opener.0.lock().unwrap(), vec!["https://app.qontak.com/crm/deals/42".to_string()]);
        assert_eq!(outcome.marked_read, vec!["42".to_string()]);
        assert!(store.lock().unwrap().get("42").unwrap().unwrap().read_at.is_some());
        assert!(store.lock().unwrap().get("41").unwrap().unwrap().read_at.is_none());

        // The other one is read on the web: its toast is withdrawn (NC-R13).
        center.handle(&SyncEvent::Read { ids: vec!["41".into()] }).await;
        eventually("withdrawn", || rec.calls.lock().unwrap().contains(&Call::Close(1))).await;
        // A click on some other program's notification is not ours.
        click(&server, 77).await;
        assert!(tokio::time::timeout(Duration::from_millis(300), clicks.recv()).await.is_err());
    });
}

struct ScreenSaver(Arc<Mutex<bool>>);

#[zbus::interface(name = "org.freedesktop.ScreenSaver")]
impl ScreenSaver {
    fn get_active(&self) -> bool {
        *self.0.lock().unwrap()
    }
}

#[test]
fn a_locked_screen_is_read_from_the_screensaver_service() {
    if !in_private_bus("a_locked_screen_is_read_from_the_screensaver_service") {
        return;
    }
    let locked = Arc::new(Mutex::new(false));
    let rt = rt();
    let _saver = rt.block_on(async {
        zbus::connection::Builder::session()
            .name("org.freedesktop.ScreenSaver")
            .serve_at("/org/freedesktop/ScreenSaver", ScreenSaver(locked.clone()))
            .build()
            .await
            .expect("screensaver on the private bus")
    });
    // No X display here: focus cannot be seen, but a lock can. The probe runs on the runtime's
    // blocking threads, as in the app.
    let _inside = rt.enter();
    let probe = DesktopFocus::new(Some(":4242"), Default::default());
    assert_eq!(probe.locked(), Some(false));
    assert_eq!(probe.focus(), Focus::Unknown);
    *locked.lock().unwrap() = true;
    assert_eq!(probe.locked(), Some(true));
    assert_eq!(probe.focus(), Focus::Locked);
}

mod chain {
    use super::*;
    use lonceng_core::clock::{SystemClock, TokioSleeper};
    use lonceng_core::sync::lonceng::LoncengSource;
    use lonceng_core::sync::{SyncConfig, SyncEngine};
    use lonceng_e2e::mention;
    use lonceng_server::db::Database;
    use lonceng_server::sqlite::SqliteDb;
    use tokio_util::sync::CancellationToken;

    // NC-R7, NC-R13, end to end
    #[test]
    fn from_a_server_event_to_a_toast_a_click_and_a_read_on_the_server() {
        if !in_private_bus("chain::from_a_server_event_to_a_toast_a_click_and_a_read_on_the_server") {
            return;
        }
        rt().block_on(async {
            let (bus, rec) = notification_server().await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let server = lonceng_server::start(
                SqliteDb::in_memory().unwrap(),
                lonceng_server::Config::new("p", "a"),
                Arc::new(SystemClock),
                listener,
            )
            .await
            .unwrap();
            let desktop = server.app.issue_token("agent-sari", "desktop").await.unwrap();

            let store: SharedStore = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
            let source = LoncengSource::new(&server.url(), &desktop).unwrap();
            let (engine, handle, events) = SyncEngine::new(
                source,
                store.clone(),
                Arc::new(SystemClock),
                Arc::new(TokioSleeper),
                SyncConfig::default(),
            );
            let (click_tx, clicks) = mpsc::unbounded_channel();
            let opener = Arc::new(RecordingOpener::default());
            let nudge = handle.clone();
            let center = Arc::new(ToastCenter::new(
                Arc::new(DbusNotifier::new("Lonceng", "lonceng", click_tx)),
                Arc::new(NotFocused),
                opener.clone(),
                Arc::new(Catalog::builtin().unwrap()),
                Arc::new(SystemClock),
                store.clone(),
                Box::new(move || nudge.nudge()),
                ToastSettings::default(),
            ));
            let shutdown = CancellationToken::new();
            tokio::spawn(engine.run(shutdown.clone()));
            tokio::spawn(lonceng_core::toast::drive(
                center.clone(),
                events,
                clicks,
                |_| {},
                shutdown.clone(),
            ));

            server.app.submit(mention("7", "agent-sari", Utc::now())).await.unwrap();
            eventually("a toast", || !rec.calls.lock().unwrap().is_empty()).await;
            let first = rec.calls.lock().unwrap()[0].clone();
            assert!(
                matches!(&first, Call::Notify { summary, body, .. }
                if summary == "New mention" && body == "Budi Santoso mentioned you in deal Deal 7"),
                "{first:?}"
            );

            tokio::time::sleep(Duration::from_millis(200)).await;
            click(&bus, 1).await;
            eventually("the page opened", || !opener.0.lock().unwrap().is_empty()).await;
            assert_eq!(*opener.0.lock().unwrap(), vec!["https://app.qontak.com/crm/deals/7".to_string()]);
            let mut read_on_server = false;
            for _ in 0..300 {
                if server.app.db.counts("agent-sari".into()).await.unwrap().total == 0 {
                    read_on_server = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(read_on_server, "the click's read reached the server (NC-R7, MW-6)");

            // Read on the web chat instead: the toast goes away here (NC-R13).
            server.app.submit(mention("8", "agent-sari", Utc::now())).await.unwrap();
            eventually("the second toast", || rec.calls.lock().unwrap().len() == 2).await;
            let web = server.app.issue_token("agent-sari", "web").await.unwrap();
            let id = server.app.db.list(
                "agent-sari".into(),
                lonceng_server::db::ListFilter {
                    tab: lonceng_core::model::Tab::General,
                    category: None,
                    unread_only: true,
                    after: None,
                    limit: 10,
                },
            );
            let id = id.await.unwrap()[0].id.clone();
            let acted = server.app.db.mark_read("agent-sari".into(), id, Utc::now()).await.unwrap().unwrap();
            server.app.hub.publish(&acted.changes);
            drop(web);
            eventually("withdrawn", || rec.calls.lock().unwrap().contains(&Call::Close(2))).await;
            shutdown.cancel();
            server.stop().await;
        });
    }
}
