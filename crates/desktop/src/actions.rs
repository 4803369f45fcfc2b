//! The one path for what the agent does: mark read, open, a toast clicked or its button, mark all
//! read (scoped, NC-R6), undo. Each action writes the store and the outbox in one transaction
//! (MW-6), nudges sync so that it reaches the server now, tells the toast center (a toast for an
//! item read here is withdrawn, NC-R13), and emits one UI event for the window and the tray. The
//! window's commands, the toasts and the tray all come here, so none of them can forget a step.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use lonceng_core::clock::Clock;
use lonceng_core::link::Links;
use lonceng_core::model::Tab;
use lonceng_core::store::{MarkAllReport, Scope, Store, UNDO_WINDOW};
use lonceng_core::sync::{SharedStore, SyncEvent};
use lonceng_core::toast::{Activated, ToastAction, ToastCenter};
use tokio::sync::mpsc::UnboundedSender;

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
            self.undos.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), report);
            self.nudge_after_undo_window();
        }
        if changed > 0 {
            self.withdraw_read_toasts();
            (self.ui)(UiEvent::Changed);
        }
        Ok(MarkAllView { changed, undo })
    }

    /// The tray's "Mark all as read": every tab, each as its own scoped action (NC-R6).
    pub fn mark_everything_read(&self) -> Result<u64, AppError> {
        let mut changed = 0;
        for tab in Tab::ALL {
            changed += self.mark_all_read(Scope { tab: *tab, category: None })?.changed;
        }
        Ok(changed)
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

    /// A mark-all waits out its undo window before it may leave: sync is nudged once it is due.
    fn nudge_after_undo_window(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
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
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use chrono::{DateTime, Utc};
    use lonceng_core::clock::ManualClock;
    use lonceng_core::i18n::Catalog;
    use lonceng_core::link::{Opener, UrlPolicy};
    use lonceng_core::model::{Category, Kind, Notification, Params};
    use lonceng_core::sync::BoxFut;
    use lonceng_core::toast::{Focus, FocusProbe, Notifier, NotifyError, Toast, ToastSettings};
    use tokio::sync::mpsc::{self, UnboundedReceiver};

    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-01-20T03:00:00Z".parse().unwrap()
    }

    #[derive(Default)]
    struct RecordingOpener(Mutex<Vec<String>>);
    impl Opener for RecordingOpener {
        fn open(&self, url: &str) -> Result<(), String> {
            self.0.lock().unwrap().push(url.into());
            Ok(())
        }
    }

    #[derive(Default)]
    struct CountingNotifier(AtomicU32);
    impl Notifier for CountingNotifier {
        fn show(&self, _: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
            let id = replaces.unwrap_or_else(|| self.0.fetch_add(1, Ordering::SeqCst) + 1);
            Box::pin(async move { Ok(id) })
        }
        fn close(&self, _: u32) -> BoxFut<'_, Result<(), NotifyError>> {
            Box::pin(async { Ok(()) })
        }
    }

    struct NotFocused;
    impl FocusProbe for NotFocused {
        fn focus(&self) -> Focus {
            Focus::ChatNotFocused
        }
    }

    struct Rig {
        actions: Actions,
        store: SharedStore,
        opener: Arc<RecordingOpener>,
        nudges: Arc<AtomicU32>,
        events: UnboundedReceiver<SyncEvent>,
        ui: Arc<Mutex<Vec<UiEvent>>>,
    }

    fn rig() -> Rig {
        let store: SharedStore = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
        let opener = Arc::new(RecordingOpener::default());
        let nudges = Arc::new(AtomicU32::new(0));
        let (tx, events) = mpsc::unbounded_channel();
        let ui = Arc::new(Mutex::new(Vec::new()));
        let (n, log) = (nudges.clone(), ui.clone());
        let actions = Actions::new(
            store.clone(),
            Arc::new(ManualClock::new(t0())),
            Arc::new(Links::new(UrlPolicy::default(), opener.clone())),
            Arc::new(move || {
                n.fetch_add(1, Ordering::SeqCst);
            }),
            tx,
            Arc::new(move |e| log.lock().unwrap().push(e)),
        );
        Rig { actions, store, opener, nudges, events, ui }
    }

    fn item(id: &str, category: Category, url: &str) -> Notification {
        let (kind, params) = match category {
            Category::ChatAssignment => (
                Kind::ConversationAssigned,
                Params::new().with("actor", "Budi").with("contact_name", "Siti").with("channel", "whatsapp"),
            ),
            _ => (Kind::DealOwnerAssigned, Params::new().with("actor", "Budi").with("deal_name", "PT Maju")),
        };
        Notification {
            id: id.into(),
            category,
            kind,
            params,
            actor_id: Some("u-2".into()),
            recipient_id: "u-1".into(),
            url: url.into(),
            created_at: t0(),
            read_at: None,
        }
    }

    fn stored(r: &Rig, items: &[Notification]) {
        r.store.lock().unwrap().upsert(items, t0()).unwrap();
    }

    fn reads(r: &mut Rig) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        while let Ok(e) = r.events.try_recv() {
            if let SyncEvent::Read { ids } = e {
                out.push(ids);
            }
        }
        out
    }

    // NC-R7: the toast center hands over the toast; this path opens its page and reads its items.
    #[test]
    fn nc_r7_a_toast_click_opens_the_page_and_marks_its_items_read() {
        let mut r = rig();
        let url = "https://app.qontak.com/crm/deals/7";
        stored(&r, &[item("n-1", Category::Assignment, url), item("n-2", Category::Assignment, url)]);
        r.actions.toast_activated(Activated {
            action: ToastAction::Open,
            url: url.into(),
            ids: vec!["n-1".into(), "n-2".into()],
        });
        assert_eq!(*r.opener.0.lock().unwrap(), vec![url.to_string()]);
        assert_eq!(r.store.lock().unwrap().unread_counts().unwrap().total(), 0);
        assert_eq!(
            r.store.lock().unwrap().outbox_pending(10, t0()).unwrap().len(),
            2,
            "queued for the server, due at once"
        );
        assert_eq!(r.nudges.load(Ordering::SeqCst), 1);
        assert_eq!(reads(&mut r), vec![vec!["n-1".to_string(), "n-2".to_string()]]);
        assert_eq!(*r.ui.lock().unwrap(), vec![UiEvent::Changed], "one UI event");
    }

    #[test]
    fn nc_r7_a_click_never_opens_a_url_outside_the_allowed_hosts_yet_the_item_is_read() {
        let r = rig();
        let evil = "https://qontak.com.evil.example/phish";
        stored(&r, &[item("n-1", Category::Assignment, evil)]);
        r.actions.toast_activated(Activated {
            action: ToastAction::Open,
            url: evil.into(),
            ids: vec!["n-1".into()],
        });
        assert!(r.opener.0.lock().unwrap().is_empty());
        assert!(r.store.lock().unwrap().get("n-1").unwrap().unwrap().read_at.is_some(), "the agent saw it");
        // From the window, the refusal is said.
        stored(&r, &[item("n-2", Category::Assignment, evil)]);
        assert!(
            matches!(r.actions.open("n-2"), Err(AppError::Refused(m)) if m.contains("not a Qontak page"))
        );
        assert!(r.store.lock().unwrap().get("n-2").unwrap().unwrap().read_at.is_some());
    }

    #[test]
    fn a_toasts_mark_as_read_button_reads_without_opening_anything() {
        let r = rig();
        let url = "https://app.qontak.com/crm/deals/7";
        stored(&r, &[item("n-1", Category::Assignment, url)]);
        r.actions.toast_activated(Activated {
            action: ToastAction::MarkRead,
            url: url.into(),
            ids: vec!["n-1".into()],
        });
        assert!(r.opener.0.lock().unwrap().is_empty());
        assert_eq!(r.store.lock().unwrap().unread_counts().unwrap().total(), 0);
    }

    // NC-R13 on this device (the defect this path fixes): a read in the window reaches the toasts.
    #[test]
    fn nc_r13_a_read_in_the_window_withdraws_its_toast_and_reaches_the_server() {
        let mut r = rig();
        stored(&r, &[item("n-1", Category::Assignment, "https://app.qontak.com/crm/deals/1")]);
        r.actions.mark_read("n-1").unwrap();
        assert_eq!(reads(&mut r), vec![vec!["n-1".to_string()]]);
        assert_eq!(r.nudges.load(Ordering::SeqCst), 1);
        // Read already: nothing more happens.
        r.actions.mark_read("n-1").unwrap();
        assert!(reads(&mut r).is_empty());
        assert_eq!(r.ui.lock().unwrap().len(), 1);
        assert!(matches!(r.actions.mark_read("nope"), Err(AppError::NotFound(_))));
    }

    // NC-R6 and NC-R13: a mark-all withdraws the toasts of exactly what it covered.
    #[tokio::test]
    async fn nc_r6_a_mark_all_withdraws_the_toasts_of_its_scope_only() {
        let mut r = rig();
        let center = Arc::new(ToastCenter::new(
            Arc::new(CountingNotifier::default()),
            Arc::new(NotFocused),
            Arc::new(Catalog::builtin().unwrap()),
            Arc::new(ManualClock::new(t0())),
            ToastSettings::default(),
            Box::new(|_| {}),
        ));
        r.actions.set_toasts(center.clone());
        let deal = item("deal", Category::Assignment, "https://app.qontak.com/crm/deals/1");
        let chat = item("chat", Category::ChatAssignment, "https://chat.qontak.com/inbox/1");
        stored(&r, &[deal.clone(), chat.clone()]);
        for n in [deal, chat] {
            center.handle(&SyncEvent::Arrived { notification: n, late: false }).await;
        }
        let done = r.actions.mark_all_read(Scope { tab: Tab::Inbox, category: None }).unwrap();
        assert_eq!(done.changed, 1);
        assert_eq!(reads(&mut r), vec![vec!["chat".to_string()]]);
        assert!(done.undo.is_some());
        assert_eq!(r.actions.mark_everything_read().unwrap(), 1, "the tray's: every tab, General's deal too");
    }
}
