//! Lonceng's desktop shell: the Tauri parts only. [`commands`] are one call each into
//! `lonceng_desktop`, where everything else lives (and is tested headless); [`tray`] draws the
//! runtime's tray view; [`window`] builds the bell window on demand and releases WebKit after it.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod tray;
mod window;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use lonceng_desktop::cli::Cli;
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::views::UiEvent;
use tauri::{Emitter, Manager, RunEvent, WindowEvent};

type App = Arc<Desktop>;

fn main() {
    // Before any thread starts and before WebKit reads them.
    #[cfg(target_os = "linux")]
    lonceng_desktop::memory::prepare_webkit();
    let cli = Cli::from_launch();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let setup_cli = cli.clone();

    let builder = tauri::Builder::default()
        // First: a second launch shows the running one's window instead of starting again (unless
        // it is autostart's `--hidden`).
        .plugin(tauri_plugin_single_instance::init(|handle, args, _cwd| {
            if Cli::wants_window(&args) {
                window::show(handle, None);
            }
        }));
    #[cfg(not(windows))]
    let builder = builder.plugin(tauri_plugin_autostart::init(
        tauri_plugin_autostart::MacosLauncher::LaunchAgent,
        Some(vec!["--hidden"]),
    ));
    let result = builder
        .manage(window::Pinned(AtomicBool::new(cli.pinned)))
        .manage(window::Shown(std::sync::Mutex::new(None)))
        .manage(window::Visits::new(Duration::from_millis(cli.linger_ms)))
        .invoke_handler(tauri::generate_handler![
            commands::page,
            commands::counts,
            commands::status,
            commands::why,
            commands::quarantine,
            commands::mark_read,
            commands::open_item,
            commands::mark_all_read,
            commands::undo,
            commands::settings,
            commands::save_settings,
            commands::set_pinned,
            commands::painted,
        ])
        .setup(move |tauri_app| {
            let cli = setup_cli;
            let handle = tauri_app.handle().clone();
            let data_dir = cli.data_dir.clone().map_or_else(|| tauri_app.path().app_data_dir(), Ok)?;
            let emitter = handle.clone();
            let (tray_tx, tray_rx) = tokio::sync::mpsc::unbounded_channel();
            let notify = Arc::new(move |e: UiEvent| {
                let _ = emitter.emit(&e.channel(), ());
                let _ = tray_tx.send(e);
            });
            let options = Options {
                data_dir,
                demo: cli.demo,
                demo_pace: Duration::from_millis(cli.demo_pace_ms),
                demo_events: cli.demo_events,
            };
            let app = tauri::async_runtime::block_on(Desktop::start(options, notify))
                .map_err(|e| anyhow::anyhow!("Lonceng could not start: {e}"))?;
            tauri_app.manage(app.clone());
            tray::set_autostart(&handle, app.settings().settings.autostart);
            if let Err(e) = tray::build(&handle) {
                // No StatusNotifierWatcher or no tray host: keep running; a second launch opens the window.
                tracing::warn!(error = %e, "no system tray on this desktop; run `lonceng` again to open the window");
            }
            tray::refresh(&handle);
            tray::follow(handle.clone(), tray_rx);
            if cli.show {
                window::show(&handle, None);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::Focused(false) = event {
                window::on_focus_lost(window);
            }
        })
        .build(tauri::generate_context!());
    match result {
        Ok(app) => app.run(|_, event| {
            // Closing the last window must not quit: Lonceng lives in the tray.
            if let RunEvent::ExitRequested { code: None, api, .. } = event {
                api.prevent_exit();
            }
        }),
        Err(e) => {
            eprintln!("Lonceng could not start: {e}");
            std::process::exit(1);
        }
    }
}
