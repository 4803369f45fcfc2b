//! The bell window. It exists only while wanted: built on a tray click, hidden when it loses focus
//! (unless pinned), and destroyed after a short linger so that no WebKit process stays alive while
//! Lonceng sits in the tray (docs/PERFORMANCE.md has the numbers).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use lonceng_desktop::readiness::Readiness;
use lonceng_desktop::views::UiEvent;
use lonceng_desktop::{memory, placement};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

pub const WINDOW: &str = "main";

/// Keeps the window open when it loses focus.
pub struct Pinned(pub AtomicBool);

/// When the window was last asked for: the window reports when its list is painted.
pub struct Shown(pub std::sync::Mutex<Option<std::time::Instant>>);

/// Whether the next toast readies the window (`lonceng_desktop::readiness`).
#[derive(Default)]
pub struct Ready(pub std::sync::Mutex<Readiness>);

/// Counts shows and hides, so that a delayed destroy or release knows whether it is still wanted;
/// and how long a hidden window is kept before it is destroyed, and WebKit with it: reopening it
/// within that time is instant, while a fresh WebKit process takes a quarter of a second here
/// (docs/PERFORMANCE.md). `--linger-ms` / `LONCENG_LINGER_MS` changes it (default 10 s).
pub struct Visits {
    count: AtomicU64,
    linger: Duration,
}

impl Visits {
    pub fn new(linger: Duration) -> Visits {
        Visits { count: AtomicU64::new(0), linger }
    }
    fn next(handle: &AppHandle) -> u64 {
        handle.state::<Visits>().count.fetch_add(1, Ordering::SeqCst) + 1
    }
    fn is_current(handle: &AppHandle, visit: u64) -> bool {
        handle.state::<Visits>().count.load(Ordering::SeqCst) == visit
    }
}

/// Shows the bell window, or hides it when it is shown.
pub fn toggle(handle: &AppHandle, at: Option<tauri::PhysicalPosition<f64>>) {
    match handle.get_webview_window(WINDOW) {
        Some(w) if w.is_visible().unwrap_or(false) => hide(handle),
        _ => show(handle, at),
    }
}

/// Hides the window; unless it is shown again meanwhile, destroys it after the linger ([`Visits`]),
/// then ends the network process WebKitGTK keeps and hands back the memory the window used
/// (`lonceng_desktop::memory` and its platform part say what and why). Hidden for longer than that, no WebKit process
/// is alive.
pub fn hide(handle: &AppHandle) {
    let Some(w) = handle.get_webview_window(WINDOW) else { return };
    tracing::debug!("bell window hidden");
    let _ = w.hide();
    destroy_after_linger(handle);
}

/// A toast appeared: an agent who sees one is likely to click, so the window is built hidden now
/// (its web process starts and the page loads) and a click only shows it. Unless shown, it goes
/// after the linger like a hidden window: WebKit lives on only for a while after a toast. Toasts
/// the agent lets pass ready it only now and then ([`Readiness`]).
pub fn prewarm(handle: &AppHandle) {
    let ready =
        handle.state::<Ready>().0.lock().unwrap_or_else(|p| p.into_inner()).toast(std::time::Instant::now());
    if !ready || handle.get_webview_window(WINDOW).is_some() {
        return;
    }
    if build(handle, None, false) {
        destroy_after_linger(handle);
    }
}

/// Once a fresh start has settled in the tray, what only the start used is handed back, as after
/// a window ([`memory::SETTLED_AFTER_START`]). A window shown meanwhile releases it itself.
pub fn release_after_start(handle: &AppHandle) {
    let visit = handle.state::<Visits>().count.load(Ordering::SeqCst);
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(memory::SETTLED_AFTER_START).await;
        if Visits::is_current(&handle, visit) && handle.get_webview_window(WINDOW).is_none() {
            lonceng_desktop::platform::release_webkit();
        }
    });
}

/// Unless the window is shown again meanwhile, destroys it after the linger, then releases WebKit.
fn destroy_after_linger(handle: &AppHandle) {
    let visit = Visits::next(handle);
    let linger = handle.state::<Visits>().linger;
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(linger).await;
        if !Visits::is_current(&handle, visit) {
            return;
        }
        if let Some(w) = handle.get_webview_window(WINDOW) {
            tracing::debug!("bell window destroyed after the linger");
            let _ = w.destroy();
        }
        for after in memory::RELEASES_AFTER_CLOSE {
            tokio::time::sleep(after).await;
            if !Visits::is_current(&handle, visit) || handle.get_webview_window(WINDOW).is_some() {
                return;
            }
            lonceng_desktop::platform::release_webkit();
        }
    });
}

/// The window's logical top-left corner for a click at `click` (physical pixels).
fn beside(handle: &AppHandle, click: tauri::PhysicalPosition<f64>, size: (f64, f64)) -> (f64, f64) {
    let Ok(Some(monitor)) = handle.monitor_from_point(click.x, click.y) else {
        return ((click.x - size.0 / 2.0).max(0.0), (click.y + placement::GAP).max(0.0));
    };
    let scale = monitor.scale_factor();
    let area = monitor.work_area();
    let work = placement::Rect {
        x: f64::from(area.position.x),
        y: f64::from(area.position.y),
        width: f64::from(area.size.width),
        height: f64::from(area.size.height),
    };
    let (x, y) = placement::beside_click((click.x, click.y), (size.0 * scale, size.1 * scale), work);
    (x / scale, y / scale)
}

pub fn show(handle: &AppHandle, at: Option<tauri::PhysicalPosition<f64>>) {
    Visits::next(handle);
    handle.state::<Ready>().0.lock().unwrap_or_else(|p| p.into_inner()).opened();
    *handle.state::<Shown>().0.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
    // Next to the tray icon when the click said where it is, on that screen's work area.
    let position = at.map(|p| beside(handle, p, SIZE));
    let alive = handle.get_webview_window(WINDOW);
    tracing::debug!(?position, built = alive.is_none(), "bell window shown");
    if let Some(w) = alive {
        // Still alive (shown, or hidden within the linger): no new WebKit process.
        if let Some((x, y)) = position {
            let _ = w.set_position(tauri::LogicalPosition::new(x, y));
        }
        let _ = w.show();
        let _ = w.set_focus();
        let _ = w.emit(&UiEvent::Shown.channel(), ());
        return;
    }
    build(handle, position, true);
}

/// The window's size, in logical pixels.
const SIZE: (f64, f64) = (400.0, 640.0);

/// Builds the bell window (and so starts its web process), shown or not; whether it was built.
fn build(handle: &AppHandle, position: Option<(f64, f64)>, visible: bool) -> bool {
    let mut builder = WebviewWindowBuilder::new(handle, WINDOW, WebviewUrl::App("index.html".into()))
        .title("Lonceng")
        .inner_size(SIZE.0, SIZE.1)
        .min_inner_size(340.0, 420.0)
        .skip_taskbar(true)
        // A flyout, as tray popups are: its own header (which drags it) instead of a frame
        // whose size the window manager decides, so that it lands exactly by the icon.
        .decorations(false)
        .always_on_top(true)
        .visible(visible)
        .focused(visible);
    if let Some((x, y)) = position {
        builder = builder.position(x, y);
    }
    // The first page comes with the document rather than over IPC after it.
    match handle.state::<crate::App>().first_paint().and_then(|f| f.script()) {
        Ok(script) => builder = builder.initialization_script(&script),
        Err(e) => tracing::warn!(error = %e, "the window asks for its first page instead"),
    }
    match builder.build() {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "the bell window could not be opened");
            false
        }
    }
}

/// Hidden when it loses focus, unless pinned.
pub fn on_focus_lost(window: &tauri::Window) {
    let visible = window.is_visible().unwrap_or(false);
    tracing::debug!(visible, "bell window lost focus");
    if visible && !window.state::<Pinned>().0.load(Ordering::SeqCst) {
        hide(window.app_handle());
    }
}
