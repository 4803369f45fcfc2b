//! The one path for actions, headless: a store in memory, a recording browser, and the events it
//! sends to the toast center and the window.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use lonceng_client::sync::BoxFut;
use lonceng_client::toast::{Focus, FocusProbe, Notifier, NotifyError, Toast, ToastSettings};
use lonceng_domain::clock::ManualClock;
use lonceng_domain::i18n::Catalog;
use lonceng_domain::link::{Opener, UrlPolicy};
use lonceng_domain::model::{Category, Kind, Notification, Params};
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
        conversation: None,
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
        conversation: None,
    });
    assert!(r.opener.0.lock().unwrap().is_empty());
    assert!(r.store.lock().unwrap().get("n-1").unwrap().unwrap().read_at.is_some(), "the agent saw it");
    // From the window, the refusal is said.
    stored(&r, &[item("n-2", Category::Assignment, evil)]);
    assert!(matches!(r.actions.open("n-2"), Err(AppError::Refused(m)) if m.contains("not a Qontak page")));
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
        conversation: None,
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

fn drained(r: &mut Rig) -> Vec<SyncEvent> {
    std::iter::from_fn(|| r.events.try_recv().ok()).collect()
}

// NC-R13: a snoozed item's toast goes as a read one's would; when its time comes, the same path
// brings it back unread and hands it to the toast center as a fresh arrival.
#[test]
fn nc_r13_a_snooze_withdraws_the_toast_and_comes_back_through_the_one_path() {
    let mut r = rig();
    stored(&r, &[item("n-1", Category::Assignment, "https://app.qontak.com/crm/deals/7")]);
    let at = t0() + chrono::Duration::hours(1);
    let err = r.actions.snooze("n-1", t0()).unwrap_err();
    assert!(err.to_string().contains("future"), "{err}");
    assert!(r.actions.snooze("n-1", at).unwrap());
    assert_eq!(
        drained(&mut r),
        vec![SyncEvent::Removed { ids: vec!["n-1".into()] }, SyncEvent::StoreChanged]
    );
    assert_eq!(r.actions.next_snooze(), Some(at));
    assert_eq!(r.store.lock().unwrap().unread_counts().unwrap().total(), 0, "out of the counts");
    assert!(r.actions.bring_back_due(at - chrono::Duration::seconds(1)).unwrap().is_empty(), "not yet");
    assert!(drained(&mut r).is_empty());
    let back = r.actions.bring_back_due(at).unwrap();
    assert_eq!(back.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["n-1"]);
    let events = drained(&mut r);
    assert_eq!(events.first(), Some(&SyncEvent::StoreChanged));
    assert!(
        matches!(&events[1..], [SyncEvent::Arrived { notification, late: false }] if notification.id == "n-1"),
        "{events:?}"
    );
    assert_eq!(r.store.lock().unwrap().unread_counts().unwrap().total(), 1, "unread again");
    assert_eq!(r.actions.next_snooze(), None);
}

#[test]
fn unsnooze_brings_the_item_back_quietly_and_a_gap_dismissal_tells_the_window() {
    let mut r = rig();
    stored(&r, &[item("n-1", Category::Assignment, "https://app.qontak.com/crm/deals/7")]);
    assert!(r.actions.snooze("n-1", t0() + chrono::Duration::hours(1)).unwrap());
    drained(&mut r);
    assert!(r.actions.unsnooze("n-1").unwrap());
    assert_eq!(drained(&mut r), vec![SyncEvent::StoreChanged], "no toast: the agent is looking at it");
    assert!(!r.actions.unsnooze("n-1").unwrap(), "nothing left to bring back");
    r.ui.lock().unwrap().clear();
    r.actions.dismiss_gap(Tab::General).unwrap();
    assert_eq!(*r.ui.lock().unwrap(), vec![UiEvent::Changed]);
}
