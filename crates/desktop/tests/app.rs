//! The desktop runtime headless: what the Tauri commands call, in demo mode (the embedded server
//! and its simulator), on a private D-Bus with a recording notification server.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use lonceng_core::i18n::Lang;
use lonceng_core::model::{Category, Tab};
use lonceng_core::store::Scope;
use lonceng_core::sync::ConnState;
use lonceng_desktop::app::{AppError, Desktop, Options, SettingsChanges, UiEvent};

async fn demo(dir: &std::path::Path) -> (Arc<Desktop>, Arc<Mutex<Vec<UiEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = events.clone();
    let app = Desktop::start(
        Options {
            data_dir: dir.to_path_buf(),
            demo: true,
            demo_pace: Duration::from_millis(30),
            demo_events: None,
        },
        Arc::new(move |e| log.lock().unwrap().push(e)),
    )
    .await
    .expect("the demo starts");
    (app, events)
}

// NC-R6, NC-R8, NC-R14, MW-2, and the settings the window edits
#[test]
fn the_demo_fills_the_list_and_every_window_action_works() {
    if !in_private_bus("the_demo_fills_the_list_and_every_window_action_works") {
        return;
    }
    rt().block_on(async {
        let (_bus, recorder) = notification_server().await;
        let dir = tempfile::tempdir().unwrap();
        let (app, events) = demo(dir.path()).await;

        // The simulator's activity arrives: the list fills, toasts appear, the window is told.
        let mut filled = false;
        for _ in 0..400 {
            if app.counts().unwrap().total >= 8 && matches!(app.status().state, ConnState::Connected { .. }) {
                filled = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(filled, "demo activity reached the store: {:?}", app.counts().unwrap().total);
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

#[test]
fn without_a_server_the_window_says_what_to_do_and_the_token_stays_private() {
    if !in_private_bus("without_a_server_the_window_says_what_to_do_and_the_token_stays_private") {
        return;
    }
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let app = Desktop::start(
            Options {
                data_dir: dir.path().to_path_buf(),
                demo: false,
                demo_pace: Duration::from_secs(1),
                demo_events: None,
            },
            Arc::new(|_| {}),
        )
        .await
        .unwrap();
        match app.status().state {
            ConnState::Offline { reason, .. } => assert!(reason.contains("Settings"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let view = app
            .save_settings(SettingsChanges {
                server_url: Some("https://notifications.example.com".into()),
                token: Some("s3cret".into()),
                ..SettingsChanges::default()
            })
            .await
            .unwrap();
        assert!(view.has_token);
        assert_eq!(view.token_store, "file", "no keyring service on this private bus: the safe fallback");
        assert!(
            !serde_json::to_string(&view).unwrap().contains("s3cret"),
            "the token never goes to the window"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("token")).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the agent can read the token file");
        }
        app.stop().await;
    });
}

#[test]
fn a_configured_account_connects_in_the_background_after_start() {
    if !in_private_bus("a_configured_account_connects_in_the_background_after_start") {
        return;
    }
    rt().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = lonceng_server::start(
            lonceng_server::sqlite::SqliteDb::in_memory().unwrap(),
            lonceng_server::Config::new("p", "a"),
            Arc::new(lonceng_core::clock::SystemClock),
            listener,
        )
        .await
        .unwrap();
        let token = server.app.issue_token("agent-sari", "laptop").await.unwrap();
        server.app.submit(lonceng_e2e::mention("m1", "agent-sari", chrono::Utc::now())).await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let start = |dir: std::path::PathBuf| {
            Desktop::start(
                Options { data_dir: dir, demo: false, demo_pace: Duration::from_secs(1), demo_events: None },
                Arc::new(|_| {}),
            )
        };
        // First run: the agent enters the server and token in Settings.
        let app = start(dir.path().to_path_buf()).await.unwrap();
        app.save_settings(SettingsChanges {
            server_url: Some(server.url()),
            token: Some(token),
            ..SettingsChanges::default()
        })
        .await
        .unwrap();
        app.stop().await;

        // Next start: up at once, then connected and synced without anyone waiting for it.
        let app = start(dir.path().to_path_buf()).await.unwrap();
        let mut synced = false;
        for _ in 0..200 {
            if app.counts().unwrap().total == 1 && matches!(app.status().state, ConnState::Connected { .. }) {
                synced = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(synced, "status {:?}", app.status());
        assert_eq!(app.settings().token_store, "file", "no keyring on this bus: the private file");
        app.stop().await;
        server.stop().await;
    });
}
