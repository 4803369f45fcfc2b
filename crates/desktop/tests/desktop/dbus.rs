//! Toasts on a real D-Bus: each test re-executes itself under `dbus-run-session` (a private session
//! bus), where a recording notification server written with zbus stands in for dunst or GNOME Shell.
//! It records every Notify and CloseNotification call, and the tests emit `ActionInvoked` as a
//! notification server does when the agent clicks a toast. The app under test is the real runtime
//! (`Desktop`) against the real server, with only the browser replaced by a recorder.
// Linux desktop services (D-Bus, X11); the Windows backends have tests/windows.rs.
#![cfg(unix)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use chrono::Utc;
use lonceng_client::store::Scope;
use lonceng_client::toast::{Focus, FocusProbe, Notifier, Toast, Urgency};
use lonceng_desktop::platform::focus::DesktopFocus;
use lonceng_desktop::platform::notifier::DbusNotifier;
use lonceng_domain::model::Tab;
use lonceng_e2e::mention;
use tokio::sync::mpsc;

bus_test! {
    fn toasts_are_shown_replaced_and_closed_on_the_bus() {
    rt().block_on(async {
        let (_server, rec) = notification_server().await;
        let (tx, _rx) = mpsc::unbounded_channel();
        let n = DbusNotifier::new("Lonceng", "lonceng", tx);
        let toast = |body: &str| Toast {
            title: "Budi on WhatsApp".into(),
            body: body.into(),
            urgency: Urgency::Critical,
            action_label: "Open".into(),
            mark_read_label: None,
            mute_label: None,
            sound: true,
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
                actions: ["default", "Open", "open", "Open"].map(String::from).to_vec(),
                urgency: Some(2),
                sound: Some(true),
            },
            "text is escaped for a server that renders markup; Open is a button too; a sound"
        );
        assert!(matches!(&calls[1], Call::Notify { replaces, .. } if *replaces == id));
        assert_eq!(calls[2], Call::Close(id));

        // A toast for an item of the list offers "Mark as read" where the server shows buttons;
        // a silent one asks the server not to play a sound.
        let item = Toast { mark_read_label: Some("Mark as read".into()), sound: false, ..toast("Budi mentioned you") };
        n.show(item, None).await.unwrap();
        let last = rec.calls.lock().unwrap().last().cloned().unwrap();
        assert!(
            matches!(&last, Call::Notify { actions, sound: Some(false), .. }
                if *actions == ["default", "Open", "open", "Open", "mark-read", "Mark as read"].map(String::from)),
            "{last:?}"
        );
    });
    }
}

// Every toast shares one connection to the bus, however many are on screen.
bus_test! {
    fn hundreds_of_toasts_share_one_connection() {
    rt().block_on(async {
        let (_server, _rec) = notification_server().await;
        let (tx, _rx) = mpsc::unbounded_channel();
        let n = DbusNotifier::new("Lonceng", "lonceng", tx);
        let before = open_sockets();
        for i in 0..300 {
            let toast = Toast {
                title: format!("t{i}"),
                body: "b".into(),
                urgency: Urgency::Normal,
                action_label: "Open".into(),
                mark_read_label: None,
                mute_label: None,
                sound: false,
            };
            n.show(toast, None).await.unwrap();
        }
        let after = open_sockets();
        assert!(after <= before + 2, "sockets: {before} before, {after} with 300 toasts up");
    });
    }
}

/// Unix sockets this process holds open.
fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.to_string_lossy().starts_with("socket:"))
        .count()
}

/// The ids of the unread General items, newest first.
fn unread_general(app: &lonceng_desktop::runtime::Desktop) -> Vec<String> {
    let page = app.page(Scope { tab: Tab::General, category: None }, true, None, 50).unwrap();
    page.items.into_iter().map(|n| n.id).collect()
}

// NC-R7, NC-R13, MW-6, end to end through the real runtime
bus_test! {
    fn nc_r7_nc_r13_from_a_server_event_to_a_toast_a_click_and_a_read_on_the_server() {
    rt().block_on(async {
        let (bus, rec) = notification_server().await;
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let opener = Arc::new(RecordingOpener::default());
        let app = connected_desktop(dir.path(), &server, opener.clone()).await;
        let toasts = |n: usize| {
            let rec = rec.clone();
            move || rec.calls.lock().unwrap().iter().filter(|c| matches!(c, Call::Notify { .. })).count() == n
        };

        // Two deals on two pages: two toasts, said in the agent's language.
        server.service.submit(mention("41", "agent-sari", Utc::now())).await.unwrap();
        eventually("a toast", toasts(1)).await;
        server.service.submit(mention("42", "agent-sari", Utc::now())).await.unwrap();
        eventually("a second toast", toasts(2)).await;
        let first = rec.calls.lock().unwrap()[0].clone();
        assert!(
            matches!(&first, Call::Notify { summary, body, .. }
                if summary == "New mention" && visible(body) == "Budi Santoso mentioned you in deal Deal 41"),
            "{first:?}"
        );

        // The agent clicks the second toast as a person does, a moment after it appeared. Its page
        // opens, its item is read here and on the server; the first stays unread (NC-R7, MW-6).
        tokio::time::sleep(Duration::from_millis(200)).await;
        click(&bus, 2).await;
        eventually("the page opened", || !opener.0.lock().unwrap().is_empty()).await;
        assert_eq!(*opener.0.lock().unwrap(), vec!["https://app.qontak.com/crm/deals/42".to_string()]);
        assert_eq!(unread_general(&app).len(), 1, "only the clicked item is read");
        eventually_async("the read reached the server", || async {
            server.service.counts("agent-sari").await.unwrap().total == 1
        })
        .await;

        // Read on the web instead: the first toast is withdrawn here (NC-R13).
        let web_id = unread_general(&app)[0].clone();
        server.service.mark_read("agent-sari", &web_id).await.unwrap();
        eventually("withdrawn after a read elsewhere", || {
            rec.calls.lock().unwrap().contains(&Call::Close(1))
        })
        .await;

        // Read in the bell window: its toast is withdrawn too (one path for every read).
        server.service.submit(mention("43", "agent-sari", Utc::now())).await.unwrap();
        eventually("a third toast", toasts(3)).await;
        eventually("the item is listed", || unread_general(&app).len() == 1).await;
        app.mark_read(&unread_general(&app)[0]).unwrap();
        eventually("withdrawn after a read in the window", || {
            rec.calls.lock().unwrap().contains(&Call::Close(3))
        })
        .await;

        // Mark all read in the window: every toast of the scope goes.
        for key in ["44", "45"] {
            server.service.submit(mention(key, "agent-sari", Utc::now())).await.unwrap();
        }
        eventually("two more toasts", toasts(5)).await;
        eventually("both listed", || unread_general(&app).len() == 2).await;
        assert_eq!(app.mark_all_read(Scope { tab: Tab::General, category: None }).unwrap().changed, 2);
        eventually("both withdrawn", || {
            let calls = rec.calls.lock().unwrap();
            calls.contains(&Call::Close(4)) && calls.contains(&Call::Close(5))
        })
        .await;

        // The toast's "Mark as read" button: read here and on the server, no page opened.
        server.service.submit(mention("46", "agent-sari", Utc::now())).await.unwrap();
        eventually("a sixth toast", toasts(6)).await;
        eventually("listed", || unread_general(&app).len() == 1).await;
        act(&bus, 6, "mark-read").await;
        eventually("read by the button", || unread_general(&app).is_empty()).await;
        eventually("withdrawn after the button", || rec.calls.lock().unwrap().contains(&Call::Close(6)))
            .await;
        assert_eq!(opener.0.lock().unwrap().len(), 1, "the button opens nothing");

        // A click on some other program's notification is not Lonceng's: nothing opens.
        click(&bus, 77).await;
        quiet_for("another program's toast", Duration::from_millis(300), || {
            opener.0.lock().unwrap().len() == 1
        })
        .await;
        app.stop().await;
        server.stop().await;
    });
    }
}

struct ScreenSaver(Arc<Mutex<bool>>);

#[zbus::interface(name = "org.freedesktop.ScreenSaver")]
impl ScreenSaver {
    fn get_active(&self) -> bool {
        *self.0.lock().unwrap()
    }
}

bus_test! {
    fn a_locked_screen_is_read_from_the_screensaver_service() {
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
}

/// The summary and body of every toast shown, as the agent reads them.
fn toast_texts(rec: &Recorder) -> Vec<String> {
    notifies(rec)
        .into_iter()
        .filter_map(|c| match c {
            Call::Notify { summary, body, .. } => Some(visible(&format!("{summary} | {body}"))),
            _ => None,
        })
        .collect()
}

// ORG-5 with the real runtime and a real lock state: the session's screensaver says "locked" on the
// bus, and the toast names nobody; unlocked it does; "always" names them on a locked screen too.
bus_test! {
    fn org_5_a_locked_session_gets_toasts_without_names_or_text() {
    let locked = Arc::new(Mutex::new(true));
    let rt = rt();
    rt.block_on(async {
        let _saver = zbus::connection::Builder::session()
            .name("org.freedesktop.ScreenSaver")
            .serve_at("/org/freedesktop/ScreenSaver", ScreenSaver(locked.clone()))
            .build()
            .await
            .expect("screensaver on the private bus");
        let (_bus, rec) = notification_server().await;
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let app = connected_desktop(dir.path(), &server, Arc::new(RecordingOpener::default())).await;
        server.service.submit(mention("61", "agent-sari", Utc::now())).await.unwrap();
        eventually("a toast", || notifies(&rec).len() == 1).await;
        assert_eq!(toast_texts(&rec)[0], "New mention | Open Lonceng to see the details.");

        *locked.lock().unwrap() = false;
        server.service.submit(mention("62", "agent-sari", Utc::now())).await.unwrap();
        eventually("a second toast", || notifies(&rec).len() == 2).await;
        assert_eq!(toast_texts(&rec)[1], "New mention | Budi Santoso mentioned you in deal Deal 62");

        *locked.lock().unwrap() = true;
        let always = lonceng_desktop::settings::SettingsChanges {
            message_text: Some(lonceng_client::toast::MessageText::Always),
            ..Default::default()
        };
        app.save_settings(always).await.unwrap();
        server.service.submit(mention("63", "agent-sari", Utc::now())).await.unwrap();
        eventually("a third toast", || notifies(&rec).len() == 3).await;
        assert_eq!(toast_texts(&rec)[2], "New mention | Budi Santoso mentioned you in deal Deal 63");
        app.stop().await;
        server.stop().await;
    });
    }
}

// ORG-6 with the real runtime on a real bus: the notification server says it is inhibited (as KDE
// Plasma's does in Do Not Disturb); toasts wait, the tray says why, and when it ends, one silent
// summary follows by itself.
bus_test! {
    fn org_6_the_desktops_do_not_disturb_holds_toasts_until_it_ends() {
    rt().block_on(async {
        let (_bus, rec) = notification_server().await;
        *rec.inhibited.lock().unwrap() = true;
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let app = connected_desktop(dir.path(), &server, Arc::new(RecordingOpener::default())).await;
        server.service.submit(mention("71", "agent-sari", Utc::now())).await.unwrap();
        server.service.submit(mention("72", "agent-sari", Utc::now())).await.unwrap();
        eventually("listed", || unread_general(&app).len() == 2).await;
        eventually("held by Do Not Disturb", || app.system_quiet()).await;
        quiet_for("no toast meanwhile", Duration::from_secs(1), || notifies(&rec).is_empty()).await;
        let tooltip = app.tray().tooltip;
        assert!(tooltip.ends_with("Do Not Disturb is on: notifications wait"), "{tooltip}");
        assert_eq!(app.why(&unread_general(&app)[0]), Some(lonceng_client::toast::Reason::SystemQuiet));

        *rec.inhibited.lock().unwrap() = false;
        eventually_within("one summary when it ends", Duration::from_secs(10), || notifies(&rec).len() == 1).await;
        assert_eq!(toast_texts(&rec)[0], "Lonceng | 2 notifications arrived while notifications were paused");
        assert!(matches!(&notifies(&rec)[0], Call::Notify { sound: Some(false), .. }), "silent");
        eventually("the tray back to normal", || !app.system_quiet()).await;
        quiet_for("once", Duration::from_secs(1), || notifies(&rec).len() == 1).await;
        app.stop().await;
        server.stop().await;
    });
    }
}

fn notifies(rec: &Recorder) -> Vec<Call> {
    rec.calls.lock().unwrap().iter().filter(|c| matches!(c, Call::Notify { .. })).cloned().collect()
}

// Issue 15, through the real runtime on a real bus: snooze withdraws the toast and brings the item
// back unread with a fresh one; read elsewhere, a snooze is forgotten (NC-R13); the "Open" button
// opens the page; search finds the item by its rendered text.
bus_test! {
    fn nc_r13_snooze_comes_back_with_a_fresh_toast_unless_read_elsewhere() {
    rt().block_on(async {
        let (bus, rec) = notification_server().await;
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let opener = Arc::new(RecordingOpener::default());
        let app = connected_desktop(dir.path(), &server, opener.clone()).await;
        server.service.submit(mention("51", "agent-sari", Utc::now())).await.unwrap();
        eventually("a toast", || notifies(&rec).len() == 1).await;
        eventually("listed", || unread_general(&app).len() == 1).await;
        let id = unread_general(&app)[0].clone();

                // Indexed for search in the background, a moment after it is listed.
        eventually("found by its text", || app.search("deal 51", None, false, None).unwrap().items.len() == 1).await;
        assert_eq!(app.search("menyebut", None, false, None).unwrap().items.len(), 1, "and by its Indonesian text");

        app.snooze(&id, Utc::now() + chrono::Duration::milliseconds(1500)).unwrap();
        eventually("the toast withdrawn", || rec.calls.lock().unwrap().contains(&Call::Close(1))).await;
        assert!(unread_general(&app).is_empty(), "out of the list");
        assert_eq!(app.counts().unwrap().total, 0, "and of the counts");
        assert_eq!(app.snoozed().unwrap().len(), 1);
        eventually_within("back with a fresh toast", Duration::from_secs(10), || notifies(&rec).len() == 2).await;
        assert_eq!(unread_general(&app), vec![id.clone()], "back, unread");
        assert!(app.snoozed().unwrap().is_empty());

        // The "Open" button opens the page as a click on the toast does.
        let Call::Notify { actions, .. } = notifies(&rec)[1].clone() else { unreachable!() };
        assert_eq!(actions, ["default", "Open", "open", "Open", "mark-read", "Mark as read"].map(String::from));
        act(&bus, 2, "open").await;
        eventually("the page opened", || opener.0.lock().unwrap().len() == 1).await;
        eventually("read", || unread_general(&app).is_empty()).await;

        // Snoozed, then read on the web: it never comes back.
        server.service.submit(mention("52", "agent-sari", Utc::now())).await.unwrap();
        eventually("a third toast", || notifies(&rec).len() == 3).await;
        eventually("listed", || unread_general(&app).len() == 1).await;
        let id = unread_general(&app)[0].clone();
        app.snooze(&id, Utc::now() + chrono::Duration::seconds(2)).unwrap();
        server.service.mark_read("agent-sari", &id).await.unwrap();
        eventually("forgotten", || app.snoozed().unwrap().is_empty()).await;
        quiet_for("no comeback", Duration::from_secs(3), || notifies(&rec).len() == 3).await;
        assert!(app.snooze(&id, Utc::now() - chrono::Duration::seconds(1)).is_err(), "a snooze ends in the future");
        app.stop().await;
        server.stop().await;
    });
    }
}

// Issue 15: quiet hours hold toasts (silently letting through the categories chosen), survive a
// restart, and end with one summary; the tray's pause is the same mechanism.
bus_test! {
    fn quiet_hours_hold_toasts_across_a_restart_and_end_with_one_summary() {
    rt().block_on(async {
        let (_bus, rec) = notification_server().await;
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let opener = Arc::new(RecordingOpener::default());
        let app = connected_desktop(dir.path(), &server, opener.clone()).await;
        // Every day, all day: quiet now, whatever the time here.
        let always = lonceng_client::toast::QuietHours {
            enabled: true,
            start: 0,
            end: 0,
            ..lonceng_client::toast::QuietHours::default()
        };
        let changes = lonceng_desktop::settings::SettingsChanges { quiet_hours: Some(always), ..Default::default() };
        app.save_settings(changes).await.unwrap();
        assert!(app.quiet().is_some());
        assert!(app.tray().tooltip.contains("Quiet until"), "{}", app.tray().tooltip);
        for key in ["61", "62"] {
            server.service.submit(mention(key, "agent-sari", Utc::now())).await.unwrap();
        }
        eventually("listed", || unread_general(&app).len() == 2).await;
        quiet_for("held", Duration::from_millis(500), || notifies(&rec).is_empty()).await;
        app.stop().await;

        // A restart in the middle of quiet hours: what was held is still held.
        let app = restarted_desktop(dir.path(), opener.clone()).await;
        server.service.submit(mention("63", "agent-sari", Utc::now())).await.unwrap();
        eventually("listed", || unread_general(&app).len() == 3).await;
        quiet_for("still held", Duration::from_millis(500), || notifies(&rec).is_empty()).await;
        // Read one on the web meanwhile: the summary leaves it out.
        let web = unread_general(&app)[0].clone();
        server.service.mark_read("agent-sari", &web).await.unwrap();
        eventually("read", || unread_general(&app).len() == 2).await;

        // Quiet hours turned off (the tray's check item): one summary, silent, of what is unread.
        app.set_quiet_hours(false).await.unwrap();
        eventually("one summary", || notifies(&rec).len() == 1).await;
        let Call::Notify { body, sound, .. } = notifies(&rec)[0].clone() else { unreachable!() };
        assert_eq!(visible(&body), "2 notifications arrived while notifications were paused");
        assert_eq!(sound, Some(false));
        quiet_for("once", Duration::from_millis(500), || notifies(&rec).len() == 1).await;

        // The tray's pause holds in the same way, and Resume ends it with one summary.
        app.pause_for_an_hour().await.unwrap();
        server.service.submit(mention("64", "agent-sari", Utc::now())).await.unwrap();
        eventually("listed", || unread_general(&app).len() == 3).await;
        quiet_for("held by the pause", Duration::from_millis(500), || notifies(&rec).len() == 1).await;
        app.resume().await.unwrap();
        eventually("the pause's summary", || notifies(&rec).len() == 2).await;
                let Call::Notify { body, .. } = notifies(&rec)[1].clone() else { unreachable!() };
        assert_eq!(visible(&body), "1 notification arrived while notifications were paused");

        // Resumed during a pause inside quiet hours: this period is skipped, and stays skipped
        // when the settings change next.
        app.set_quiet_hours(true).await.unwrap();
        app.pause_for_an_hour().await.unwrap();
        assert_eq!(app.quiet().map(|q| q.kind), Some(lonceng_client::toast::QuietKind::Paused));
        app.resume().await.unwrap();
        assert_eq!(app.quiet(), None);
        let lang = lonceng_desktop::settings::SettingsChanges { lang: Some(lonceng_domain::i18n::Lang::Id), ..Default::default() };
        app.save_settings(lang).await.unwrap();
        assert_eq!(app.quiet(), None, "still skipped");
        app.stop().await;
        server.stop().await;
    });
    }
}
