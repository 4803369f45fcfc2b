//! The desktop runtime headless, as a first run and a configured account see it: what the Tauri
//! commands call, on a private D-Bus (with no keyring service: the token's private-file fallback).
// Linux desktop services (D-Bus, X11); the Windows backends have windows.rs.
#![cfg(unix)]

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use lonceng_client::sync::ConnState;
use lonceng_desktop::error::AppError;
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::settings::SettingsChanges;
use lonceng_domain::i18n::Lang;

bus_test! {
    fn without_a_server_the_window_says_what_to_do_and_the_token_stays_private() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let app = Desktop::start(
            Options {
                data_dir: dir.path().to_path_buf(),
                demo: false,
                demo_pace: Duration::from_secs(1),
                demo_events: None,
                autostart_exe: None,
                policy: Default::default(),
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
}

bus_test! {
    fn a_configured_account_connects_in_the_background_after_start() {
    rt().block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = lonceng_server::start(
            lonceng_server::sqlite::SqliteDb::in_memory().unwrap(),
            lonceng_server::Config::new("p", "a"),
            Arc::new(lonceng_domain::clock::SystemClock),
            listener,
        )
        .await
        .unwrap();
        let token = server.service.issue_token("agent-sari", "laptop").await.unwrap();
        server.service.submit(lonceng_e2e::mention("m1", "agent-sari", chrono::Utc::now())).await.unwrap();

        let dir = tempfile::tempdir().unwrap();
        let start = |dir: std::path::PathBuf| {
            Desktop::start(
                Options { data_dir: dir, demo: false, demo_pace: Duration::from_secs(1), demo_events: None, autostart_exe: None, policy: Default::default() },
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
}

bus_test! {
    /// ORG-3: IT's policy points a fresh install at the organisation's server: the agent never types
    /// the address and cannot change it, and their own settings stay underneath.
    fn org_3_a_policy_points_a_fresh_install_at_the_organisations_server() {
    rt().block_on(async {
        let server = test_server().await;
        let dir = tempfile::tempdir().unwrap();
        let token = server.service.issue_token("agent-sari", "laptop").await.unwrap();
        std::fs::write(dir.path().join("token"), token).unwrap();
        let policy = lonceng_desktop::policy::Loaded::from_json(
            "/etc/lonceng/policy.json",
            &format!(r#"{{"server_url": "{}", "lang": "id", "sound": "loud"}}"#, server.url()),
        );
        let options = Options {
            data_dir: dir.path().to_path_buf(),
            demo: false,
            demo_pace: Duration::from_secs(1),
            demo_events: None,
            autostart_exe: None,
            policy,
        };
        let app = Desktop::start(options, Arc::new(|_| {})).await.unwrap();
        eventually("connected to the policy's server", || {
            matches!(app.status().state, ConnState::Connected { .. })
        })
        .await;
        let view = app.settings();
        assert_eq!((view.settings.server_url.as_str(), view.settings.lang), (server.url().as_str(), Lang::Id));
        assert_eq!(view.locked, ["server_url", "lang"], "a wrong entry fixes nothing");
        let elsewhere = SettingsChanges { server_url: Some("https://elsewhere.example".into()), ..Default::default() };
        let refused = app.save_settings(elsewhere).await.unwrap_err();
        assert!(matches!(&refused, AppError::Refused(m) if m.contains("server_url")), "{refused}");
        // The whole form, as the window sends it, with what is fixed unchanged: saved.
        let form = SettingsChanges {
            server_url: Some(server.url()),
            lang: Some(Lang::Id),
            chat_window_patterns: Some(vec!["qontak".into()]),
            ..Default::default()
        };
        app.save_settings(form).await.unwrap();
        let own = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
        assert!(!own.contains(&server.url()), "the policy's address is not written as the agent's: {own}");
        let diagnosis = app.diagnose().await;
        let policy = diagnosis.lines.iter().find(|l| l.check == lonceng_client::doctor::Check::Policy).unwrap();
        assert_eq!(policy.level, lonceng_client::doctor::Level::Warning, "{policy:?}");
        assert!(policy.text.contains("sound"), "the wrong entry is named: {}", policy.text);
        app.stop().await;
        server.stop().await;
    });
    }
}
