//! Lonceng's desktop shell: the Tauri parts only. [`commands`] are made from the one list of
//! `lonceng_desktop`, each one call into it, where everything else lives (and is tested headless);
//! [`tray`] draws the runtime's tray view; [`window`] builds the bell window on demand and
//! releases WebKit after it.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod shortcut;
mod tray;
mod update;
mod window;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use lonceng_desktop::cli::{Cli, Command};
use lonceng_desktop::runtime::{Desktop, Options};
use lonceng_desktop::views::UiEvent;
use tauri::{Emitter, Manager, RunEvent, WindowEvent};

type App = Arc<Desktop>;

fn main() {
    // Before any thread starts and before WebKit reads them.
    lonceng_desktop::platform::prepare_webkit();
    let context = tauri::generate_context!();
    let cli = Cli::from_launch(&context.package_info().version.to_string());
    if let Some(Command::Manpages { dir }) = &cli.command {
        let written = Cli::manpage(&context.package_info().version.to_string(), dir);
        std::process::exit(match written {
            Ok(_) => 0,
            Err(e) => {
                eprintln!("lonceng: writing the manual page into {}: {e}", dir.display());
                2
            }
        });
    }
    if let Some(Command::Doctor { lang, bundle }) = cli.command.clone() {
        // No tray, no window, no display needed: it also answers from a terminal without a desktop.
        std::process::exit(doctor(cli.data_dir.clone(), lang, bundle));
    }
    // Also to a file in the data folder: the release app on Windows has no console.
    let data_dir = cli.data_dir.clone().or_else(lonceng_desktop::doctor::default_data_dir);
    // Kept until the event loop ends; dropped there (tao's loop exits the process without
    // unwinding), so that the last lines reach the file.
    let log = std::sync::Mutex::new(lonceng_desktop::logs::init(
        data_dir.as_deref(),
        "info,lonceng_server::access=warn",
    ));
    if let Some(Command::Update { yes }) = cli.command {
        std::process::exit(update_command(&cli, yes, context));
    }
    let setup_cli = cli.clone();

    let builder = tauri::Builder::default()
        // First: a second launch shows the running one's window instead of starting again (unless
        // it is autostart's `--hidden`).
        .plugin(tauri_plugin_single_instance::init(|handle, args, _cwd| {
            // A sign-in link clicked while Lonceng runs: the window asks the agent about it.
            if let Some(link) = Cli::link_in(&args) {
                offer_link(handle, link);
            }
            if Cli::wants_window(&args) {
                window::show(handle, None);
            }
        }));
    let result = builder
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(shortcut::plugin())
        .manage(shortcut::Registered::default())
        .manage(update::UrlOverride(cli.update_url.clone()))
        .manage(update::Pending::default())
        .manage(window::Pinned(AtomicBool::new(cli.pinned)))
        .manage(window::Shown(std::sync::Mutex::new(None)))
        .manage(window::Visits::new(Duration::from_millis(cli.linger_ms)))
        .manage(window::Ready::default())
        .invoke_handler(commands::handler())
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
                autostart_exe: std::env::current_exe()
                    .ok()
                    .filter(|exe| lonceng_desktop::autostart::managed(exe, cli.demo)),
                // The demo is nobody's organisation: IT's policy is for the real app.
                policy: if cli.demo { Default::default() } else { lonceng_desktop::platform::policy() },
            };
            let app = tauri::async_runtime::block_on(Desktop::start(options, notify))
                .map_err(|e| anyhow::anyhow!("Lonceng could not start: {e}"))?;
            tauri_app.manage(app.clone());
            let shell = Arc::new(commands::TauriShell(handle.clone()));
            tauri_app.manage(lonceng_desktop::commands::Commands::new(app.clone(), shell));
            if let Err(e) = tray::build(&handle) {
                // No StatusNotifierWatcher or no tray host: keep running; a second launch opens the window.
                tracing::warn!(error = %e, "no system tray on this desktop; run `lonceng` again to open the window");
            }
            tray::refresh(&handle);
            shortcut::apply(&handle);
            tray::follow(handle.clone(), tray_rx);
            if !cli.demo {
                update::follow(handle.clone());
            }
            if let Some(link) = &cli.link {
                offer_link(&handle, link);
            }
            if cli.show || cli.link.is_some() {
                window::show(&handle, None);
            }
            window::release_after_start(&handle);
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::Focused(false) = event {
                window::on_focus_lost(window);
            }
        })
        .build(context);
    match result {
        Ok(app) => app.run(move |_, event| match event {
            // Closing the last window must not quit: Lonceng lives in the tray.
            RunEvent::ExitRequested { code: None, api, .. } => api.prevent_exit(),
            RunEvent::Exit => drop(log.lock().unwrap_or_else(|p| p.into_inner()).take()),
            _ => {}
        }),
        Err(e) => {
            eprintln!("Lonceng could not start: {e}");
            std::process::exit(1);
        }
    }
}

/// `lonceng doctor`: prints the report and gives its exit code.
fn doctor(
    data_dir: Option<std::path::PathBuf>,
    lang: Option<lonceng_domain::i18n::Lang>,
    bundle: Option<std::path::PathBuf>,
) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lonceng doctor: cannot start: {e}");
            return 2;
        }
    };
    let (text, code) = match bundle {
        Some(out) => runtime.block_on(lonceng_desktop::doctor::bundle_command(data_dir, lang, out)),
        None => runtime.block_on(lonceng_desktop::doctor::run_command(data_dir, lang)),
    };
    print!("{text}");
    code
}

/// `lonceng update [--yes]`: the updater without the tray app (and without reaching a running one).
fn update_command(cli: &Cli, yes: bool, context: tauri::Context) -> i32 {
    let cli = cli.clone();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(update::Pending::default())
        .setup(move |app| {
            let data_dir = cli.data_dir.clone().map_or_else(|| app.path().app_data_dir(), Ok)?;
            let policy = lonceng_desktop::platform::policy();
            let own = lonceng_desktop::settings::DesktopSettings::load(&data_dir.join("settings.json"));
            let settings = policy.over(own);
            // The way out the running app would take (Settings, IT's policy, the desktop's proxy).
            settings.use_network();
            let url = policy.update_url(cli.update_url.clone(), &settings);
            app.manage(update::UrlOverride(url));
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let code = update::command(&handle, yes).await;
                std::process::exit(code);
            });
            Ok(())
        })
        .build(context);
    match result {
        Ok(app) => {
            app.run(|_, _| {});
            0
        }
        Err(e) => {
            eprintln!("lonceng update: cannot start: {e}");
            1
        }
    }
}

/// ORG-1: a clicked `lonceng://sign-in?server=…` link: the runtime keeps its server for the agent's
/// answer in the window; a link that is not one is logged and ignored.
fn offer_link(handle: &tauri::AppHandle, link: &str) {
    let Some(app) = handle.try_state::<App>() else {
        return tracing::warn!("a sign-in link came before Lonceng was ready: click it again");
    };
    if let Err(e) = app.offer_sign_in_link(link) {
        tracing::warn!(error = %e, "a sign-in link was ignored");
    }
}
