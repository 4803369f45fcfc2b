//! The properties the `cargo fuzz` targets (`fuzz/fuzz_targets/`) check, for every parser that
//! takes input from the network. They live here, not in the fuzz crate, so that they are built,
//! linted and tested with everything else: each target is one call, and each input the fuzzer
//! found crashing is a regression test below that runs in `cargo test`.
//!
//! Every property is stronger than "does not panic": a stream parses the same however it is cut
//! into chunks, what the server admits the client accepts, a link is judged the same before and
//! after a browser normalises it, a server's delay is capped, what an agent types into search is
//! never query syntax.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::store::{Batch, Store};
use crate::sync::crm_source;
use crate::sync::lonceng::{decode_changes, decode_event};
use crate::sync::sse::SseParser;
use crate::toast::ports::{shorten, MAX_BODY, MAX_TITLE};
use lonceng_domain::crm::client::decode_page;
use lonceng_domain::i18n::{Catalog, Lang};
use lonceng_domain::link::{browser_host, UrlPolicy};
use lonceng_domain::model::{is_web_url, Notification, WireNotification};
use lonceng_domain::net::{RetryAfter, MAX_SERVER_DELAY};
use lonceng_domain::rules::{admit, Decision, Outcome, ProducerEvent};

/// The instant the fuzzed input is judged at.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_768_870_800, 0).unwrap_or_default() // 2026-01-20T01:00:00Z
}

fn catalog() -> Option<&'static Catalog> {
    static CATALOG: OnceLock<Option<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::builtin().ok()).as_ref()
}

/// The SSE parser: the same items (or a refusal) whether the bytes come whole or in two chunks cut
/// where the first byte says, and every item means something to the engine without failing it.
pub fn sse(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else { return };
    let whole = SseParser::default().push(body);
    let mut parser = SseParser::default();
    let (a, b) = body.split_at(usize::from(cut).min(body.len()));
    let chunked = parser.push(a).and_then(|mut items| {
        items.extend(parser.push(b)?);
        Ok(items)
    });
    match (whole, chunked) {
        (Ok(whole), Ok(chunked)) => {
            assert_eq!(whole, chunked, "cut at {cut}");
            whole.into_iter().for_each(|item| drop(decode_event(item)));
        }
        (Err(_), Err(_)) => {}
        (whole, chunked) => panic!("whole: {whole:?}, cut at {cut}: {chunked:?}"),
    }
}

/// A page of the change feed: a page decodes or is refused whole; the items it yields are stored,
/// rendered and shortened for a toast without failing.
pub fn changes(data: &[u8]) {
    if let Ok(page) = decode_changes(data) {
        assert!(page.batch.cursor.is_some(), "a decoded page moves the cursor");
        keep_and_show(&page.batch);
    }
}

/// A page of the Qontak CRM list, the same way.
pub fn crm(data: &[u8]) {
    if let Ok(page) = decode_page(data, 1, "u-1", now()).map(crm_source::pulled) {
        keep_and_show(&page.batch);
    }
}

fn keep_and_show(batch: &Batch) {
    let mut store = Store::open_in_memory().expect("an in-memory store opens");
    store.apply(batch, now()).expect("a decoded page is stored");
    batch.items.iter().for_each(show);
}

fn show(n: &Notification) {
    let Some(catalog) = catalog() else { return };
    for lang in [Lang::En, Lang::Id] {
        let text = catalog.render(lang, n.kind, &n.params);
        assert!(shorten(&text.title, MAX_TITLE).chars().count() <= MAX_TITLE);
        assert!(shorten(&text.body, MAX_BODY).chars().count() <= MAX_BODY);
    }
}

/// A producer's event at the server: whatever the server admits into a list, every client accepts
/// as it comes over the wire (never quarantined), and can show.
pub fn producer_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<ProducerEvent>(data) else { return };
    let Ok(Outcome::List(decisions)) = admit(&event, now(), &UrlPolicy::default()) else { return };
    for (i, decision) in decisions.into_iter().enumerate() {
        if let Decision::Notify(draft) = decision {
            let wire = serde_json::to_vec(&draft.into_notification(format!("n_{i}")).to_wire())
                .expect("a notification serialises");
            let back: WireNotification = serde_json::from_slice(&wire).expect("the wire form decodes");
            let n =
                back.validate().unwrap_or_else(|e| panic!("the server admitted what clients refuse: {e}"));
            show(&n);
        }
    }
}

/// A Qontak webhook at the server: it decodes or is refused with a reason (never a panic); a room
/// event's notifications, linked to every agent it names, are either refused or accepted by every
/// client; a customer's message becomes chat messages the rules take as toasts only (NC-R4); and the
/// same body always gets the same key (re-deliveries dedupe, MW-4).
pub fn qontak_webhook(data: &[u8]) {
    use lonceng_domain::qontak::{chat_messages, decode_webhook, room_step, LinkedUser, RoomStep, Webhook};
    const ROOM_URL: &str = "https://chat.qontak.com/inbox/{room_id}";
    match decode_webhook(data) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(Webhook::Ignored(why)) => assert!(!why.is_empty()),
        Ok(Webhook::Room(room)) => {
            let again = decode_webhook(data).map(|w| matches!(w, Webhook::Room(r) if r.key() == room.key()));
            assert_eq!(again, Ok(true), "the same body, the same key");
            let users = room
                .agent_ids
                .iter()
                .chain(room.resolved_by_id.iter())
                .map(|a| (a.clone(), LinkedUser { user_id: format!("u-{a}"), name: a.clone() }))
                .collect();
            let RoomStep::Apply { events, .. } = room_step(None, &room, &users, ROOM_URL) else {
                panic!("a first event is never stale")
            };
            for event in events {
                producer_event(&serde_json::to_vec(&ProducerEvent::Notification(event)).expect("serialises"));
            }
        }
        Ok(Webhook::Message(m)) => {
            for chat in chat_messages(&m, &["u-1".to_owned()], ROOM_URL, now()) {
                match admit(&ProducerEvent::ChatMessage(chat), now(), &UrlPolicy::default()) {
                    Ok(outcome) => assert!(matches!(outcome, Outcome::ToastOnly(_)), "NC-R4"),
                    Err(e) => assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
}

/// `Retry-After`: any value gives a wait of at most [`MAX_SERVER_DELAY`], whenever it is read.
pub fn retry_after(data: &[u8]) {
    let Some(value) = RetryAfter::parse(&String::from_utf8_lossy(data)) else { return };
    for at in [now(), DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        assert!(value.delay(at) <= MAX_SERVER_DELAY, "{value:?} at {at}");
    }
}

/// The link policy, with the allowed domain on the first line and the link after it: allowed links
/// name a domain under an allowed one, and a link is judged the same as the address a browser
/// normalises it to (what it visits).
pub fn url_policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (entry, link) = text.split_once('\n').unwrap_or(("qontak.com", &text));
    let policy = UrlPolicy { hosts: vec![entry.to_owned()] };
    let verdict = policy.refusal(link);
    assert_eq!(policy.allows(link), verdict.is_none());
    if verdict.is_none() {
        let host = browser_host(link).expect("an allowed link names a host");
        let domain =
            browser_host(&format!("https://{}/", entry.trim())).expect("the allowed entry is a domain");
        assert!(host == domain || host.ends_with(&format!(".{domain}")), "{host} is not under {domain}");
    }
    // Whitespace, control characters and over-long links are refused as malformed before any host
    // is judged (a browser would percent-encode them), so the two verdicts are compared where both
    // forms are well-formed.
    if let Ok(visited) = url::Url::parse(link) {
        if is_web_url(link) && is_web_url(visited.as_str()) {
            assert_eq!(policy.allows(visited.as_str()), verdict.is_none(), "{link} visits {visited}");
        }
    }
}

/// Search: whatever the agent types is never FTS5 syntax (no query fails), and what is found is
/// in the tab asked for.
pub fn search(data: &[u8]) {
    use crate::store::{rendered, Scope, SearchQuery};
    use lonceng_domain::model::{Category, Kind, Params, Tab};
    thread_local! {
        static STORE: Option<Store> = (|| {
            let mut store = Store::open_in_memory().ok()?;
            store.set_indexer(rendered(std::sync::Arc::new(Catalog::builtin().ok()?)));
            let items: Vec<Notification> = (0..30)
                .map(|i| Notification {
                    id: format!("n-{i}"),
                    category: [Category::Assignment, Category::ChatAssignment, Category::Deals][i % 3],
                    kind: [Kind::DealOwnerAssigned, Kind::ConversationAssigned, Kind::DealApprovalRequested][i % 3],
                    params: Params::new()
                        .with("actor", "Budi Santoso")
                        .with("deal_name", format!("PT Maju {i}"))
                        .with("contact_name", "Café Élan")
                        .with("channel", "whatsapp")
                        .with("amount", "Rp 1.000"),
                    actor_id: None,
                    recipient_id: "u-1".into(),
                    url: format!("https://app.qontak.com/crm/deals/{i}"),
                    created_at: now(),
                    read_at: None,
                })
                .collect();
            store.upsert(&items, now()).ok()?;
            store.index_all().ok()?;
            Some(store)
        })();
    }
    let text = String::from_utf8_lossy(data).into_owned();
    STORE.with(|store| {
        let Some(store) = store else { return };
        let scopes = [
            None,
            Some(Scope { tab: Tab::Inbox, category: None }),
            Some(Scope { tab: Tab::Approval, category: Some(Category::Deals) }),
        ];
        for scope in scopes {
            let q = SearchQuery { text: text.clone(), scope, unread_only: false, limit: 50, before: None };
            let found = store.search(&q).unwrap_or_else(|e| panic!("{text:?} failed: {e}")).items;
            if let Some(s) = scope {
                assert!(found.iter().all(|n| n.tab() == s.tab && s.category.is_none_or(|c| c == n.category)));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    //! The seeds each target starts from, and every input the fuzzer found failing, run as tests.
    use super::*;

    #[test]
    fn search_seeds_and_findings() {
        for input in
            [&b"maju"[..], b"cafe \"elan\" OR NEAR(", b"persetujuan budi", b"*", b"\xff\xfe text:", b""]
        {
            search(input);
        }
    }

    #[test]
    fn sse_seeds_and_findings() {
        for input in [
            &b"\x05data: x\n\nevent: change\nid: 7\ndata: {}\n\n: keep-alive\n"[..],
            b"\x01\r\n\r",
            b"\x02data:\r\r\n\n",
        ] {
            sse(input);
        }
    }

    #[test]
    fn change_feed_seeds_and_findings() {
        for input in [
            r#"{"changes":[{"seq":1,"type":"read","ids":["n_1"],"read_at":"2026-01-20T01:00:00Z"}],"cursor":1}"#,
            r#"{"changes":[{"seq":1,"type":"nonsense"},7,null],"cursor":9,"more":true}"#,
            r#"{"changes":[],"cursor":-9223372036854775808}"#,
        ] {
            changes(input.as_bytes());
        }
    }

    #[test]
    fn crm_seeds_and_findings() {
        for input in [r#"{"response":[{"id":1},"x",null],"page":"1","total_page":4294967296}"#, "{}"] {
            crm(input.as_bytes());
        }
    }

    #[test]
    fn producer_event_seeds_and_findings() {
        producer_event(
            br#"{"type":"notification","idempotency_key":"k","kind":"mention","recipients":["u-1"],
                "actor":{"id":"u-9","name":"Budi"},"params":{"target":"deal","object_name":"PT Maju"},
                "url":"https://app.qontak.com/x","occurred_at":"2026-01-20T00:00:00Z"}"#,
        );
    }

    #[test]
    fn qontak_webhook_seeds_and_findings() {
        for input in [
            r#"{"id":"r","status":"resolved","agent_ids":["a",1],"resolved_by_id":"a","updated_at":"2026-01-20T00:00:00Z"}"#,
            r#"{"data_event":"receive_message_from_customer","room_id":"r","text":"hi"}"#,
            r#"{"id":"r/../x?y","agent_ids":["a"],"updated_at":"2026-01-20T00:00:00Z","channel":"zz"}"#,
            "[]",
        ] {
            qontak_webhook(input.as_bytes());
        }
    }

    #[test]
    fn retry_after_seeds_and_findings() {
        for input in
            ["120", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]
        {
            retry_after(input.as_bytes());
        }
    }

    #[test]
    fn url_policy_seeds_and_findings() {
        for input in [
            "https://app.qontak.com/inbox",
            "https://evil.example\\@qontak.com/",
            "co.id\nhttps://x.co.id/",
            // Found: control characters in the path. The link is refused as malformed, while the
            // address a browser makes of it (percent-encoded) is a Qontak page: both are safe.
            "qontak.com\nhttps://aapp.qontak.com/i\u{4}\0\0\0\0\0\0\0y",
        ] {
            url_policy(input.as_bytes());
        }
    }
}
