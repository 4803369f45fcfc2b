use super::*;
use crate::model::Tab;
use chrono_tz::{America::New_York, Asia::Jakarta, Asia::Jayapura, Tz};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn actor(id: &str, name: &str) -> Actor {
    Actor { id: id.into(), name: name.into() }
}

fn event(kind: Kind, actor_: Option<Actor>, recipients: &[&str], params: Params) -> DomainEvent {
    DomainEvent {
        idempotency_key: "evt-1".into(),
        kind,
        actor: actor_,
        posted_by: None,
        origin: Origin::Manual,
        category: None,
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
        params,
        url: "https://app.qontak.com/crm/deals/9".into(),
        occurred_at: t("2026-01-20T02:00:00Z"),
    }
}

fn list(e: DomainEvent) -> Vec<Decision> {
    match decide(&ProducerEvent::Notification(e)).unwrap() {
        Outcome::List(d) => d,
        other => panic!("expected list, got {other:?}"),
    }
}

fn deal_params() -> Params {
    Params::new().with("deal_name", "PT Sinar Jaya renewal")
}

// NC-R1
#[test]
fn nc_r1_self_assignment_as_deal_owner_task_and_checklist_is_silent() {
    let cases = [
        (Kind::DealOwnerAssigned, deal_params()),
        (Kind::TaskAssigned, Params::new().with("task_name", "Call Budi")),
        (
            Kind::TaskChecklistItemAssigned,
            Params::new().with("task_name", "Onboarding").with("item_name", "Send contract"),
        ),
        (Kind::TicketAssigned, Params::new().with("ticket_name", "#812")),
    ];
    for (kind, params) in cases {
        let d = list(event(kind, Some(actor("u-1", "Sari")), &["u-1"], params.clone()));
        assert_eq!(
            d,
            vec![Decision::Suppressed { recipient_id: "u-1".into(), reason: SuppressReason::SelfAssignment }],
            "{kind}"
        );
        // Assigned by someone else: notified, attributed to the assigner.
        let d = list(event(kind, Some(actor("u-2", "Budi")), &["u-1"], params));
        match &d[..] {
            [Decision::Notify(draft)] => {
                assert_eq!(draft.actor_id.as_deref(), Some("u-2"));
                assert_eq!(draft.params.text("actor"), Some("Budi"));
            }
            other => panic!("{kind}: {other:?}"),
        }
    }
}

// NC-R1
#[test]
fn nc_r1_self_mention_is_silent_and_others_in_the_same_event_are_notified() {
    let mut e = event(
        Kind::Mention,
        None,
        &["u-1", "u-3"],
        Params::new().with("target", "task_detail").with("object_name", "Demo prep"),
    );
    e.posted_by = Some(actor("u-1", "Sari"));
    let d = list(e);
    assert_eq!(
        d[0],
        Decision::Suppressed { recipient_id: "u-1".into(), reason: SuppressReason::SelfMention }
    );
    assert!(matches!(&d[1], Decision::Notify(x) if x.recipient_id == "u-3"));
}

// NC-R1
#[test]
fn nc_r1_requested_things_still_notify_their_requester() {
    let e = event(
        Kind::ExportReady,
        Some(actor("u-1", "Sari")),
        &["u-1"],
        Params::new().with("object_type", "deals").with("count", 120),
    );
    assert!(matches!(&list(e)[..], [Decision::Notify(_)]));
    let e = event(
        Kind::Reminder,
        Some(actor("u-1", "Sari")),
        &["u-1"],
        Params::new().with("object_type", "task").with("object_name", "Follow up"),
    );
    assert!(matches!(&list(e)[..], [Decision::Notify(_)]));
}

// NC-R2
#[test]
fn nc_r2_mention_in_task_detail_is_attributed_to_the_poster_not_the_reporter() {
    let mut e = event(
        Kind::Mention,
        Some(actor("u-9", "Reporter Rina")),
        &["u-1"],
        Params::new()
            .with("actor", "Reporter Rina")
            .with("target", "task_detail")
            .with("object_name", "Demo prep"),
    );
    e.posted_by = Some(actor("u-4", "Andi"));
    match &list(e)[..] {
        [Decision::Notify(d)] => {
            assert_eq!(d.actor_id.as_deref(), Some("u-4"));
            assert_eq!(d.params.text("actor"), Some("Andi"));
        }
        other => panic!("{other:?}"),
    }
}

// NC-R2 + NC-R1: a poster mentioning themselves is silent even when the producer names the reporter.
#[test]
fn nc_r2_self_mention_is_judged_by_the_poster() {
    let mut e = event(
        Kind::Mention,
        Some(actor("u-9", "Reporter Rina")),
        &["u-4"],
        Params::new().with("target", "task_detail").with("object_name", "Demo prep"),
    );
    e.posted_by = Some(actor("u-4", "Andi"));
    assert!(matches!(&list(e)[..], [Decision::Suppressed { reason: SuppressReason::SelfMention, .. }]));
}

// NC-R2
#[test]
fn nc_r2_deal_from_inbox_or_chatbot_is_automatically_assigned_not_by_the_account_owner() {
    for origin in [Origin::Inbox, Origin::Chatbot] {
        // The producer records the account owner (u-1) as assigner, even to themselves.
        let mut e = event(
            Kind::DealOwnerAssigned,
            Some(actor("u-1", "Account Owner")),
            &["u-1", "u-5"],
            deal_params().with("actor", "Account Owner"),
        );
        e.origin = origin;
        let d = list(e);
        assert_eq!(d.len(), 2);
        for decision in d {
            let Decision::Notify(draft) = decision else { panic!("{decision:?}") };
            assert_eq!(draft.kind, Kind::DealOwnerAutoAssigned);
            assert_eq!(draft.actor_id, None);
            assert_eq!(draft.params.text("actor"), None);
            assert_eq!(draft.params.text("source"), Some(origin.as_str()));
            assert_eq!(draft.params.validate(Kind::DealOwnerAutoAssigned), Ok(()));
        }
    }
}

#[test]
fn recipients_are_deduplicated_and_events_are_validated() {
    let d = list(event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1", "u-1", ""], deal_params()));
    assert_eq!(d.len(), 1);

    let e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &[], deal_params());
    assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::NoRecipients));

    let e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1"], Params::new());
    assert!(matches!(
        decide(&ProducerEvent::Notification(e)),
        Err(InvalidEvent::Invalid(Problem::MissingParam { param: "deal_name", .. }))
    ));

    let mut e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1"], deal_params());
    e.idempotency_key.clear();
    assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::BadIdempotencyKey));

    // Ids are text every store keeps: no NUL or other control character, at most 200 characters.
    let mut e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1"], deal_params());
    e.idempotency_key = "k\0".into();
    assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::BadIdempotencyKey));
    let e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &["u-1", "u-\0"], deal_params());
    assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::BadId("recipient")));
    let long = "u".repeat(201);
    let e = event(Kind::DealOwnerAssigned, Some(actor("u-2", "B")), &[long.as_str()], deal_params());
    assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::BadId("recipient")));
    let e = event(Kind::DealOwnerAssigned, Some(actor("u-\u{7}", "B")), &["u-1"], deal_params());
    assert_eq!(decide(&ProducerEvent::Notification(e)), Err(InvalidEvent::BadId("actor id")));

    let mut e =
        event(Kind::CrmNotice, None, &["u-1"], Params::new().with("origin", "deal").with("description", "x"));
    assert_eq!(
        decide(&ProducerEvent::Notification(e.clone())),
        Err(InvalidEvent::MissingCategory(Kind::CrmNotice))
    );
    e.category = Some(Category::Deals);
    assert!(matches!(decide(&ProducerEvent::Notification(e)), Ok(Outcome::List(_))));
}

fn chat() -> ChatMessage {
    ChatMessage {
        event_id: "wa-77".into(),
        conversation_id: "room-1".into(),
        channel: "whatsapp".into(),
        sender_name: "Budi".into(),
        preview: "Halo, pesanan saya?".into(),
        recipient_id: "u-1".into(),
        url: "https://chat.qontak.com/inbox/room-1".into(),
        received_at: t("2026-01-20T02:00:00Z"),
    }
}

// NC-R4
#[test]
fn nc_r4_chat_messages_are_toast_only() {
    assert_eq!(decide(&ProducerEvent::ChatMessage(chat())), Ok(Outcome::ToastOnly(chat())));
    let mut m = chat();
    m.event_id.clear();
    assert_eq!(decide(&ProducerEvent::ChatMessage(m)), Err(InvalidEvent::IncompleteChatMessage("event id")));
    // And there is no kind a chat message could be stored as.
    assert!("chat_message".parse::<Kind>().is_err());
}

#[test]
fn producer_events_decode_from_json() {
    let json = serde_json::json!({
        "type": "chat_message", "event_id": "e", "conversation_id": "c", "channel": "line",
        "sender_name": "S", "preview": "p", "recipient_id": "u", "url": "https://x.y/",
        "received_at": "2026-01-20T02:00:00Z"
    });
    assert!(matches!(serde_json::from_value::<ProducerEvent>(json), Ok(ProducerEvent::ChatMessage(_))));
}

// NC-R5
#[test]
fn nc_r5_retention_is_90_days_for_general_and_approval_and_7_for_inbox() {
    let now = t("2026-04-30T12:00:00Z");
    assert_eq!(retention_cutoff(Tab::General, now), t("2026-01-30T12:00:00Z"));
    assert_eq!(retention_cutoff(Tab::Approval, now), t("2026-01-30T12:00:00Z"));
    assert_eq!(retention_cutoff(Tab::Inbox, now), t("2026-04-23T12:00:00Z"));
    assert!(!is_expired(Tab::Inbox, t("2026-04-23T12:00:00Z"), now));
    assert!(is_expired(Tab::Inbox, t("2026-04-23T11:59:59Z"), now));
    assert!(!is_expired(Tab::General, t("2026-04-23T11:59:59Z"), now));
    assert!(is_expired(Tab::General, t("2026-01-30T11:59:59Z"), now));
}

// NC-R10
#[test]
fn nc_r10_today_is_the_local_calendar_day() {
    // 16:59:59Z is 23:59:59 in Jakarta (UTC+7); 17:00Z is the next local day.
    let now = t("2026-01-20T17:30:00Z"); // 00:30 on Jan 21 in Jakarta
    assert_eq!(section(t("2026-01-20T17:00:00Z"), now, &Jakarta), Section::Today);
    assert_eq!(section(t("2026-01-20T16:59:59Z"), now, &Jakarta), Section::Older);
    // The same instants in UTC are both on Jan 20: both Today.
    assert_eq!(section(t("2026-01-20T16:59:59Z"), now, &Utc), Section::Today);
}

// NC-R10
#[test]
fn nc_r10_a_time_zone_change_moves_items_between_sections() {
    // The agent flies from Jakarta (UTC+7) to New York (UTC-5): same items, same instant.
    let now = t("2026-01-20T03:00:00Z"); // Jakarta: Jan 20 10:00; New York: Jan 19 22:00
    let item = t("2026-01-19T16:30:00Z"); // Jakarta: Jan 19 23:30; New York: Jan 19 11:30
    assert_eq!(section(item, now, &Jakarta), Section::Older);
    assert_eq!(section(item, now, &New_York), Section::Today);
    let item = t("2026-01-20T01:00:00Z"); // Jakarta: Jan 20 08:00; New York: Jan 19 20:00
    assert_eq!(section(item, now, &Jakarta), Section::Today);
    assert_eq!(section(item, now, &New_York), Section::Today);
    // A zone named at run time (the device's setting) behaves the same as a compiled-in one.
    let tz: Tz = "Asia/Jayapura".parse().unwrap();
    assert_eq!(tz, Jayapura);
    assert_eq!(section(t("2026-01-19T14:59:59Z"), now, &tz), Section::Older); // Jan 19 23:59:59
    assert_eq!(section(t("2026-01-19T15:00:00Z"), now, &tz), Section::Today);
    // Jan 20 00:00
}

// NC-R10
#[test]
fn nc_r10_future_items_from_a_skewed_clock_stay_in_today() {
    let now = t("2026-01-20T03:00:00Z");
    assert_eq!(section(t("2026-01-22T03:00:00Z"), now, &Jakarta), Section::Today);
}

// NC-R5 at ingest: a server never lists what is already expired, and refuses times that cannot be
// true and links outside the organisation's hosts.
#[test]
fn nc_r5_admission_checks_the_time_the_link_and_retention() {
    let now = t("2026-01-20T02:00:00Z");
    let links = crate::link::UrlPolicy::default();
    let mention = |at: &str, url: &str| {
        let mut e = event(
            Kind::Mention,
            Some(actor("u-9", "Budi")),
            &["u-1"],
            Params::new().with("target", "deal").with("object_name", "PT Maju"),
        );
        e.occurred_at = t(at);
        e.url = url.into();
        ProducerEvent::Notification(e)
    };
    let ok = "https://app.qontak.com/crm/deals/9";
    assert!(
        matches!(admit(&mention("2026-01-20T01:00:00Z", ok), now, &links), Ok(Outcome::List(d)) if matches!(d[0], Decision::Notify(_)))
    );
    for bad in
        ["1969-12-31T00:00:00Z", "1999-12-31T23:59:59Z", "2026-01-21T02:00:01Z", "9999-01-01T00:00:00Z"]
    {
        assert!(matches!(admit(&mention(bad, ok), now, &links), Err(InvalidEvent::BadTime(_))), "{bad}");
    }
    // Within the range, but past General's 90 days: accepted, and nobody is notified.
    let old = admit(&mention("2025-10-01T00:00:00Z", ok), now, &links).unwrap();
    assert!(
        matches!(old, Outcome::List(d) if matches!(d[0], Decision::Suppressed { reason: SuppressReason::Expired, .. }))
    );
    for evil in
        ["https://qontak.com.evil.example/x", "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/"]
    {
        assert!(
            matches!(
                admit(&mention("2026-01-20T01:00:00Z", evil), now, &links),
                Err(InvalidEvent::Link(_)) | Err(InvalidEvent::Invalid(_))
            ),
            "{evil}"
        );
    }
}
