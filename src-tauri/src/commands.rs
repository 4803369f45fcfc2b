//! The window's commands: one call each into `lonceng_desktop`, grouped as the window uses them.
//! Errors cross as the one serialisable [`AppError`].

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use lonceng_client::store::{PageCursor, Scope};
use lonceng_client::sync::SyncStatus;
use lonceng_client::toast::{QuietState, Reason, SnoozeTimes};
use lonceng_desktop::error::AppError;
use lonceng_desktop::settings::{SettingsChanges, SettingsView};
use lonceng_desktop::views::{
    CountsView, MarkAllView, PageView, QuarantineView, SearchView, SnoozedView, UpdateOffer,
};
use lonceng_domain::model::Tab;
use tauri::{AppHandle, State};

use crate::window::{Pinned, Shown};
use crate::App;

// ---- the list ----

#[tauri::command(async)]
pub fn page(
    app: State<'_, App>,
    scope: Scope,
    unread_only: bool,
    after: Option<PageCursor>,
    limit: usize,
) -> Result<PageView, AppError> {
    app.page(scope, unread_only, after, limit)
}

#[tauri::command(async)]
pub fn counts(app: State<'_, App>) -> Result<CountsView, AppError> {
    app.counts()
}

#[tauri::command(async)]
pub fn status(app: State<'_, App>) -> SyncStatus {
    app.status()
}

#[tauri::command(async)]
pub fn why(app: State<'_, App>, id: String) -> Option<Reason> {
    app.why(&id)
}

#[tauri::command(async)]
pub fn quarantine(app: State<'_, App>) -> Result<QuarantineView, AppError> {
    app.quarantine()
}

// ---- actions ----

#[tauri::command(async)]
pub fn mark_read(app: State<'_, App>, id: String) -> Result<(), AppError> {
    app.mark_read(&id)
}

#[tauri::command(async)]
pub fn open_item(app: State<'_, App>, id: String) -> Result<(), AppError> {
    app.open_item(&id)
}

#[tauri::command(async)]
pub fn mark_all_read(app: State<'_, App>, scope: Scope) -> Result<MarkAllView, AppError> {
    app.mark_all_read(scope)
}

#[tauri::command(async)]
pub fn undo(app: State<'_, App>, token: String) -> Result<bool, AppError> {
    app.undo(&token)
}

// ---- snooze, search, gaps, quiet ----

#[tauri::command(async)]
pub fn snooze(app: State<'_, App>, id: String, until: DateTime<Utc>) -> Result<bool, AppError> {
    app.snooze(&id, until)
}

#[tauri::command(async)]
pub fn unsnooze(app: State<'_, App>, id: String) -> Result<bool, AppError> {
    app.unsnooze(&id)
}

#[tauri::command(async)]
pub fn snoozed(app: State<'_, App>) -> Result<Vec<SnoozedView>, AppError> {
    app.snoozed()
}

#[tauri::command(async)]
pub fn snooze_times(app: State<'_, App>) -> Result<SnoozeTimes, AppError> {
    app.snooze_times()
}

#[tauri::command(async)]
pub fn search(
    app: State<'_, App>,
    text: String,
    scope: Option<Scope>,
    unread_only: bool,
) -> Result<SearchView, AppError> {
    app.search(&text, scope, unread_only)
}

#[tauri::command(async)]
pub fn gaps(app: State<'_, App>) -> Result<Vec<Tab>, AppError> {
    app.gaps()
}

#[tauri::command(async)]
pub fn dismiss_gap(app: State<'_, App>, tab: Tab) -> Result<(), AppError> {
    app.dismiss_gap(tab)
}

/// Whether toasts are held now (quiet hours, a pause), and until when.
#[tauri::command(async)]
pub fn quiet(app: State<'_, App>) -> Option<QuietState> {
    app.quiet()
}

/// Ends a pause, or the quiet hours running now (the window's "Resume").
#[tauri::command]
pub async fn resume(app: State<'_, App>) -> Result<(), AppError> {
    app.resume().await
}

// ---- settings ----

#[tauri::command(async)]
pub fn settings(app: State<'_, App>) -> SettingsView {
    app.settings()
}

/// The signed update on offer, if any.
#[tauri::command]
pub fn update_offer(app: State<'_, App>) -> Option<UpdateOffer> {
    app.update_offer()
}

/// The agent's consent to install the offered update (the app restarts into it).
#[tauri::command]
pub async fn install_update(handle: AppHandle) -> Result<(), AppError> {
    crate::update::install(&handle).await
}

/// Settings → Diagnose: `lonceng doctor`'s report, from the running app.
#[tauri::command]
pub async fn diagnose(app: State<'_, App>) -> Result<lonceng_client::doctor::Report, AppError> {
    Ok(app.diagnose().await)
}

#[tauri::command]
pub async fn save_settings(
    app: State<'_, App>,
    handle: AppHandle,
    changes: SettingsChanges,
) -> Result<SettingsView, AppError> {
    let new_update_url = changes.update_url.is_some();
    let view = app.save_settings(changes).await?;
    if new_update_url {
        tauri::async_runtime::spawn(async move { crate::update::refresh(&handle).await });
    }
    Ok(view)
}

// ---- the window itself ----

#[tauri::command(async)]
pub fn set_pinned(pinned: State<'_, Pinned>, on: bool) {
    pinned.0.store(on, Ordering::SeqCst);
}

/// The window painted its first list: how long that took since it was asked for, and how much of
/// it the page itself took (from the start of its load).
#[tauri::command(async)]
pub fn painted(shown: State<'_, Shown>, page_ms: Option<u64>) {
    match shown.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
        Some(at) => tracing::info!(ms = at.elapsed().as_millis() as u64, page_ms, "bell window painted"),
        // Readied hidden after a toast: nobody is waiting yet.
        None => tracing::info!(page_ms, "bell window readied"),
    }
}
