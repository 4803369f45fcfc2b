use super::*;
use crate::rules::{decide, Decision, Outcome, ProducerEvent, SuppressReason};

const URL: &str = "https://chat.qontak.com/inbox/{room_id}";

/// The public example (shared/reference), verbatim but for `agent_ids`.
fn example(agent_ids: &[&str], status: &str, updated_at: &str, data_event: &str) -> Vec<u8> {
    serde_json::json!({
        "id": "5113b80b-fa7d-4a50-9590-1dfd55325580",
        "name": "adrian",
        "status": status,
        "channel": "wa_cloud",
        "channel_account": "Sandbox Qontak 6",
        "organization_id": "859438e6-10ac-48ac-8d8c-d9d20bba8382",
        "last_message": {
            "id": "a667db6f-6b67-4320-bfc2-b098f4ed2e2a", "type": "text",
            "room_id": "5113b80b-fa7d-4a50-9590-1dfd55325580",
            "sender_type": "Models::Contact", "participant_type": "customer",
            "text": "asdasd", "channel": "wa_cloud", "created_at": "2024-05-15T16:36:04.000Z"
        },
        "unread_count": 1,
        "agent_ids": agent_ids,
        "resolved_at": null, "resolved_by_id": null, "resolved_by_type": null,
        "updated_at": updated_at,
        "data_event": data_event
    })
    .to_string()
    .into_bytes()
}

fn room(body: &[u8]) -> RoomEvent {
    match decode_webhook(body).unwrap() {
        Webhook::Room(r) => r,
        other => panic!("not a room: {other:?}"),
    }
}

fn users() -> BTreeMap<String, LinkedUser> {
    [("qa-1", "u-sari", "Sari"), ("qa-2", "u-budi", "Budi")]
        .into_iter()
        .map(|(a, u, n)| (a.to_owned(), LinkedUser { user_id: u.into(), name: n.into() }))
        .collect()
}

fn step(previous: Option<&RoomState>, event: &RoomEvent) -> (RoomState, Vec<DomainEvent>) {
    match room_step(previous, event, &users(), URL) {
        RoomStep::Apply { state, events } => (state, events),
        RoomStep::Stale => panic!("stale"),
    }
}

#[test]
fn the_public_example_is_a_room_event_of_a_whatsapp_room() {
    let r = room(&example(&[], "unassigned", "2024-05-15T16:36:05.702Z", "add_agent"));
    assert_eq!(r.id, "5113b80b-fa7d-4a50-9590-1dfd55325580");
    assert_eq!(
        (r.name.as_str(), r.channel.as_str(), r.status.as_str()),
        ("adrian", "whatsapp", "unassigned")
    );
    assert_eq!(r.updated_at, "2024-05-15T16:36:05.702Z".parse::<DateTime<Utc>>().unwrap());
    let (state, events) = step(None, &r);
    assert!(events.is_empty(), "nobody is assigned yet");
    assert_eq!(state.status, "unassigned");
}

#[test]
fn an_agent_newly_in_agent_ids_is_assigned_and_only_linked_agents_hear_of_it() {
    let first = room(&example(&["qa-1", "qa-unlinked"], "assigned", "2024-05-15T16:40:00Z", "add_agent"));
    let (state, events) = step(None, &first);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, Kind::ConversationAssigned);
    assert_eq!(events[0].recipients, vec!["u-sari".to_string()]);
    assert_eq!(events[0].params.text("actor"), Some(SYSTEM_ACTOR), "no assigner is named publicly");
    assert_eq!(events[0].url, "https://chat.qontak.com/inbox/5113b80b-fa7d-4a50-9590-1dfd55325580");

    // Budi joins: only Budi is told; Sari was there already.
    let second = room(&example(&["qa-1", "qa-2"], "assigned", "2024-05-15T16:45:00Z", "add_agent"));
    let (_, events) = step(Some(&state), &second);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].recipients, vec!["u-budi".to_string()]);
}

#[test]
fn nc_r1_an_agent_who_assigned_themselves_is_not_told() {
    let mut r = room(&example(&["qa-1"], "assigned", "2024-05-15T16:40:00Z", "add_agent"));
    r.assigned_by_id = Some("qa-1".into());
    let (_, events) = step(None, &r);
    let Ok(Outcome::List(decisions)) = decide(&ProducerEvent::Notification(events[0].clone())) else {
        panic!()
    };
    assert_eq!(
        decisions,
        vec![Decision::Suppressed { recipient_id: "u-sari".into(), reason: SuppressReason::SelfAssignment }]
    );
}

#[test]
fn a_room_that_becomes_resolved_tells_its_agents_except_the_one_who_resolved_it() {
    let assigned = room(&example(&["qa-1", "qa-2"], "assigned", "2024-05-15T16:40:00Z", "add_agent"));
    let (state, _) = step(None, &assigned);
    let mut body: Value = serde_json::from_slice(&example(
        &["qa-1", "qa-2"],
        "resolved",
        "2024-05-15T17:00:00Z",
        "resolve_room",
    ))
    .unwrap();
    body["resolved_by_id"] = "qa-2".into();
    body["resolved_by_type"] = "Models::User".into();
    let resolved = room(body.to_string().as_bytes());
    let (state, events) = step(Some(&state), &resolved);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, Kind::ConversationResolved);
    assert_eq!(events[0].params.text("actor"), Some("Budi"));
    let Ok(Outcome::List(decisions)) = decide(&ProducerEvent::Notification(events[0].clone())) else {
        panic!()
    };
    assert!(matches!(&decisions[0], Decision::Notify(d) if d.recipient_id == "u-sari"));
    assert!(matches!(&decisions[1], Decision::Suppressed { reason: SuppressReason::SelfAction, .. }));

    // Resolved again (another update inside the resolved room): nothing new.
    let again = room(&example(&["qa-1", "qa-2"], "resolved", "2024-05-15T17:05:00Z", "room_updated"));
    assert!(step(Some(&state), &again).1.is_empty());
}

#[test]
fn an_agent_removed_is_forgotten_without_a_notification() {
    let (state, _) =
        step(None, &room(&example(&["qa-1", "qa-2"], "assigned", "2024-05-15T16:40:00Z", "add_agent")));
    let (state, events) =
        step(Some(&state), &room(&example(&["qa-2"], "assigned", "2024-05-15T16:50:00Z", "remove_agent")));
    assert!(events.is_empty());
    assert_eq!(state.agent_ids, vec!["qa-2".to_string()]);
}

#[test]
fn mw4_an_older_event_than_the_room_changes_nothing_and_keys_are_stable() {
    let newer = room(&example(&["qa-1"], "assigned", "2024-05-15T16:45:00Z", "add_agent"));
    let older = room(&example(&[], "unassigned", "2024-05-15T16:36:05Z", "room_created"));
    let (state, _) = step(None, &newer);
    assert_eq!(room_step(Some(&state), &older, &users(), URL), RoomStep::Stale);
    assert_eq!(newer.key(), room(&example(&["qa-1"], "assigned", "2024-05-15T16:45:00Z", "add_agent")).key());
    assert_ne!(newer.key(), older.key());
}

#[test]
fn a_customer_message_becomes_one_chat_message_per_agent_and_others_are_ignored() {
    let body = serde_json::json!({
        "webhook_event": "message_interaction", "data_event": "receive_message_from_customer",
        "id": "m-1", "room_id": "r-1", "sender_id": "c-9", "is_agent": false, "text": "Halo kak",
        "created_at": "2026-01-20T02:00:00Z",
        "room": {"id": "r-1", "name": "Andi", "channel": "ig"},
        "sender": {"name": "Andi Pratama", "participant_type": "customer"}
    });
    let Webhook::Message(m) = decode_webhook(body.to_string().as_bytes()).unwrap() else { panic!() };
    assert_eq!(
        (m.sender_name.as_str(), m.channel.as_str(), m.text.as_str()),
        ("Andi Pratama", "instagram", "Halo kak")
    );
    let now = Utc::now();
    let msgs = chat_messages(&m, &["u-sari".into(), "u-budi".into()], URL, now);
    assert_eq!(msgs.len(), 2);
    assert_ne!(msgs[0].event_id, msgs[1].event_id, "each agent's copy is its own event");
    assert_eq!(
        msgs[0].event_id,
        chat_messages(&m, &["u-sari".into()], URL, now)[0].event_id,
        "stable for re-sends"
    );
    assert!(matches!(decide(&ProducerEvent::ChatMessage(msgs[0].clone())), Ok(Outcome::ToastOnly(_))));

    let mut agent = body.clone();
    agent["data_event"] = "receive_message_from_agent".into();
    agent["is_agent"] = true.into();
    assert!(matches!(decode_webhook(agent.to_string().as_bytes()), Ok(Webhook::Ignored(_))));
}

#[test]
fn a_message_without_an_id_is_keyed_by_what_identifies_it() {
    let body = |text: &str| {
        serde_json::json!({"data_event": "receive_message_from_customer", "room_id": "r-1", "text": text,
            "created_at": "2026-01-20T02:00:00Z"})
        .to_string()
    };
    let id = |b: String| match decode_webhook(b.as_bytes()).unwrap() {
        Webhook::Message(m) => m.id,
        _ => panic!(),
    };
    assert_eq!(id(body("a")), id(body("a")));
    assert_ne!(id(body("a")), id(body("b")));
}

#[test]
fn malformed_unknown_and_hostile_bodies_are_named_not_panicked_on() {
    let err = |b: &[u8]| decode_webhook(b).unwrap_err().to_string();
    assert!(err(b"{not json").starts_with("the body is not JSON"));
    assert_eq!(err(b"[1,2]"), "the body is JSON but not an object");
    assert!(
        err(br#"{"data_event": "contact_merged"}"#).contains("unknown event: data_event 'contact_merged'")
    );
    assert!(err(br#"{"status": "assigned", "updated_at": "2024-05-15T16:36:05Z"}"#).contains("without id"));
    assert!(err(br#"{"id": "r", "status": "assigned"}"#).contains("without updated_at"));
    assert!(
        err(br#"{"id": "r", "status": "x", "updated_at": "yesterday"}"#).contains("updated_at is not valid")
    );
    assert!(err(br#"{"id": "r", "agent_ids": "qa-1", "updated_at": "2024-05-15T16:36:05Z"}"#)
        .contains("not a list"));
    let long =
        format!(r#"{{"id": "{}", "status": "x", "updated_at": "2024-05-15T16:36:05Z"}}"#, "r".repeat(5000));
    assert!(err(long.as_bytes()).contains("longer than 128"));
    assert!(
        err(br#"{"data_event": "receive_message_from_customer", "text": "hi"}"#).contains("without room_id")
    );

    // Extra fields and numeric ids are fine; a huge name is clipped, not refused.
    let body = serde_json::json!({"id": 42, "status": "assigned", "agent_ids": [7, "7", "qa-1"],
        "updated_at": "2024-05-15T16:36:05Z", "name": "x".repeat(10_000), "future_field": {"a": [1]}});
    let r = room(body.to_string().as_bytes());
    assert_eq!(r.id, "42");
    assert_eq!(r.agent_ids, vec!["7".to_string(), "qa-1".to_string()]);
    assert_eq!(r.name.chars().count(), MAX_TEXT_PARAM);
}

#[test]
fn channel_codes_map_onto_the_catalogs_and_room_ids_cannot_escape_the_url() {
    assert_eq!(channel("wa_cloud"), "whatsapp");
    assert_eq!(channel("web_chat"), "webchat");
    assert_eq!(channel("tiktok"), "other");
    assert_eq!(room_url(URL, "a/../b?c#d"), "https://chat.qontak.com/inbox/a%2F..%2Fb%3Fc%23d");
}
