//! Lonceng's desktop shell: the tray, the bell window, and commands that are one call each into
//! `lonceng_desktop::app::Desktop`, where everything else lives (and is tested headless).
//!
//! The window exists only while shown: it is built on a tray click and destroyed when hidden, so no
//! WebKit process is alive while Lonceng sits in the tray (docs/PERFORMANCE.md has the numbers).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as ChronoDuration, Local, Utc};
use lonceng_core::i18n::Lang;
use lonceng_core::model::Tab;
use lonceng_core::store::{PageCursor, Scope};
use lonceng_core::sync::{ConnState, SyncStatus};
use lonceng_core::toast::Reason;
use lonceng_desktop::app::{
    AppError, CountsView, Desktop, MarkAllView, Options, PageView, SettingsChanges, SettingsView, UiEvent,
};
use tauri::image::Image;
use tauri::menu::{CheckMenuItemBuilder, Menu, MenuBuilder, MenuItemBuilder, SubmenuBuilder};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Manager, RunEvent, State, WebviewUrl, WebviewWindowBuilder, WindowEvent};
use tauri_plugin_autostart::{MacosLauncher, ManagerExt};

const WINDOW: &str = "main";
const TRAY: &str = "lonceng";
const ICON: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_UNREAD: &[u8] = include_bytes!("../../icons/tray-unread.png");
const ICON_OFFLINE: &[u8] = include_bytes!("../../icons/tray-offline.png");

type App = Arc<Desktop>;

/// Keeps the window open when it loses focus.
struct Pinned(AtomicBool);

/// When the window was last asked for: the window reports when its list is painted.
struct Shown(std::sync::Mutex<Option<std::time::Instant>>);

#[tauri::command(async)]
fn page(
    app: State<'_, App>,
    scope: Scope,
    unread_only: bool,
    after: Option<PageCursor>,
    limit: usize,
) -> Result<PageView, AppError> {
    app.page(scope, unread_only, after, limit)
}
#[tauri::command(async)]
fn counts(app: State<'_, App>) -> Result<CountsView, AppError> {
    app.counts()
}
#[tauri::command(async)]
fn status(app: State<'_, App>) -> SyncStatus {
    app.status()
}
#[tauri::command(async)]
fn mark_read(app: State<'_, App>, id: String) -> Result<(), AppError> {
    app.mark_read(&id)
}
#[tauri::command(async)]
fn open_item(app: State<'_, App>, id: String) -> Result<(), AppError> {
    app.open_item(&id)
}
#[tauri::command(async)]
fn mark_all_read(app: State<'_, App>, scope: Scope) -> Result<MarkAllView, AppError> {
    app.mark_all_read(scope)
}
#[tauri::command(async)]
fn undo(app: State<'_, App>, token: String) -> Result<bool, AppError> {
    app.undo(&token)
}
#[tauri::command(async)]
fn why(app: State<'_, App>, id: String) -> Option<Reason> {
    app.why(&id)
}
#[tauri::command(async)]
fn settings(app: State<'_, App>) -> SettingsView {
    app.settings()
}
#[tauri::command]
async fn save_settings(
    handle: AppHandle,
    app: State<'_, App>,
    changes: SettingsChanges,
) -> Result<SettingsView, AppError> {
    let autostart = changes.autostart;
    let view = app.save_settings(changes).await?;
    if let Some(on) = autostart {
        set_autostart(&handle, on);
    }
    Ok(view)
}
#[tauri::command(async)]
fn set_pinned(pinned: State<'_, Pinned>, on: bool) {
    pinned.0.store(on, Ordering::SeqCst);
}
/// The window painted its first list: how long that took since it was asked for, and how much of
/// it the page itself took (from the start of its load).
#[tauri::command(async)]
fn painted(shown: State<'_, Shown>, page_ms: Option<u64>) {
    if let Some(at) = shown.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
        tracing::info!(ms = at.elapsed().as_millis() as u64, page_ms, "bell window painted");
    }
}

fn set_autostart(handle: &AppHandle, on: bool) {
    let launcher = handle.autolaunch();
    let result = if on { launcher.enable() } else { launcher.disable() };
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not change start at login");
    }
}

/// Shows the bell window, or hides it when it is shown.
fn toggle_window(handle: &AppHandle, at: Option<tauri::PhysicalPosition<f64>>) {
    match handle.get_webview_window(WINDOW) {
        Some(w) if w.is_visible().unwrap_or(false) => hide_window(handle),
        _ => show_window(handle, at),
    }
}

/// Counts shows and hides, so that a delayed destroy or release knows whether it is still wanted;
/// and how long a hidden window is kept before it is destroyed, and WebKit with it: reopening it
/// within that time is instant, while a fresh WebKit process takes a quarter of a second here
/// (docs/PERFORMANCE.md). `LONCENG_LINGER_MS` changes it (default 10 s).
struct Visits {
    count: AtomicU64,
    linger: Duration,
}

impl Visits {
    fn next(handle: &AppHandle) -> u64 {
        handle.state::<Visits>().count.fetch_add(1, Ordering::SeqCst) + 1
    }
    fn is_current(handle: &AppHandle, visit: u64) -> bool {
        handle.state::<Visits>().count.load(Ordering::SeqCst) == visit
    }
}

/// Hides the window; unless it is shown again meanwhile, destroys it after the linger ([`Visits`]), then ends
/// the network process WebKitGTK keeps and hands back the memory the window used
/// (`lonceng_desktop::memory` says what and why). Hidden for longer than that, no WebKit process
/// is alive.
fn hide_window(handle: &AppHandle) {
    let Some(w) = handle.get_webview_window(WINDOW) else { return };
    let _ = w.hide();
    let visit = Visits::next(handle);
    let linger = handle.state::<Visits>().linger;
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(linger).await;
        if !Visits::is_current(&handle, visit) {
            return;
        }
        if let Some(w) = handle.get_webview_window(WINDOW) {
            let _ = w.destroy();
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        if Visits::is_current(&handle, visit) && handle.get_webview_window(WINDOW).is_none() {
            release_webkit();
        }
    });
}

#[cfg(target_os = "linux")]
fn release_webkit() {
    use lonceng_desktop::memory;
    let ended = memory::end_children("WebKitNetwork");
    match memory::trim() {
        Ok(t) => tracing::debug!(ended, regions = t.regions, mb = t.bytes >> 20, "WebKit released"),
        Err(e) => tracing::warn!(error = %e, "could not hand back the window's memory"),
    }
}

#[cfg(not(target_os = "linux"))]
fn release_webkit() {}

fn show_window(handle: &AppHandle, at: Option<tauri::PhysicalPosition<f64>>) {
    Visits::next(handle);
    *handle.state::<Shown>().0.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
    let (width, height) = (400.0, 640.0);
    // Next to the tray icon when the click said where it is.
    let position = at.map(|p| ((p.x - width / 2.0).max(0.0), (p.y + 16.0).max(0.0)));
    if let Some(w) = handle.get_webview_window(WINDOW) {
        // Still alive (shown, or hidden within the linger): no new WebKit process.
        if let Some((x, y)) = position {
            let _ = w.set_position(tauri::LogicalPosition::new(x, y));
        }
        let _ = w.show();
        let _ = w.set_focus();
        let _ = w.emit("lonceng://shown", ());
        return;
    }
    let mut builder = WebviewWindowBuilder::new(handle, WINDOW, WebviewUrl::App("index.html".into()))
        .title("Lonceng")
        .inner_size(width, height)
        .min_inner_size(340.0, 420.0)
        .skip_taskbar(true)
        .always_on_top(true)
        .focused(true);
    if let Some((x, y)) = position {
        builder = builder.position(x, y);
    }
    if let Err(e) = builder.build() {
        tracing::error!(error = %e, "the bell window could not be opened");
    }
}

fn tray_menu(handle: &AppHandle, app: &Desktop) -> tauri::Result<Menu<tauri::Wry>> {
    let lang = app.lang();
    let t = |id: &str| app.catalog().message(lang, id, &[]);
    let pause = SubmenuBuilder::new(handle, t("tray-pause"))
        .item(&MenuItemBuilder::with_id("pause-hour", t("tray-pause-hour")).build(handle)?)
        .item(&MenuItemBuilder::with_id("pause-tomorrow", t("tray-pause-tomorrow")).build(handle)?)
        .item(
            &MenuItemBuilder::with_id("resume", t("tray-resume"))
                .enabled(app.paused_until().is_some())
                .build(handle)?,
        )
        .build()?;
    let language = SubmenuBuilder::new(handle, t("tray-language"))
        .item(
            &CheckMenuItemBuilder::with_id("lang-en", Lang::En.native_name())
                .checked(lang == Lang::En)
                .build(handle)?,
        )
        .item(
            &CheckMenuItemBuilder::with_id("lang-id", Lang::Id.native_name())
                .checked(lang == Lang::Id)
                .build(handle)?,
        )
        .build()?;
    let autostart = CheckMenuItemBuilder::with_id("autostart", t("tray-autostart"))
        .checked(app.settings().settings.autostart)
        .build(handle)?;
    MenuBuilder::new(handle)
        .item(&MenuItemBuilder::with_id("open", t("tray-open")).build(handle)?)
        .item(&MenuItemBuilder::with_id("mark-all", t("tray-mark-all-read")).build(handle)?)
        .item(&pause)
        .item(&language)
        .item(&autostart)
        .item(&MenuItemBuilder::with_id("settings", t("tray-settings")).build(handle)?)
        .separator()
        .item(&MenuItemBuilder::with_id("quit", t("tray-quit")).build(handle)?)
        .build()
}

/// NC-R14: the unread count in the tooltip and the icon; offline shows as such.
fn refresh_tray(handle: &AppHandle, app: &Desktop) {
    let Some(tray) = handle.tray_by_id(TRAY) else { return };
    let lang = app.lang();
    let total = app.unread_total();
    let offline = !matches!(app.status().state, ConnState::Connected { .. });
    let mut tip = format!(
        "Lonceng — {}",
        app.catalog().message(lang, "unread-count", &[("count", (total as i64).into())])
    );
    if offline {
        tip.push_str(&format!(" · {}", app.catalog().message(lang, "status-offline", &[])));
    }
    let icon = if offline {
        ICON_OFFLINE
    } else if total > 0 {
        ICON_UNREAD
    } else {
        ICON
    };
    if let Ok(image) = Image::from_bytes(icon) {
        let _ = tray.set_icon(Some(image));
    }
    let _ = tray.set_tooltip(Some(&tip));
    let _ = tray.set_title(if total > 0 { Some(total.to_string()) } else { None });
}

fn on_menu(handle: &AppHandle, id: &str) {
    let app: App = handle.state::<App>().inner().clone();
    match id {
        "open" => show_window(handle, None),
        "settings" => {
            show_window(handle, None);
            let _ = handle.emit("lonceng://open-settings", ());
        }
        "mark-all" => {
            for tab in Tab::ALL {
                if let Err(e) = app.mark_all_read(Scope { tab: *tab, category: None }) {
                    tracing::warn!(error = %e, "mark all read from the tray");
                }
            }
        }
        "pause-hour" | "pause-tomorrow" | "resume" => {
            let until = match id {
                "pause-hour" => Some(Utc::now() + ChronoDuration::hours(1)),
                "pause-tomorrow" => lonceng_desktop::app::tomorrow_morning(Local::now()),
                _ => None,
            };
            let h = handle.clone();
            tauri::async_runtime::spawn(async move {
                let _ = app.pause(until).await;
                rebuild_menu(&h);
            });
        }
        "lang-en" | "lang-id" => {
            let lang = if id == "lang-en" { Lang::En } else { Lang::Id };
            let h = handle.clone();
            tauri::async_runtime::spawn(async move {
                let _ = app
                    .save_settings(SettingsChanges { lang: Some(lang), ..SettingsChanges::default() })
                    .await;
                rebuild_menu(&h);
            });
        }
        "autostart" => {
            let on = !app.settings().settings.autostart;
            let h = handle.clone();
            tauri::async_runtime::spawn(async move {
                let _ = app
                    .save_settings(SettingsChanges { autostart: Some(on), ..SettingsChanges::default() })
                    .await;
                set_autostart(&h, on);
            });
        }
        "quit" => {
            let h = handle.clone();
            tauri::async_runtime::spawn(async move {
                app.stop().await;
                h.exit(0);
            });
        }
        _ => {}
    }
}

fn rebuild_menu(handle: &AppHandle) {
    let app: App = handle.state::<App>().inner().clone();
    if let (Some(tray), Ok(menu)) = (handle.tray_by_id(TRAY), tray_menu(handle, &app)) {
        let _ = tray.set_menu(Some(menu));
    }
    refresh_tray(handle, &app);
}

fn build_tray(handle: &AppHandle, app: &Desktop) -> tauri::Result<TrayIcon> {
    TrayIconBuilder::with_id(TRAY)
        .icon(Image::from_bytes(ICON)?)
        .tooltip("Lonceng")
        .menu(&tray_menu(handle, app)?)
        .show_menu_on_left_click(false)
        .on_menu_event(|h, e| on_menu(h, e.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                position,
                ..
            } = event
            {
                toggle_window(tray.app_handle(), Some(position));
            }
        })
        .build(handle)
}

fn main() {
    // Before any thread starts and before WebKit reads them.
    #[cfg(target_os = "linux")]
    lonceng_desktop::memory::prepare_webkit();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let demo = std::env::args().any(|a| a == "--demo");
    let pinned = std::env::var_os("LONCENG_PINNED").is_some();
    let show_at_start = std::env::args().any(|a| a == "--show");
    let env_u64 = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());

    let result = tauri::Builder::default()
        // First: a second launch shows the running one's window instead of starting again.
        .plugin(tauri_plugin_single_instance::init(|handle, _args, _cwd| show_window(handle, None)))
        .plugin(tauri_plugin_autostart::init(MacosLauncher::LaunchAgent, Some(vec!["--hidden"])))
        .manage(Pinned(AtomicBool::new(pinned)))
        .manage(Shown(std::sync::Mutex::new(None)))
        .manage(Visits { count: AtomicU64::new(0), linger: Duration::from_millis(env_u64("LONCENG_LINGER_MS").unwrap_or(10_000)) })
        .invoke_handler(tauri::generate_handler![
            page, counts, status, mark_read, open_item, mark_all_read, undo, why, settings, save_settings, set_pinned, painted
        ])
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            let data_dir = std::env::var_os("LONCENG_DATA_DIR")
                .map(std::path::PathBuf::from)
                .map_or_else(|| tauri_app.path().app_data_dir(), Ok)?;
            let emitter = handle.clone();
            let (tray_tx, mut tray_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
            let notify = Arc::new(move |e: UiEvent| {
                let name = match e {
                    UiEvent::Changed => "lonceng://changed",
                    UiEvent::Status => "lonceng://status",
                    UiEvent::Settings => "lonceng://settings",
                };
                let _ = emitter.emit(name, ());
                let _ = tray_tx.send(());
            });
            let demo_pace = Duration::from_millis(env_u64("LONCENG_DEMO_PACE_MS").unwrap_or(4_000));
            let app = tauri::async_runtime::block_on(Desktop::start(
                Options { data_dir, demo, demo_pace, demo_events: env_u64("LONCENG_DEMO_EVENTS") },
                notify,
            ))
            .map_err(|e| anyhow::anyhow!("Lonceng could not start: {e}"))?;
            tauri_app.manage(app.clone());
            set_autostart(&handle, app.settings().settings.autostart);
            if let Err(e) = build_tray(&handle, &app) {
                // No StatusNotifierWatcher or no tray host: keep running; a second launch opens the window.
                tracing::warn!(error = %e, "no system tray on this desktop; run `lonceng` again to open the window");
            }
            refresh_tray(&handle, &app);
            // Tray updates in batches: a burst of changes is one refresh.
            let tray_handle = handle.clone();
            tauri::async_runtime::spawn(async move {
                while tray_rx.recv().await.is_some() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    while tray_rx.try_recv().is_ok() {}
                    let app: App = tray_handle.state::<App>().inner().clone();
                    refresh_tray(&tray_handle, &app);
                }
            });
            if show_at_start {
                show_window(&handle, None);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Hidden when it loses focus, unless pinned.
            if let WindowEvent::Focused(false) = event {
                let visible = window.is_visible().unwrap_or(false);
                if visible && !window.state::<Pinned>().0.load(Ordering::SeqCst) {
                    hide_window(window.app_handle());
                }
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
