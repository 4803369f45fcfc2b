//! The floor of the cold click (issue 25): a bare Tauri window that paints one line, built on a tray
//! click as Lonceng's bell window is (same size and kind of window, same WebKit environment) and
//! released the same way after it, so that what it measures is WebKit starting its processes and
//! nothing of Lonceng's. `tests/gui/bench.mjs` runs it in the same run as the app:
//!
//!   cargo build --release -p lonceng --features demo,tauri/custom-protocol --example floor
//!
//! It prints `floor painted ms=… page_ms=…` per click, as the app logs `bell window painted`: the
//! time from the click to the frame after the next, and the page's part of it (from its load to
//! its first frame painted), measured as the bell window measures its own.

use std::sync::Mutex;
use std::time::Instant;

use tauri::http::Response;
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

const PAGE: &str = "<!doctype html><html lang=en><meta charset=utf-8><title>Floor</title>\
<p>One line.</p><script>requestAnimationFrame(() => {\
const drawn = new Promise((r) => setTimeout(() => r(Math.round(performance.now()))));\
requestAnimationFrame(() => drawn.then((page) => { new Image().src = 'floor://localhost/painted?page=' + page; })); });\
</script></html>";

/// When the window was last asked for.
struct Clicked(Mutex<Option<Instant>>);

fn main() {
    lonceng_desktop::platform::prepare_webkit();
    let result = tauri::Builder::default()
        .manage(Clicked(Mutex::new(None)))
        .register_uri_scheme_protocol("floor", |ctx, request| {
            if let Some(page) = request.uri().query().and_then(|q| q.strip_prefix("page=")) {
                if let Some(at) =
                    ctx.app_handle().state::<Clicked>().0.lock().unwrap_or_else(|p| p.into_inner()).take()
                {
                    println!("floor painted ms={} page_ms={page}", at.elapsed().as_millis());
                }
                return Response::new(Vec::new());
            }
            let mut response = Response::new(PAGE.as_bytes().to_vec());
            response.headers_mut().insert("content-type", tauri::http::HeaderValue::from_static("text/html"));
            response
        })
        .setup(|app| {
            let mut tray =
                TrayIconBuilder::with_id("floor").tooltip("Floor").on_tray_icon_event(|tray, event| {
                    if let TrayIconEvent::Click {
                        button: MouseButton::Left,
                        button_state: MouseButtonState::Up,
                        ..
                    } = event
                    {
                        toggle(tray.app_handle());
                    }
                });
            if let Some(icon) = app.default_window_icon() {
                tray = tray.icon(icon.clone());
            }
            tray.build(app)?;
            Ok(())
        })
        .build(tauri::generate_context!());
    match result {
        // The app lives in the tray: no window open is no reason to exit.
        Ok(app) => app.run(|_, event| {
            if let tauri::RunEvent::ExitRequested { api, code: None, .. } = event {
                api.prevent_exit();
            }
        }),
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::exit(1);
        }
    }
}

/// Builds the window, or destroys it and releases WebKit as the app does after its linger (on the
/// same schedule, unless the window is back meanwhile).
fn toggle(handle: &AppHandle) {
    if let Some(w) = handle.get_webview_window("floor") {
        let _ = w.destroy();
        let handle = handle.clone();
        std::thread::spawn(move || {
            for after in lonceng_desktop::memory::RELEASES_AFTER_CLOSE {
                std::thread::sleep(after);
                if handle.get_webview_window("floor").is_some() {
                    return;
                }
                lonceng_desktop::platform::release_webkit();
            }
        });
        return;
    }
    *handle.state::<Clicked>().0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    let url = WebviewUrl::CustomProtocol("floor://localhost/".parse().expect("a valid URL"));
    let built = WebviewWindowBuilder::new(handle, "floor", url)
        .title("Floor")
        .inner_size(400.0, 640.0)
        .skip_taskbar(true)
        .decorations(false)
        .always_on_top(true)
        .focused(true)
        .build();
    if let Err(e) = built {
        eprintln!("floor: the window: {e}");
    }
}
