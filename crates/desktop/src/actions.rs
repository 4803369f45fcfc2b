//! The one path for what the agent does: mark read (and unread again), open, a toast clicked or its button, mark all
//! read (scoped, NC-R6), undo, snooze and unsnooze (and a snooze coming due), a gap marker
//! dismissed. Each action writes the store and the outbox in one transaction
//! (MW-6), nudges sync so that it reaches the server now, tells the toast center (a toast for an
//! item read here is withdrawn, NC-R13), and emits one UI event for the window and the tray. The
//! window's commands, the toasts and the tray all come here, so none of them can forget a step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lonceng_client::store::{MarkAllReport, Scope, Store, UNDO_WINDOW};
use lonceng_client::sync::{SharedStore, SyncEvent};
use lonceng_client::toast::{Activated, ToastAction, ToastCenter};
use lonceng_domain::clock::Clock;
use lonceng_domain::link::Links;
use lonceng_domain::model::Notification;
use lonceng_domain::model::Tab;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;

use crate::error::AppError;
use crate::views::{MarkAllView, UiEvent};

/// Called with each UI event: the window and the tray refresh.
pub type UiNotify = Arc<dyn Fn(UiEvent) + Send + Sync>;

/// Asks sync to send what is queued now (nothing happens while it is not running).
pub type Nudge = Arc<dyn Fn() + Send + Sync>;

pub struct Actions {
    store: SharedStore,
    clock: Arc<dyn Clock>,
    links: Arc<Links>,
    nudge: Nudge,
    /// The app's one event channel: the toast center hears local reads as it hears remote ones.
    events: UnboundedSender<SyncEvent>,
    /// Which items have a toast now (to withdraw after a mark-all).
    toasts: OnceLock<Arc<ToastCenter>>,
    ui: UiNotify,
    undos: Mutex<HashMap<String, MarkAllReport>>,
    /// Where timers run: actions also come from threads without a runtime (the tray's menu).
    runtime: Option<tokio::runtime::Handle>,
    /// Wakes the snooze timer when a snooze is set or moved.
    snoozes: Arc<Notify>,
}

impl Actions {
    pub fn new(
        store: SharedStore,
        clock: Arc<dyn Clock>,
        links: Arc<Links>,
        nudge: Nudge,
        events: UnboundedSender<SyncEvent>,
        ui: UiNotify,
    ) -> Actions {
        Actions {
            store,
            clock,
            links,
            nudge,
            events,
            toasts: OnceLock::new(),
            ui,
            undos: Mutex::new(HashMap::new()),
            runtime: tokio::runtime::Handle::try_current().ok(),
            snoozes: Arc::new(Notify::new()),
        }
    }

    /// The toast center, once built (it is built with a callback into these actions).
    pub fn set_toasts(&self, toasts: Arc<ToastCenter>) {
        let _ = self.toasts.set(toasts);
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After items were read here: to the server now, their toasts withdrawn, the window told.
    fn read_here(&self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        (self.nudge)();
        let _ = self.events.send(SyncEvent::Read { ids });
        (self.ui)(UiEvent::Changed);
    }

    /// Marks the items read, skipping any the store no longer has; returns those that were unread.
    fn mark_ids(&self, ids: &[String]) -> Vec<String> {
        let now = self.clock.now();
        let mut store = self.store();
        ids.iter()
            .filter(|id| match store.mark_read(id, now) {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::warn!(error = %e, id = %id, "could not mark read");
                    false
                }
            })
            .cloned()
            .collect()
    }

    /// NC-R8: one item, from the window.
    pub fn mark_read(&self, id: &str) -> Result<(), AppError> {
        let changed = self.store().mark_read(id, self.clock.now())?;
        if changed {
            self.read_here(vec![id.to_owned()]);
        }
        Ok(())
    }

    /// ORG-7: one item unread again, from the window; it reaches the server (and the agent's other
    /// devices) as a read does. No toast: the agent has seen it.
    pub fn mark_unread(&self, id: &str) -> Result<(), AppError> {
        if self.store().mark_unread(id, self.clock.now())? {
            (self.nudge)();
            (self.ui)(UiEvent::Changed);
        }
        Ok(())
    }

    /// NC-R7: opens the page (only on allowed hosts) and marks the item read. The agent saw it
    /// either way: it is marked read even when the page is refused.
    pub fn open(&self, id: &str) -> Result<(), AppError> {
        let item = self.store().get(id)?.ok_or_else(|| AppError::NotFound(id.to_owned()))?;
        let opened = self.links.open(&item.url);
        self.mark_read(id)?;
        opened.map_err(AppError::from)
    }

    /// A toast was clicked (NC-R7: its page opens and its items are read) or its "Mark as read"
    /// button pressed. Runs on a blocking thread: it writes the store.
    pub fn toast_activated(&self, a: Activated) {
        if a.action == ToastAction::Open && !a.url.is_empty() {
            // A refusal is logged by the link policy; the items are still read (the agent saw them).
            let _ = self.links.open(&a.url);
        }
        let read = self.mark_ids(&a.ids);
        self.read_here(read);
    }

    /// NC-R6: exactly the scope; undoable for [`UNDO_WINDOW`], then sent to the server.
    pub fn mark_all_read(&self, scope: Scope) -> Result<MarkAllView, AppError> {
        let scope = Scope::new(scope.tab, scope.category)?;
        let report = self.store().mark_all_read(scope, self.clock.now())?;
        let changed = report.changed;
        let undo = report.outbox_key.clone();
        if let Some(key) = &undo {
            let mut undos = self.undos.lock().unwrap_or_else(|p| p.into_inner());
            // Undo is only possible within its window: older ones can go.
            let now = self.clock.now();
            undos.retain(|_, r| now - r.at <= UNDO_WINDOW);
            undos.insert(key.clone(), report);
            drop(undos);
            self.nudge_after_undo_window();
        }
        if changed > 0 {
            self.withdraw_read_toasts();
            (self.ui)(UiEvent::Changed);
        }
        Ok(MarkAllView { changed, undo })
    }

    /// The tray's "Mark all as read": every tab, each as its own scoped action (NC-R6); a tab
    /// that fails does not stop the others (the first failure is returned after them).
    pub fn mark_everything_read(&self) -> Result<u64, AppError> {
        let mut changed = 0;
        let mut failed = None;
        for tab in Tab::ALL {
            match self.mark_all_read(Scope { tab: *tab, category: None }) {
                Ok(done) => changed += done.changed,
                Err(e) => {
                    tracing::warn!(error = %e, %tab, "mark all read");
                    failed.get_or_insert(e);
                }
            }
        }
        failed.map_or(Ok(changed), Err)
    }

    pub fn undo(&self, token: &str) -> Result<bool, AppError> {
        let Some(report) = self.undos.lock().unwrap_or_else(|p| p.into_inner()).remove(token) else {
            return Ok(false);
        };
        let undone = self.store().undo_mark_all(&report, self.clock.now())?;
        if undone {
            (self.ui)(UiEvent::Changed);
        }
        Ok(undone)
    }

    /// Snoozes an unread item until `until`: it leaves the lists and its toast, and comes back
    /// then as unread with a fresh toast ([`Actions::bring_back_due`]).
    pub fn snooze(&self, id: &str, until: DateTime<Utc>) -> Result<bool, AppError> {
        if until <= self.clock.now() {
            return Err(AppError::Invalid("a snooze ends in the future".into()));
        }
        let snoozed = self.store().snooze(id, until)?;
        if snoozed {
            // Its toast goes as a read item's would (NC-R13's withdrawal).
            let _ = self.events.send(SyncEvent::Removed { ids: vec![id.to_owned()] });
            let _ = self.events.send(SyncEvent::StoreChanged);
            self.snoozes.notify_one();
        }
        Ok(snoozed)
    }

    /// Brings a snoozed item back now (without a toast: the agent is looking at it).
    pub fn unsnooze(&self, id: &str) -> Result<bool, AppError> {
        let back = self.store().unsnooze(id)?;
        if back {
            let _ = self.events.send(SyncEvent::StoreChanged);
            self.snoozes.notify_one();
        }
        Ok(back)
    }

    /// The snooze timer's turn: what is due at `now` comes back unread, each with a fresh toast
    /// (quiet hours permitting). Runs on a blocking thread: it writes the store.
    pub fn bring_back_due(&self, now: DateTime<Utc>) -> Result<Vec<Notification>, AppError> {
        let due = self.store().take_due_snoozes(now)?;
        if !due.is_empty() {
            let _ = self.events.send(SyncEvent::StoreChanged);
            for n in &due {
                let _ = self.events.send(SyncEvent::Arrived { notification: n.clone(), late: false });
            }
        }
        Ok(due)
    }

    /// When the next snooze ends, if any.
    pub fn next_snooze(&self) -> Option<DateTime<Utc>> {
        self.store().next_snooze().ok().flatten()
    }

    /// Wakes whoever waits for the next snooze when one is set or ended early.
    pub fn snooze_wake(&self) -> Arc<Notify> {
        self.snoozes.clone()
    }

    /// A tab's "may have lost items" marker, dismissed by the agent (kept in the store).
    pub fn dismiss_gap(&self, tab: Tab) -> Result<(), AppError> {
        self.store().dismiss_gap(tab)?;
        (self.ui)(UiEvent::Changed);
        Ok(())
    }

    /// A mark-all waits out its undo window before it may leave: sync is nudged once it is due.
    fn nudge_after_undo_window(&self) {
        let Some(handle) = tokio::runtime::Handle::try_current().ok().or_else(|| self.runtime.clone()) else {
            return;
        };
        let nudge = self.nudge.clone();
        let wait = UNDO_WINDOW.to_std().unwrap_or(Duration::from_secs(10)) + Duration::from_millis(200);
        handle.spawn(async move {
            tokio::time::sleep(wait).await;
            nudge();
        });
    }

    /// NC-R13 on this device: toasts whose items a mark-all covered are withdrawn.
    fn withdraw_read_toasts(&self) {
        let Some(toasts) = self.toasts.get() else { return };
        let ids: Vec<String> = {
            let store = self.store();
            toasts
                .toasted_ids()
                .into_iter()
                .filter(|id| matches!(store.get(id), Ok(Some(n)) if n.read_at.is_some()))
                .collect()
        };
        if !ids.is_empty() {
            let _ = self.events.send(SyncEvent::Read { ids });
        }
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
