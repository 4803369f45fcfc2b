//! `lonceng doctor` on a virtual desktop: first with nothing there (a private D-Bus with no
//! services, no display, no server), then with each piece present (a notification server with
//! actions, a tray watcher with a host, a screen saver, a Secret Service, Xvfb with a window
//! manager, the real Lonceng server with a valid token and its stream, a login entry for this
//! binary). Each line must change from its problem or warning to ok, and say what to do when not.
// Linux desktop services (D-Bus, X11); the Windows facts have tests/windows.rs.
#![cfg(unix)]

use std::path::PathBuf;

use lonceng_client::doctor::{self, Check, Display, Level, Notifications, Server, Stream, Token, Tray};
use lonceng_desktop::doctor::{gather, Context};
use lonceng_desktop::settings::DesktopSettings;
use lonceng_domain::i18n::{Catalog, Lang};
use zbus::{OwnedObjectPath, OwnedVariant};

use crate::common::{notification_server, rt, test_server};

/// A StatusNotifierWatcher with a registered host (what a panel's tray provides).
struct Watcher;

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }
}

/// A screen saver that says the screen is not locked.
struct ScreenSaver;

#[zbus::interface(name = "org.freedesktop.ScreenSaver")]
impl ScreenSaver {
    fn get_active(&self) -> bool {
        false
    }
}

/// A Secret Service that opens sessions (all the doctor asks of it).
struct Secrets;

#[zbus::interface(name = "org.freedesktop.Secret.Service")]
impl Secrets {
    fn open_session(&self, _algorithm: &str, _input: OwnedVariant) -> (OwnedVariant, OwnedObjectPath) {
        (OwnedVariant::from(0u32), OwnedObjectPath::try_from("/org/freedesktop/secrets/session/s1").unwrap())
    }
}

fn context(server: Option<(String, Option<String>)>, exe: PathBuf) -> Context {
    let (server, token) = server.map_or((None, None), |(s, t)| (Some(s), t));
    Context {
        settings: DesktopSettings::default(),
        server,
        token,
        demo: false,
        crm_secret_stored: false,
        exe,
        autostart_managed: true,
        quarantined: Some(0),
        policy: Default::default(),
    }
}

fn level(facts: &doctor::Facts, check: Check) -> Level {
    doctor::diagnose(facts).into_iter().find(|f| f.check == check).map(|f| f.level).unwrap()
}

bus_test! {
    fn each_piece_absent_then_present_changes_its_line() {
    let home = tempfile::tempdir().unwrap();
    // Only this test runs in this process (the private bus runs exactly it).
    std::env::set_var("XDG_CONFIG_HOME", home.path());
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/lonceng-test");
    std::env::remove_var("DISPLAY");
    std::env::remove_var("WAYLAND_DISPLAY");
    std::env::remove_var("XDG_SESSION_TYPE");
    std::env::set_var("XDG_CURRENT_DESKTOP", "GNOME");
    let exe = PathBuf::from("/usr/bin/lonceng");
    let catalog = Catalog::builtin().unwrap();
    rt().block_on(async {
        // Nothing there.
        let facts = gather(&context(None, exe.clone())).await;
        assert_eq!(facts.notifications, Notifications::Missing);
        assert_eq!(facts.tray, Tray::Missing { gnome: true });
        assert_eq!(facts.display, Display::Missing);
        assert_eq!(facts.screen_lock, None);
        assert_eq!(facts.keyring, None);
        assert_eq!(facts.server, Server::NotConfigured);
        assert_eq!(level(&facts, Check::Autostart), Level::Warning, "on by default, but no entry");
        let report = doctor::Report::render(&doctor::diagnose(&facts), &catalog, Lang::En);
        assert_eq!(report.exit_code(), 1);
        let text = report.text(&catalog, Lang::En);
        assert!(text.contains("gnome-shell-extension-appindicator"), "the GNOME hint:\n{text}");
        assert!(text.contains("No notification service answers"), "{text}");

        // A server that cannot be reached, and one that refuses the token.
        let gone = context(Some(("http://127.0.0.1:9".into(), Some("t".into()))), exe.clone());
        let facts = gather(&gone).await;
        assert!(matches!(&facts.server, Server::Lonceng { reachable: Err(_), .. }), "{:?}", facts.server);
        assert_eq!((facts.token.clone(), facts.stream.clone()), (Token::Unchecked, Stream::Unchecked));
        let server = test_server().await;
        let refused = context(Some((server.url(), Some("not-a-token".into()))), exe.clone());
        assert_eq!(gather(&refused).await.token, Token::Rejected);
        let no_token = context(Some((server.url(), None)), exe.clone());
        assert_eq!(gather(&no_token).await.token, Token::Missing);

        // Every piece present.
        let (_notifications, _) = notification_server().await;
        let _services = zbus::connection::Builder::session()
            .name("org.kde.StatusNotifierWatcher")
            .serve_at("/StatusNotifierWatcher", Watcher)
            .name("org.freedesktop.ScreenSaver")
            .serve_at("/org/freedesktop/ScreenSaver", ScreenSaver)
            .name("org.freedesktop.secrets")
            .serve_at("/org/freedesktop/secrets", Secrets)
            .build()
            .await
            .unwrap();
        let x = crate::common::xvfb::display();
        std::env::set_var("DISPLAY", &x.name);
        lonceng_desktop::autostart::set(true, &exe).unwrap();
        let token = server.service.issue_token("agent-sari", "desktop").await.unwrap();
        let facts = gather(&context(Some((server.url(), Some(token))), exe.clone())).await;
        assert!(matches!(&facts.notifications, Notifications::Dbus { capabilities, .. } if capabilities.iter().any(|c| c == "actions")));
        assert_eq!(facts.tray, Tray::Host);
        assert_eq!(facts.display, Display::X11 { active_window: true });
        assert_eq!(facts.screen_lock.as_deref(), Some("org.freedesktop.ScreenSaver"));
        assert!(facts.keyring.is_some());
        assert_eq!(facts.token, Token::Valid { user: "agent-sari".into() });
        assert_eq!(facts.stream, Stream::Open);
        assert!(facts.clock_skew.is_some_and(|s| s.abs() <= 2), "the same clock: {:?}", facts.clock_skew);
        let report = doctor::Report::render(&doctor::diagnose(&facts), &catalog, Lang::Id);
        let not_ok: Vec<_> = report.lines.iter().filter(|l| l.level != Level::Ok).collect();
        assert!(not_ok.is_empty(), "all ok with every piece present: {not_ok:?}");
        assert_eq!(report.exit_code(), 0);

        // The login entry turned off by hand while the setting says on; then one for another binary.
        lonceng_desktop::autostart::set(false, &exe).unwrap();
        assert_eq!(level(&gather(&context(None, exe.clone())).await, Check::Autostart), Level::Warning);
        lonceng_desktop::autostart::set(true, std::path::Path::new("/opt/old/lonceng")).unwrap();
        let facts = gather(&context(None, exe.clone())).await;
        assert!(!facts.autostart.starts_this);
        assert_eq!(level(&facts, Check::Autostart), Level::Warning);
        server.stop().await;
    });
    }
}
