//! Signed updates through tauri-plugin-updater. The organisation sets a manifest URL (Settings, or
//! `LONCENG_UPDATE_URL`); with none set, nothing is ever checked (the default, and always in the
//! demo). A newer version is offered in the tray menu and the window, and installed only when the
//! agent says so: the package is checked against the public key built into the app (minisign),
//! so a tampered package is refused, and an older version is never offered.
//!
//! `lonceng update [--yes]` does the same from a terminal (and is what the install test drives).

use std::sync::Mutex;
use std::time::Duration;

use lonceng_desktop::error::AppError;
use lonceng_desktop::views::UpdateOffer;
use lonceng_domain::net::Route;
use tauri::{AppHandle, Manager};
use tauri_plugin_updater::{Update, UpdaterExt};

use crate::App;

/// How often a running app looks again.
const EVERY: Duration = Duration::from_secs(6 * 60 * 60);
/// A download may take this long (the plugin has no limit of its own for it).
const DOWNLOAD: Duration = Duration::from_secs(10 * 60);

/// The manifest URL from the command line or environment (it wins over the settings).
pub struct UrlOverride(pub Option<String>);

/// The update last found, ready to install on consent.
#[derive(Default)]
pub struct Pending(Mutex<Option<Update>>);

/// The manifest's address: the running app's (`Desktop::update_url`), else the command line's.
fn url(handle: &AppHandle) -> Option<String> {
    let flag = handle.state::<UrlOverride>().0.clone();
    match handle.try_state::<App>() {
        Some(app) => app.update_url(flag),
        None => flag.filter(|u| !u.trim().is_empty()),
    }
}

/// Looks at the manifest: `Ok(None)` when there is nothing newer (or no URL is set).
pub async fn check(handle: &AppHandle) -> Result<Option<Update>, String> {
    let Some(url) = url(handle) else { return Ok(None) };
    let endpoint = url.parse().map_err(|e| format!("the update address '{url}' is not a URL: {e}"))?;
    // The way out the sync takes (Settings, IT's policy, the desktop's proxy); its trust store is
    // the operating system's too (the updater's reqwest verifies with the platform's).
    let builder = match lonceng_domain::net::route(&url) {
        Route::Direct => handle.updater_builder().no_proxy(),
        Route::Via(proxy) => match proxy.parse() {
            Ok(proxy) => handle.updater_builder().proxy(proxy),
            Err(e) => return Err(format!("the proxy cannot be used: {e}")),
        },
        Route::System => handle.updater_builder(),
    };
    let updater = builder
        .endpoints(vec![endpoint])
        .and_then(|b| b.timeout(Duration::from_secs(30)).build())
        .map_err(|e| e.to_string())?;
    let mut update = updater.check().await.map_err(|e| e.to_string())?;
    if let Some(u) = update.as_mut() {
        u.timeout = Some(DOWNLOAD);
    }
    Ok(update)
}

/// Checks now and then, and offers what it finds.
pub fn follow(handle: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            refresh(&handle).await;
            tokio::time::sleep(EVERY).await;
        }
    });
}

/// One check; the offer in the tray and the window follows its outcome.
pub async fn refresh(handle: &AppHandle) {
    let Some(app) = handle.try_state::<App>() else { return };
    match check(handle).await {
        Ok(Some(update)) => {
            tracing::info!(version = %update.version, "a signed update is available");
            app.offer_update(Some(UpdateOffer {
                version: update.version.clone(),
                notes: update.body.clone(),
                error: None,
            }));
            *handle.state::<Pending>().0.lock().unwrap_or_else(|p| p.into_inner()) = Some(update);
        }
        Ok(None) => {
            handle.state::<Pending>().0.lock().unwrap_or_else(|p| p.into_inner()).take();
            if app.update_offer().is_some() {
                app.offer_update(None);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not check for updates"),
    }
}

/// The agent's consent: downloads, verifies and installs the offered update, then restarts.
pub async fn install(handle: &AppHandle) -> Result<(), AppError> {
    let pending = handle.state::<Pending>().0.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(update) = pending else {
        return Err(AppError::Invalid("no update is on offer".into()));
    };
    if let Err(e) = update.download_and_install(|_, _| {}, || {}).await {
        let message = e.to_string();
        tracing::warn!(error = %message, version = %update.version, "the update was not installed");
        if let Some(app) = handle.try_state::<App>() {
            app.offer_update(Some(UpdateOffer {
                version: update.version.clone(),
                notes: update.body.clone(),
                error: Some(message.clone()),
            }));
        }
        return Err(AppError::Invalid(format!("the update was not installed: {message}")));
    }
    tracing::info!(version = %update.version, "update installed; restarting");
    if let Some(app) = handle.try_state::<App>() {
        app.stop().await;
    }
    handle.restart()
}

/// `lonceng update [--yes]`: prints what it found and, with `--yes`, installs it. Exit code 0
/// when up to date or installed (or found without consent), 1 when refused or failed.
pub async fn command(handle: &AppHandle, yes: bool) -> i32 {
    let current = handle.package_info().version.to_string();
    match check(handle).await {
        Ok(None) if url(handle).is_none() => {
            eprintln!("lonceng update: no update address is set (Settings, or LONCENG_UPDATE_URL)");
            1
        }
        Ok(None) => {
            println!("Lonceng {current} is up to date.");
            0
        }
        Ok(Some(update)) if !yes => {
            println!(
                "Lonceng {} is available (this is {current}); run `lonceng update --yes` to install it.",
                update.version
            );
            0
        }
        Ok(Some(update)) => match update.download_and_install(|_, _| {}, || {}).await {
            Ok(()) => {
                println!("Lonceng {} is installed; it starts with the next launch.", update.version);
                0
            }
            Err(e) => {
                eprintln!("lonceng update: {} was not installed: {e}", update.version);
                1
            }
        },
        Err(e) => {
            eprintln!("lonceng update: {e}");
            1
        }
    }
}
