use super::quiet::{QuietHours, QuietKind, QuietState, Zone};
use super::settings::{ConversationMute, MessageText, MuteUntil, SoundSettings};
use super::*;
use crate::sync::{BoxFut, SyncEvent};
use chrono::{DateTime, Utc};
use lonceng_domain::clock::ManualClock;
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::model::{Category, ChatMessage, Kind, Notification, Params, Tab};
use lonceng_domain::protocol::Presence;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// The text as the agent sees it: without the (invisible) isolation marks around parameters.
fn visible(s: &str) -> String {
    s.replace(['\u{2068}', '\u{2069}'], "")
}

fn t0() -> DateTime<Utc> {
    "2026-01-20T03:00:00Z".parse().unwrap()
}

// ---- the policy (NC-R12), exhaustively ----

fn base() -> PolicyInput {
    PolicyInput {
        tab: Some(Tab::Inbox),
        read: false,
        late: false,
        muted: false,
        quiet: None,
        breaks_through: false,
        system_quiet: false,
        breaks_system_quiet: false,
        focus: Focus::ChatNotFocused,
        web_chat_active: None,
    }
}

// NC-R12
#[test]
fn nc_r12_inbox_items_and_chat_toast_only_when_the_chat_is_not_focused() {
    for tab in [Some(Tab::Inbox), None] {
        let i = |focus, web| PolicyInput { tab, focus, web_chat_active: web, ..base() };
        assert_eq!(decide(&i(Focus::ChatFocused, None)), Reason::ChatFocused);
        assert_eq!(
            decide(&i(Focus::ChatFocused, Some(false))),
            Reason::ChatFocused,
            "focus wins over presence"
        );
        assert_eq!(decide(&i(Focus::ChatNotFocused, None)), Reason::Toasted);
        assert_eq!(
            decide(&i(Focus::ChatNotFocused, Some(true))),
            Reason::Toasted,
            "focus wins: another window"
        );
        assert_eq!(decide(&i(Focus::Locked, Some(true))), Reason::Toasted, "a locked screen is not active");
        // Where focus cannot be seen, the web chat's presence report decides...
        assert_eq!(decide(&i(Focus::Unknown, Some(true))), Reason::ChatFocused);
        assert_eq!(decide(&i(Focus::Unknown, Some(false))), Reason::Toasted);
        // ...and where nothing can tell, toast.
        assert_eq!(decide(&i(Focus::Unknown, None)), Reason::Toasted);
    }
}

// NC-R12
#[test]
fn nc_r12_general_and_approval_always_toast() {
    for tab in [Tab::General, Tab::Approval] {
        for focus in [Focus::ChatFocused, Focus::ChatNotFocused, Focus::Locked, Focus::Unknown] {
            for web in [None, Some(true), Some(false)] {
                let i = PolicyInput { tab: Some(tab), focus, web_chat_active: web, ..base() };
                assert_eq!(decide(&i), Reason::Toasted, "{tab} {focus:?} {web:?}");
            }
        }
    }
}

#[test]
fn read_late_muted_and_paused_never_toast_in_that_order_of_reasons() {
    for tab in [Some(Tab::General), Some(Tab::Inbox), Some(Tab::Approval), None] {
        let i = PolicyInput { tab, ..base() };
        assert_eq!(
            decide(&PolicyInput { read: true, late: true, muted: true, quiet: Some(QuietKind::Paused), ..i }),
            Reason::AlreadyRead
        );
        assert_eq!(
            decide(&PolicyInput { late: true, muted: true, quiet: Some(QuietKind::Paused), ..i }),
            Reason::Late
        );
        assert_eq!(decide(&PolicyInput { muted: true, quiet: Some(QuietKind::Paused), ..i }), Reason::Muted);
        assert_eq!(decide(&PolicyInput { quiet: Some(QuietKind::Paused), ..i }), Reason::Paused);
    }
}

#[test]
fn every_reason_has_an_explanation_in_both_languages() {
    let catalog = Catalog::builtin().unwrap();
    for r in Reason::ALL.iter().copied() {
        for lang in Lang::ALL {
            assert!(catalog.has(*lang, r.message_id(), None), "{r:?} {lang}");
        }
    }
}

#[test]
fn the_chat_window_is_a_browser_showing_qontak_chat() {
    let m = ChatWindowMatch::default();
    assert!(m.matches("Qontak Chat - Chromium", "chromium"));
    assert!(m.matches("Inbox | Qontak — Mozilla Firefox", "Navigator.firefox"));
    assert!(m.matches("chat.qontak.com/inbox - Google Chrome", "google-chrome"));
    assert!(!m.matches("Qontak CRM - Deals - Chromium", "chromium"), "the CRM is not the chat");
    assert!(!m.matches("notes about Qontak Chat.txt - gedit", "gedit"), "not a browser");
    assert!(!m.matches("", ""));
    let custom = ChatWindowMatch { title_patterns: vec!["My Chat".into()], browser_classes: vec![] };
    assert!(custom.matches("my chat — any app", "whatever"));
}

// ---- the center, with fakes ----

#[derive(Default)]
struct FakeNotifier {
    next: AtomicU32,
    shown: Mutex<Vec<(u32, Option<u32>, Toast)>>,
    closed: Mutex<Vec<u32>>,
}

impl Notifier for FakeNotifier {
    fn show(&self, toast: Toast, replaces: Option<u32>) -> BoxFut<'_, Result<u32, NotifyError>> {
        let handle = replaces.unwrap_or_else(|| self.next.fetch_add(1, Ordering::SeqCst) + 1);
        self.shown.lock().unwrap().push((handle, replaces, toast));
        Box::pin(async move { Ok(handle) })
    }
    fn close(&self, handle: u32) -> BoxFut<'_, Result<(), NotifyError>> {
        self.closed.lock().unwrap().push(handle);
        Box::pin(async { Ok(()) })
    }
}

/// The focus, and whether the OS's Do Not Disturb is on.
struct FixedFocus(Mutex<Focus>, Mutex<bool>);
impl FocusProbe for FixedFocus {
    fn focus(&self) -> Focus {
        *self.0.lock().unwrap()
    }
    fn do_not_disturb(&self) -> bool {
        *self.1.lock().unwrap()
    }
}

struct Rig {
    center: ToastCenter,
    notifier: Arc<FakeNotifier>,
    focus: Arc<FixedFocus>,
    clock: Arc<ManualClock>,
    /// What the center handed to the app when toasts were acted on.
    activated: Arc<Mutex<Vec<Activated>>>,
}

fn rig() -> Rig {
    let notifier = Arc::new(FakeNotifier::default());
    let focus = Arc::new(FixedFocus(Mutex::new(Focus::ChatNotFocused), Mutex::new(false)));
    let clock = Arc::new(ManualClock::new(t0()));
    let activated = Arc::new(Mutex::new(Vec::new()));
    let log = activated.clone();
    let center = ToastCenter::new(
        notifier.clone(),
        focus.clone(),
        Arc::new(Catalog::builtin().unwrap()),
        clock.clone(),
        ToastSettings::default(),
        Box::new(move |a| log.lock().unwrap().push(a)),
    );
    Rig { center, notifier, focus, clock, activated }
}

fn assigned(id: &str, url: &str) -> Notification {
    Notification {
        id: id.into(),
        category: Category::ChatAssignment,
        kind: Kind::ConversationAssigned,
        params: Params::new().with("actor", "Budi").with("contact_name", "Siti").with("channel", "whatsapp"),
        actor_id: Some("u-2".into()),
        recipient_id: "u-1".into(),
        url: url.into(),
        created_at: t0(),
        read_at: None,
    }
}

fn deal(id: &str, url: &str) -> Notification {
    Notification {
        id: id.into(),
        category: Category::Assignment,
        kind: Kind::DealOwnerAssigned,
        params: Params::new().with("actor", "Budi").with("deal_name", "PT Maju"),
        actor_id: Some("u-2".into()),
        recipient_id: "u-1".into(),
        url: url.into(),
        created_at: t0(),
        read_at: None,
    }
}

fn chat(event: &str, conversation: &str) -> ChatMessage {
    ChatMessage {
        event_id: event.into(),
        conversation_id: conversation.into(),
        channel: "whatsapp".into(),
        sender_name: "Budi".into(),
        preview: format!("message {event}"),
        recipient_id: "u-1".into(),
        url: format!("https://chat.qontak.com/inbox/{conversation}"),
        received_at: t0(),
    }
}

fn arrived(n: Notification) -> SyncEvent {
    SyncEvent::Arrived { notification: n, late: false }
}

#[tokio::test]
async fn a_toast_says_what_happened_in_the_active_language() {
    let r = rig();
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    let mut s = r.center.settings();
    s.lang = Lang::Id;
    r.center.set_settings(s);
    r.center.handle(&arrived(deal("n-2", "https://app.qontak.com/crm/deals/2"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(visible(&shown[0].2.title), "Deal assigned to you");
    assert_eq!(visible(&shown[0].2.body), "Budi made you the owner of deal PT Maju");
    assert_eq!(shown[0].2.action_label, "Open");
    assert_eq!(visible(&shown[1].2.title), "Deal ditugaskan kepada Anda");
    assert_eq!(r.center.why("n-1"), Some(Reason::Toasted));
}

// NC-R12 through the center: focus is probed and the reason recorded.
#[tokio::test]
async fn nc_r12_an_inbox_item_while_the_chat_is_focused_is_recorded_not_shown() {
    let r = rig();
    *r.focus.0.lock().unwrap() = Focus::ChatFocused;
    r.center.handle(&arrived(assigned("n-1", "https://chat.qontak.com/inbox/1"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    r.center.handle(&arrived(deal("n-2", "https://app.qontak.com/crm/deals/2"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "only the General item toasts");
    assert_eq!(r.center.why("n-1"), Some(Reason::ChatFocused));
    assert_eq!(r.center.why("n-2"), Some(Reason::Toasted));
}

#[tokio::test]
async fn presence_decides_when_focus_is_unknown() {
    let r = rig();
    *r.focus.0.lock().unwrap() = Focus::Unknown;
    let presence = Presence { devices: vec![], active_in_web_chat: true, active_in_chat: true };
    r.center.handle(&SyncEvent::Presence(presence)).await;
    r.center.handle(&arrived(assigned("n-1", "https://chat.qontak.com/inbox/1"))).await;
    assert_eq!(r.center.why("n-1"), Some(Reason::ChatFocused));
    assert!(r.notifier.shown.lock().unwrap().is_empty());
}

#[tokio::test]
async fn one_toast_per_object_updated_in_place() {
    let r = rig();
    let url = "https://app.qontak.com/crm/deals/7";
    r.center.handle(&arrived(deal("n-1", url))).await;
    r.center.handle(&arrived(deal("n-2", url))).await;
    r.center.handle(&arrived(deal("n-3", "https://app.qontak.com/crm/deals/8"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown[1].1, Some(shown[0].0), "the second replaces the first");
    assert_eq!(shown[2].1, None, "another deal gets its own toast");
    assert_eq!(r.center.active(), 2);
}

#[tokio::test]
async fn messages_of_one_conversation_coalesce() {
    let r = rig();
    for i in 1..=3 {
        r.center.handle(&SyncEvent::Chat(chat(&format!("wa-{i}"), "room-1"))).await;
    }
    r.center.handle(&SyncEvent::Chat(chat("wa-9", "room-2"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 4);
    assert_eq!(visible(&shown[0].2.body), "message wa-1");
    assert_eq!(visible(&shown[0].2.title), "Budi on WhatsApp");
    assert_eq!(visible(&shown[2].2.body), "3 new messages from Budi: message wa-3");
    assert_eq!(shown[2].1, Some(shown[0].0), "updated in place");
    assert_eq!(shown[3].1, None);
}

// NC-R13
#[tokio::test]
async fn nc_r13_a_toast_is_withdrawn_when_all_its_items_are_read_anywhere() {
    let r = rig();
    let url = "https://app.qontak.com/crm/deals/7";
    r.center.handle(&arrived(deal("n-1", url))).await;
    r.center.handle(&arrived(deal("n-2", url))).await;
    let handle = r.notifier.shown.lock().unwrap()[0].0;
    r.center.handle(&SyncEvent::Read { ids: vec!["n-1".into()] }).await;
    assert!(r.notifier.closed.lock().unwrap().is_empty(), "n-2 is still unread");
    r.center.handle(&SyncEvent::Read { ids: vec!["n-2".into()] }).await;
    assert_eq!(*r.notifier.closed.lock().unwrap(), vec![handle]);
    assert_eq!(r.center.active(), 0);
}

// NC-R7: the center says which toast was clicked; the app's one path for actions opens the page
// and marks the items read (lonceng-desktop's actions tests prove that part).
#[tokio::test]
async fn nc_r7_a_click_hands_the_page_and_its_items_to_the_app_once() {
    let r = rig();
    let url = "https://app.qontak.com/crm/deals/7";
    for n in [deal("n-1", url), deal("n-2", url)] {
        r.center.handle(&arrived(n)).await;
    }
    let handle = r.notifier.shown.lock().unwrap()[0].0;
    assert!(r.center.activate(Activation { handle, action: ToastAction::Open }).await);
    assert_eq!(
        *r.activated.lock().unwrap(),
        vec![Activated {
            action: ToastAction::Open,
            url: url.into(),
            ids: vec!["n-1".into(), "n-2".into()],
            conversation: None
        }]
    );
    assert_eq!(r.center.active(), 0, "a clicked toast is gone");
    assert!(
        !r.center.activate(Activation { handle, action: ToastAction::Open }).await,
        "a second click on a gone toast does nothing"
    );
    assert_eq!(r.activated.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_toast_action_is_handed_over_with_the_action_the_agent_chose() {
    let r = rig();
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    assert_eq!(r.center.toasted_ids(), vec!["n-1".to_string()], "chat toasts stand for no list item");
    let handle = r.notifier.shown.lock().unwrap()[0].0;
    r.center.activate(Activation { handle, action: ToastAction::MarkRead }).await;
    assert_eq!(r.activated.lock().unwrap()[0].action, ToastAction::MarkRead);
    assert_eq!(ToastAction::from_key("default"), Some(ToastAction::Open));
    assert_eq!(ToastAction::from_key("mark-read"), Some(ToastAction::MarkRead));
    assert_eq!(ToastAction::from_key("something-else"), None);
}

#[tokio::test]
async fn muted_categories_stay_in_the_list_without_a_toast() {
    let r = rig();
    let mut s = r.center.settings();
    s.muted.insert(Category::Assignment);
    s.mute_chat = true;
    r.center.set_settings(s);
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    assert!(r.notifier.shown.lock().unwrap().is_empty());
    assert_eq!(r.center.why("n-1"), Some(Reason::Muted));
}

#[tokio::test]
async fn a_pause_ends_with_one_summary_of_what_arrived_meanwhile() {
    let r = rig();
    r.center.pause(t0() + chrono::Duration::hours(1));
    for i in 0..4 {
        r.center
            .handle(&arrived(deal(&format!("n-{i}"), &format!("https://app.qontak.com/crm/deals/{i}"))))
            .await;
    }
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    r.center.handle(&SyncEvent::LateSummary { count: 2 }).await;
    assert!(r.notifier.shown.lock().unwrap().is_empty());
    assert_eq!(r.center.why("n-0"), Some(Reason::Paused));

    r.clock.advance(chrono::Duration::minutes(61));
    r.center.handle(&SyncEvent::StoreChanged).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1);
    assert_eq!(visible(&shown[0].2.body), "7 notifications arrived while notifications were paused");
    r.center.handle(&SyncEvent::StoreChanged).await;
    assert_eq!(r.notifier.shown.lock().unwrap().len(), 1, "once");
}

#[tokio::test]
async fn mw5_late_items_never_toast_one_by_one_and_resuming_by_hand_summarises_at_once() {
    let r = rig();
    r.center.pause(t0() + chrono::Duration::hours(8));
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    r.center.resume().await;
    assert_eq!(r.notifier.shown.lock().unwrap().len(), 1);
    r.center
        .handle(&SyncEvent::Arrived {
            notification: deal("n-2", "https://app.qontak.com/crm/deals/2"),
            late: true,
        })
        .await;
    assert_eq!(r.center.why("n-2"), Some(Reason::Late));
    r.center.handle(&SyncEvent::LateSummary { count: 23 }).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 2);
    assert_eq!(visible(&shown[1].2.body), "23 notifications arrived while Qontak was unavailable");
}

// Many toasts at once: the oldest fold into one summary, so Lonceng never holds more than
// MAX_OPEN toasts open on the desktop; reading the folded items withdraws the summary too (NC-R13).
#[tokio::test]
async fn at_most_max_open_toasts_stay_open_and_the_oldest_fold_into_one_summary() {
    let r = rig();
    let total = center::MAX_OPEN + 5;
    for i in 0..total {
        r.center
            .handle(&arrived(deal(&format!("n-{i}"), &format!("https://app.qontak.com/crm/deals/{i}"))))
            .await;
    }
    assert_eq!(r.center.active(), center::MAX_OPEN + 1, "ten toasts and the summary");
    let closed = r.notifier.closed.lock().unwrap().clone();
    assert_eq!(closed.len(), 5, "the five oldest were closed: {closed:?}");
    let shown = r.notifier.shown.lock().unwrap().clone();
    let more = shown.iter().rev().find(|(_, _, t)| visible(&t.body).contains("more notifications")).unwrap();
    assert_eq!(visible(&more.2.body), "5 more notifications are waiting in Lonceng");
    assert_eq!(more.2.mark_read_label, None, "a summary has no item to mark");
    let folded: Vec<String> = (0..5).map(|i| format!("n-{i}")).collect();
    r.center.handle(&SyncEvent::Read { ids: folded }).await;
    assert_eq!(r.center.active(), center::MAX_OPEN, "the summary went with its items");
}

// A toast carries what a toast can show: long text is cut on a word boundary.
#[tokio::test]
async fn a_toast_body_is_shortened_sensibly() {
    let r = rig();
    let mut n = deal("n-1", "https://app.qontak.com/crm/deals/1");
    n.params = Params::new().with("actor", "Budi").with("deal_name", "word ".repeat(400).trim());
    r.center.handle(&arrived(n)).await;
    let toast = r.notifier.shown.lock().unwrap()[0].2.clone();
    assert!(toast.body.chars().count() <= ports::MAX_BODY, "{}", toast.body.chars().count());
    assert!(visible(&toast.body).ends_with("word…"), "{}", toast.body);
    assert_eq!(toast.mark_read_label.as_deref(), Some("Mark as read"));
}

// ---- quiet hours, sound, held toasts (issue 15) ----

/// Every night 22:00–07:00 in Jakarta; t0 (03:00Z) is 10:00 there.
fn nightly(breakthrough: &[Category]) -> ToastSettings {
    ToastSettings {
        quiet_hours: QuietHours {
            enabled: true,
            breakthrough: breakthrough.iter().copied().collect(),
            ..QuietHours::default()
        },
        ..ToastSettings::default()
    }
}

fn jakarta_rig(settings: ToastSettings, held: Arc<dyn HeldLog>) -> Rig {
    let mut r = rig();
    let log = r.activated.clone();
    r.center = ToastCenter::new(
        r.notifier.clone(),
        r.focus.clone(),
        Arc::new(Catalog::builtin().unwrap()),
        r.clock.clone(),
        settings,
        Box::new(move |a| log.lock().unwrap().push(a)),
    )
    .with_zone(Zone::Named(chrono_tz::Asia::Jakarta))
    .with_held(held);
    r
}

fn approval(id: &str) -> Notification {
    Notification {
        id: id.into(),
        category: Category::Deals,
        kind: Kind::DealApprovalRequested,
        params: Params::new()
            .with("actor", "Budi")
            .with("deal_name", "PT Maju")
            .with("amount", "Rp 5.000.000"),
        actor_id: Some("u-2".into()),
        recipient_id: "u-1".into(),
        url: format!("https://app.qontak.com/crm/deals/{id}"),
        created_at: t0(),
        read_at: None,
    }
}

#[tokio::test]
async fn quiet_hours_hold_toasts_but_breakthrough_categories_toast_silently() {
    let r = jakarta_rig(nightly(&[Category::Deals]), Arc::new(MemoryHeld::default()));
    // 10:00 Jakarta: not quiet; a toast with sound.
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    assert!(r.notifier.shown.lock().unwrap()[0].2.sound);
    // 23:00 Jakarta (16:00Z): quiet until 07:00 (00:00Z).
    r.clock.set("2026-01-20T16:00:00Z".parse().unwrap());
    assert_eq!(
        r.center.quiet(),
        Some(QuietState { kind: QuietKind::Scheduled, until: "2026-01-21T00:00:00Z".parse().unwrap() })
    );
    r.center.handle(&arrived(deal("n-2", "https://app.qontak.com/crm/deals/2"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    assert_eq!(r.center.why("n-2"), Some(Reason::QuietHours));
    assert_eq!(r.notifier.shown.lock().unwrap().len(), 1, "held");
    r.center.handle(&arrived(approval("n-3"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 2, "Deals break through");
    assert!(!shown[1].2.sound, "silently");
    assert_eq!(r.center.why("n-3"), Some(Reason::Toasted));
}

#[tokio::test]
async fn quiet_hours_end_with_one_summary_of_what_is_still_unread() {
    let r = jakarta_rig(nightly(&[]), Arc::new(MemoryHeld::default()));
    r.clock.set("2026-01-20T16:00:00Z".parse().unwrap());
    for i in 0..3 {
        r.center
            .handle(&arrived(deal(&format!("n-{i}"), &format!("https://app.qontak.com/crm/deals/{i}"))))
            .await;
    }
    r.center.handle(&SyncEvent::LateSummary { count: 2 }).await;
    assert!(r.notifier.shown.lock().unwrap().is_empty());
    // 06:59: still quiet.
    r.clock.set("2026-01-20T23:59:00Z".parse().unwrap());
    r.center.end_quiet_if_over().await;
    assert!(r.notifier.shown.lock().unwrap().is_empty());
    // 07:00: one summary, once.
    r.clock.set("2026-01-21T00:00:00Z".parse().unwrap());
    r.center.end_quiet_if_over().await;
    r.center.handle(&SyncEvent::StoreChanged).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1);
    assert_eq!(visible(&shown[0].2.body), "5 notifications arrived while notifications were paused");
    assert!(!shown[0].2.sound, "a summary is silent");
}

#[tokio::test]
async fn resume_during_quiet_hours_skips_this_period_only() {
    let r = jakarta_rig(nightly(&[]), Arc::new(MemoryHeld::default()));
    r.clock.set("2026-01-20T16:00:00Z".parse().unwrap());
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    r.center.resume().await;
    assert_eq!(r.center.quiet(), None);
    assert_eq!(r.notifier.shown.lock().unwrap().len(), 1, "the summary at once");
    r.center.handle(&arrived(deal("n-2", "https://app.qontak.com/crm/deals/2"))).await;
    assert_eq!(r.center.why("n-2"), Some(Reason::Toasted));
    // The next night is quiet again.
    r.clock.set("2026-01-21T16:00:00Z".parse().unwrap());
    assert!(r.center.quiet().is_some());
}

#[tokio::test]
async fn sound_follows_the_settings_for_all_and_per_category() {
    let silent_deals = ToastSettings {
        sound: SoundSettings { on: true, silent: [Category::Assignment].into_iter().collect() },
        ..ToastSettings::default()
    };
    let r = jakarta_rig(silent_deals, Arc::new(MemoryHeld::default()));
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    r.center.handle(&arrived(approval("n-2"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    let sounds: Vec<bool> = r.notifier.shown.lock().unwrap().iter().map(|s| s.2.sound).collect();
    assert_eq!(sounds, [false, true, true]);
    let off = ToastSettings {
        sound: SoundSettings { on: false, ..SoundSettings::default() },
        ..ToastSettings::default()
    };
    r.center.set_settings(off);
    r.center.handle(&arrived(approval("n-3"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-2", "room-2"))).await;
    assert!(r.notifier.shown.lock().unwrap()[3..].iter().all(|s| !s.2.sound));
}

#[tokio::test]
async fn a_chat_toast_offers_open_conversation() {
    let r = rig();
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown[0].2.action_label, "Open conversation");
    assert_eq!(shown[0].2.mark_read_label, None);
    assert_eq!(shown[1].2.action_label, "Open");
    assert_eq!(shown[1].2.mark_read_label.as_deref(), Some("Mark as read"));
}

// ORG-5: on a locked screen (the default) or always (as chosen), toasts carry no customer name and
// no message text: the kind of item, or the channel and how many messages.
#[tokio::test]
async fn org_5_nothing_private_on_a_locked_screen_unless_the_agent_chose_otherwise() {
    let r = rig();
    let private = |t: &Toast| {
        let text = visible(&format!("{} {}", t.title, t.body));
        !["Siti", "Budi", "message wa", "PT Maju"].iter().any(|word| text.contains(word))
    };
    *r.focus.0.lock().unwrap() = Focus::Locked;
    r.center.handle(&arrived(assigned("n-1", "https://chat.qontak.com/inbox/1"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-2", "room-1"))).await;
    r.center.handle(&arrived(deal("n-2", "https://app.qontak.com/crm/deals/2"))).await;
    let shown: Vec<Toast> = r.notifier.shown.lock().unwrap().iter().map(|s| s.2.clone()).collect();
    assert_eq!(shown.len(), 4, "locked counts as away from the chat: all are shown");
    assert!(shown.iter().all(private), "{shown:#?}");
    assert_eq!(visible(&shown[1].title), "New message on WhatsApp");
    assert_eq!(visible(&shown[2].title), "2 new messages on WhatsApp");
    assert_eq!(visible(&shown[0].title), "Conversation assigned", "the kind, which names nobody");
    assert_eq!(visible(&shown[3].body), "Open Lonceng to see the details.");

    // Unlocked: names and text again.
    *r.focus.0.lock().unwrap() = Focus::ChatNotFocused;
    r.center.handle(&SyncEvent::Chat(chat("wa-3", "room-2"))).await;
    r.center.handle(&arrived(deal("n-3", "https://app.qontak.com/crm/deals/3"))).await;
    let last = |n: usize| {
        r.notifier.shown.lock().unwrap().iter().rev().take(n).map(|s| s.2.clone()).collect::<Vec<_>>()
    };
    assert!(last(2).iter().all(|t| !private(t)), "{:#?}", last(2));

    // "Never": private even while unlocked; "Always": names even on a locked screen.
    let mut s = r.center.settings();
    s.message_text = MessageText::Never;
    r.center.set_settings(s.clone());
    r.center.handle(&SyncEvent::Chat(chat("wa-4", "room-3"))).await;
    assert!(private(&last(1)[0]), "{:?}", last(1));
    s.message_text = MessageText::Always;
    r.center.set_settings(s);
    *r.focus.0.lock().unwrap() = Focus::Locked;
    r.center.handle(&SyncEvent::Chat(chat("wa-5", "room-4"))).await;
    r.center.handle(&arrived(deal("n-4", "https://app.qontak.com/crm/deals/4"))).await;
    assert!(last(2).iter().all(|t| !private(t)), "{:#?}", last(2));
}

// ORG-6: while the OS's Do Not Disturb is on, toasts are held as in quiet hours (approvals too,
// unless the agent chose otherwise, and then urgent); when it ends, one silent summary.
#[tokio::test]
async fn org_6_the_os_do_not_disturb_holds_toasts_and_ends_with_one_summary() {
    let r = rig();
    *r.focus.1.lock().unwrap() = true;
    r.center.handle(&arrived(deal("n-1", "https://app.qontak.com/crm/deals/1"))).await;
    r.center.handle(&arrived(approval("a-1"))).await;
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    r.center.handle(&SyncEvent::LateSummary { count: 2 }).await;
    assert!(r.notifier.shown.lock().unwrap().is_empty(), "nothing shown, not even an approval");
    assert_eq!(r.center.why("n-1"), Some(Reason::SystemQuiet));
    assert_eq!(r.center.why("a-1"), Some(Reason::SystemQuiet));
    assert!(r.center.system_quiet(), "the tray can say why");

    // Still on: nothing; off: one silent summary of all of it, once.
    r.center.end_quiet_if_over().await;
    assert!(r.notifier.shown.lock().unwrap().is_empty());
    *r.focus.1.lock().unwrap() = false;
    r.center.end_quiet_if_over().await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(visible(&shown[0].2.body), "5 notifications arrived while notifications were paused");
    assert!(!shown[0].2.sound);
    assert!(!r.center.system_quiet());
    r.center.end_quiet_if_over().await;
    assert_eq!(r.notifier.shown.lock().unwrap().len(), 1, "once");

    // Approvals are not urgent by default (urgent ones break through every OS's quiet)...
    r.center.handle(&arrived(approval("a-2"))).await;
    assert_eq!(r.notifier.shown.lock().unwrap().last().unwrap().2.urgency, Urgency::Normal);
    // ...unless the agent chose so: then urgent, and shown through Do Not Disturb.
    let mut s = r.center.settings();
    s.approvals_break_dnd = true;
    r.center.set_settings(s);
    *r.focus.1.lock().unwrap() = true;
    r.center.handle(&arrived(approval("a-3"))).await;
    r.center.handle(&arrived(deal("n-2", "https://app.qontak.com/crm/deals/2"))).await;
    assert_eq!(r.center.why("a-3"), Some(Reason::Toasted));
    assert_eq!(r.center.why("n-2"), Some(Reason::SystemQuiet));
    assert_eq!(r.notifier.shown.lock().unwrap().last().unwrap().2.urgency, Urgency::Critical);
}

// Issue 27: a conversation or a channel muted for chat toasts; what arrives meanwhile counts in
// the conversation's next toast once unmuted; the toast's "Mute" button names the conversation.
#[tokio::test]
async fn muted_conversations_and_channels_count_in_the_next_toast_once_unmuted() {
    let r = rig();
    r.center.handle(&SyncEvent::Chat(chat("wa-1", "room-1"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown[0].2.mute_label.as_deref(), Some("Mute this conversation"));
    assert!(r.center.activate(Activation { handle: shown[0].0, action: ToastAction::Mute }).await);
    let activated = r.activated.lock().unwrap()[0].clone();
    assert_eq!(activated.action, ToastAction::Mute);
    assert_eq!(activated.conversation, Some(("room-1".to_owned(), "Budi on WhatsApp".to_owned())));

    let mut s = r.center.settings();
    let mute =
        ConversationMute { label: "Budi on WhatsApp".into(), url: String::new(), until: MuteUntil::Resolved };
    s.muted_conversations.insert("room-1".into(), mute);
    r.center.set_settings(s.clone());
    for i in 2..=4 {
        r.center.handle(&SyncEvent::Chat(chat(&format!("wa-{i}"), "room-1"))).await;
    }
    r.center.handle(&SyncEvent::Chat(chat("wa-9", "room-2"))).await;
    let shown = r.notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 2, "only the other conversation");
    // A muted channel: nothing from it.
    s.muted_channels.insert("whatsapp".into());
    r.center.set_settings(s.clone());
    r.center.handle(&SyncEvent::Chat(chat("wa-10", "room-3"))).await;
    assert_eq!(r.notifier.shown.lock().unwrap().len(), 2);
    // An hour that is over is no mute; unmuted, the next toast counts what was muted.
    s.muted_channels.clear();
    s.muted_conversations.get_mut("room-1").unwrap().until =
        MuteUntil::Time { at: t0() - chrono::Duration::minutes(1) };
    r.center.set_settings(s);
    r.center.handle(&SyncEvent::Chat(chat("wa-5", "room-1"))).await;
    let last = r.notifier.shown.lock().unwrap().last().unwrap().2.clone();
    assert_eq!(visible(&last.body), "4 new messages from Budi: message wa-5");
}
