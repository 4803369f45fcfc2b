//! Demo mode headless (a build with the `demo` feature): the embedded server and its simulator
//! fill the list, and every window action works on what arrives, on a private D-Bus with a
//! recording notification server.
// Linux desktop services (D-Bus); the Windows backends have tests/windows.rs.
#![cfg(all(feature = "demo", unix))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::*;
use lonceng_client::store::Scope;
use lonceng_client::sync::ConnState;
use lonceng_desktop::error::AppError;
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::settings::SettingsChanges;
use lonceng_desktop::views::UiEvent;
use lonceng_domain::i18n::Lang;
use lonceng_domain::model::{Category, Tab};

async fn demo(dir: &std::path::Path) -> (Arc<Desktop>, Arc<Mutex<Vec<UiEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let app = Desktop::start(
        Options {
            data_dir: dir.to_path_buf(),
            demo: true,
            demo_pace: Duration::from_millis(30),
            demo_events: None,
            autostart_exe: None,
            policy: Default::default(),
        },
        Arc::new(move |e| log.lock().unwrap().push(e)),
    )
    .await
    .expect("the demo starts");
    (app, events)
}

// NC-R6, NC-R8, NC-R14, MW-2, and the settings the window edits
bus_test! {
    fn the_demo_fills_the_list_and_every_window_action_works() {
    rt().block_on(async {
        let (_bus, recorder) = notification_server().await;
        let dir = tempfile::tempdir().unwrap();
        let (app, events) = demo(dir.path()).await;

        // The simulator's activity arrives: the list fills, toasts appear, the window is told.
        // Enough in General for a read and a mark-all to act on.
        eventually_within("demo activity reached the store", Duration::from_secs(10), || {
            let c = app.counts().unwrap();
            c.total >= 8 && c.tabs[&Tab::General] >= 2 && matches!(app.status().state, ConnState::Connected { .. })
        })
        .await;
        eventually("toasts", || !recorder.calls.lock().unwrap().is_empty()).await;
        assert!(events.lock().unwrap().contains(&UiEvent::Changed));

        let general = app.page(Scope { tab: Tab::General, category: None }, false, None, 50).unwrap();
        assert!(!general.items.is_empty());
        let inbox_before = app.counts().unwrap().tabs[&Tab::Inbox];
        let unread = app.page(Scope { tab: Tab::General, category: None }, true, None, 1).unwrap();
        if let Some(first) = unread.items.first() {
            let before = app.counts().unwrap().total;
            app.mark_read(&first.id).unwrap();
            assert!(app.counts().unwrap().total < before + 5, "NC-R8");
        }

        // Mark all read in General only, then undo it (NC-R6).
        let general_unread = app.counts().unwrap().tabs[&Tab::General];
        let done = app.mark_all_read(Scope { tab: Tab::General, category: None }).unwrap();
        assert!(done.changed >= general_unread);
        assert!(app.counts().unwrap().tabs[&Tab::Inbox] >= inbox_before, "Inbox untouched");
        let token = done.undo.expect("undoable");
        assert!(app.undo(&token).unwrap());
        assert!(app.counts().unwrap().tabs[&Tab::General] >= general_unread);
        assert!(!app.undo(&token).unwrap(), "once");

        // A category outside the tab is refused with a clear error.
        let err = app
            .page(Scope { tab: Tab::General, category: Some(Category::Deals) }, false, None, 10)
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid(ref m) if m.contains("not in tab")), "{err:?}");

        // Settings persist, and a bad server address is refused.
        let view = app
            .save_settings(SettingsChanges {
                lang: Some(Lang::Id),
                muted: Some([Category::Resolved].into()),
                chat_window_patterns: Some(vec!["Qontak Chat".into()]),
                ..SettingsChanges::default()
            })
            .await
            .unwrap();
        assert_eq!(view.settings.lang, Lang::Id);
        assert!(view.demo && view.has_token);
        let bad = app
            .save_settings(SettingsChanges {
                server_url: Some("ftp://x".into()),
                ..SettingsChanges::default()
            })
            .await;
        assert!(matches!(bad, Err(AppError::Invalid(_))));
        let saved = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
        assert!(saved.contains("\"lang\": \"id\"") && saved.contains("resolved"), "{saved}");

        app.stop().await;
    });
    }
}
