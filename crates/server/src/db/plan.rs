//! The storage decisions both backends share, written once. Each function is pure: from what a
//! backend read inside its transaction it decides what that transaction writes, and returns the
//! writes as plain data, in order. The backend carries them out with its own SQL, locks and
//! sequence numbers, so SQLite and PostgreSQL cannot drift apart on what an event creates, what a
//! CRM poll brings in (NC-R5, NC-R13), how many ids a change carries, or what retention trims.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use lonceng_domain::model::{Notification, Tab};
use lonceng_domain::protocol::{ChangeBody, CreatedFor, EventResponse, EventStatus, SuppressedFor};
use lonceng_domain::rules::{self, Decision, Outcome};
use rand::Rng;

/// Ids per `read` or `expired` change: marking or expiring thousands of items makes several
/// changes of bounded size, never one that a client must take in whole.
pub const IDS_PER_CHANGE: usize = 1_000;
/// How long the change feed is kept.
const FEED_RETENTION: Duration = Duration::days(90);
/// How long producer and client idempotency keys are kept.
const KEY_RETENTION: Duration = Duration::days(30);

/// One write a plan asks for, inside the transaction that read what the plan was made from.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Appends a change to the user's feed under their next sequence number.
    Append { user: String, body: ChangeBody },
    /// Stores a new item for its recipient, announced by a `created` change appended first; that
    /// change's sequence number is kept with the item (it bounds mark-all: NC-R6).
    Create(Notification),
    /// Marks an unread item read.
    MarkRead { id: String, at: DateTime<Utc> },
    /// Starts following a CRM item: whose it is, and whether the CRM knows it is read (NC-R13).
    TrackCrm { id: String, user: String, crm_read: bool },
    /// The CRM knows this item is read.
    CrmRead { id: String },
}

impl Write {
    /// The user whose feed the write appends to (PostgreSQL locks them before writing).
    pub fn user(&self) -> Option<&str> {
        match self {
            Write::Append { user, .. } => Some(user),
            Write::Create(n) => Some(&n.recipient_id),
            Write::MarkRead { .. } | Write::TrackCrm { .. } | Write::CrmRead { .. } => None,
        }
    }
}

/// What applying a decided producer event writes, and the answer kept under its key (MW-4).
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomePlan {
    pub response: EventResponse,
    pub writes: Vec<Write>,
}

/// A new item's id: random, so that nodes never have to agree on one.
pub fn new_id() -> String {
    let n: u128 = rand::rng().random();
    format!("n_{n:032x}")
}

/// A chat message is one `chat` change for its recipient and nothing stored (NC-R4). A list outcome
/// stores one item per notified recipient, in the decisions' order, under ids from `new_id`, and
/// answers which recipients got one and which were suppressed.
pub fn outcome(outcome: Outcome, mut new_id: impl FnMut() -> String) -> OutcomePlan {
    match outcome {
        Outcome::ToastOnly(message) => OutcomePlan {
            writes: vec![Write::Append {
                user: message.recipient_id.clone(),
                body: ChangeBody::Chat { message },
            }],
            response: EventResponse {
                status: EventStatus::ToastOnly,
                created: vec![],
                suppressed: vec![],
                duplicate: false,
            },
        },
        Outcome::List(decisions) => {
            let (mut created, mut suppressed, mut writes) = (Vec::new(), Vec::new(), Vec::new());
            for d in decisions {
                match d {
                    Decision::Suppressed { recipient_id, reason } => {
                        suppressed.push(SuppressedFor { recipient_id, reason })
                    }
                    Decision::Notify(draft) => {
                        let n = draft.into_notification(new_id());
                        created.push(CreatedFor { recipient_id: n.recipient_id.clone(), id: n.id.clone() });
                        writes.push(Write::Create(n));
                    }
                }
            }
            OutcomePlan {
                response: EventResponse {
                    status: EventStatus::Applied,
                    created,
                    suppressed,
                    duplicate: false,
                },
                writes,
            }
        }
    }
}

/// A stored item, as a CRM poll needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub owner: String,
    pub read: bool,
    /// The CRM has reported it read already (a poll, or the read this server sent it).
    pub crm_read: bool,
}

/// What one poll of the CRM for `user` writes, given the items stored under the polled ids (read
/// in the same transaction). In the poll's order: a new item is created and followed, unless it is
/// past its tab's retention; an item of the user's that the CRM reports read is read here too
/// (NC-R13), announced by `read` changes after the new items; another user's item under the same
/// id is never touched (NC-R3). An id polled twice is known at its second sight.
pub fn crm_sync(
    user: &str,
    items: Vec<Notification>,
    mut stored: BTreeMap<String, Stored>,
    now: DateTime<Utc>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    let mut read_here = Vec::new();
    for mut n in items {
        match stored.get_mut(&n.id) {
            Some(s) if s.owner != user => {}
            // Read in the CRM, and news to this server: read here too. A CRM read known already
            // changes nothing, so that an item the agent marked unread again (ORG-7) stays so.
            Some(s) => {
                if n.read_at.is_some() && !s.crm_read {
                    s.crm_read = true;
                    writes.push(Write::CrmRead { id: n.id.clone() });
                    if !s.read {
                        s.read = true;
                        writes.push(Write::MarkRead { id: n.id.clone(), at: now });
                        read_here.push(n.id);
                    }
                }
            }
            None => {
                // NC-R5: an item past its tab's retention is not listed (and the next poll skips it
                // again: it is never stored).
                if rules::is_expired(n.tab(), n.created_at, now) {
                    continue;
                }
                n.recipient_id = user.to_owned();
                let crm_read = n.read_at.is_some();
                stored.insert(n.id.clone(), Stored { owner: user.to_owned(), read: crm_read, crm_read });
                let id = n.id.clone();
                writes.push(Write::Create(n));
                writes.push(Write::TrackCrm { id, user: user.to_owned(), crm_read });
            }
        }
    }
    writes.extend(reads(user, &read_here, now));
    writes
}

/// `read` changes for many of a user's items, [`IDS_PER_CHANGE`] ids at most each.
pub fn reads(user: &str, ids: &[String], at: DateTime<Utc>) -> Vec<Write> {
    chunked(user, ids, |ids| ChangeBody::Read { ids, read_at: at })
}

/// `expired` changes for the items retention removed, user by user (NC-R5).
pub fn expiries(by_user: BTreeMap<String, Vec<String>>) -> Vec<Write> {
    by_user.iter().flat_map(|(user, ids)| chunked(user, ids, |ids| ChangeBody::Expired { ids })).collect()
}

fn chunked(user: &str, ids: &[String], body: impl Fn(Vec<String>) -> ChangeBody) -> Vec<Write> {
    ids.chunks(IDS_PER_CHANGE)
        .map(|chunk| Write::Append { user: user.to_owned(), body: body(chunk.to_vec()) })
        .collect()
}

/// What a retention pass removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Items of each tab created before its instant (NC-R5).
    pub items: Vec<(Tab, DateTime<Utc>)>,
    /// Changes appended before this: the feed is kept as long as the longest-kept item, so a replay
    /// from 0 still rebuilds the list.
    pub changes_before: DateTime<Utc>,
    /// Producer and client idempotency keys received before this.
    pub keys_before: DateTime<Utc>,
}

pub fn retention(now: DateTime<Utc>) -> Retention {
    Retention {
        items: Tab::ALL.iter().map(|tab| (*tab, rules::retention_cutoff(*tab, now))).collect(),
        changes_before: now - FEED_RETENTION,
        keys_before: now - KEY_RETENTION,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use lonceng_domain::model::{Category, ChatMessage, Kind, Params};
    use lonceng_domain::rules::{Draft, SuppressReason};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
    }

    fn counter() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("n_{n}")
        }
    }

    fn draft(recipient: &str) -> Draft {
        Draft {
            recipient_id: recipient.into(),
            kind: Kind::TaskAssigned,
            category: Category::Assignment,
            params: Params::new().with("task_name", "Call Budi"),
            actor_id: Some("u-9".into()),
            url: "https://crm.example/tasks/1".into(),
            created_at: now(),
        }
    }

    /// A CRM item as the bridge hands it over: for nobody yet, read on the CRM or not.
    fn crm_item(id: &str, category: Category, age: Duration, read: bool) -> Notification {
        Notification {
            id: id.into(),
            category,
            kind: Kind::CrmNotice,
            params: Params::new().with("origin", "deal").with("description", "Renewal"),
            actor_id: None,
            recipient_id: String::new(),
            url: "https://crm.example/deals/1".into(),
            created_at: now() - age,
            read_at: read.then(now),
        }
    }

    fn stored(entries: &[(&str, &str, bool)]) -> BTreeMap<String, Stored> {
        entries
            .iter()
            .map(|(id, owner, read)| {
                (id.to_string(), Stored { owner: owner.to_string(), read: *read, crm_read: false })
            })
            .collect()
    }

    fn created_ids(writes: &[Write]) -> Vec<&str> {
        writes
            .iter()
            .filter_map(|w| if let Write::Create(n) = w { Some(n.id.as_str()) } else { None })
            .collect()
    }

    #[test]
    fn a_chat_message_is_one_chat_change_and_nothing_stored() {
        let message = ChatMessage {
            event_id: "e1".into(),
            conversation_id: "c1".into(),
            channel: "whatsapp".into(),
            sender_name: "Budi".into(),
            preview: "Halo".into(),
            recipient_id: "u-1".into(),
            url: "https://chat.example/c1".into(),
            received_at: now(),
        };
        let plan = outcome(Outcome::ToastOnly(message.clone()), || unreachable!("no item, no id"));
        assert_eq!(plan.writes, [Write::Append { user: "u-1".into(), body: ChangeBody::Chat { message } }]);
        assert_eq!(plan.response.status, EventStatus::ToastOnly);
        assert!(plan.response.created.is_empty() && !plan.response.duplicate);
    }

    #[test]
    fn a_list_outcome_creates_one_item_per_notified_recipient_in_order() {
        let decisions = vec![
            Decision::Notify(draft("u-2")),
            Decision::Suppressed { recipient_id: "u-9".into(), reason: SuppressReason::SelfAssignment },
            Decision::Notify(draft("u-1")),
        ];
        let plan = outcome(Outcome::List(decisions), counter());
        assert_eq!(
            plan.writes,
            [
                Write::Create(draft("u-2").into_notification("n_1".into())),
                Write::Create(draft("u-1").into_notification("n_2".into()))
            ]
        );
        let created: Vec<_> =
            plan.response.created.iter().map(|c| (c.recipient_id.as_str(), c.id.as_str())).collect();
        assert_eq!(created, [("u-2", "n_1"), ("u-1", "n_2")]);
        assert_eq!(plan.response.suppressed.len(), 1);
        assert_eq!(plan.response.status, EventStatus::Applied);
        let users: Vec<_> = plan.writes.iter().filter_map(Write::user).collect();
        assert_eq!(users, ["u-2", "u-1"], "the users PostgreSQL locks");
    }

    #[test]
    fn random_ids_do_not_repeat() {
        assert_ne!(new_id(), new_id());
        assert!(new_id().starts_with("n_"));
    }

    // NC-R5
    #[test]
    fn nc_r5_a_crm_item_past_its_tabs_retention_is_never_stored() {
        let items = vec![
            crm_item("crm_1", Category::Reminder, Duration::days(91), false),
            crm_item("crm_2", Category::Reminder, Duration::days(89), true),
            crm_item("crm_3", Category::Deals, Duration::days(95), true),
        ];
        let writes = crm_sync("u-1", items, BTreeMap::new(), now());
        let mut expected = crm_item("crm_2", Category::Reminder, Duration::days(89), true);
        expected.recipient_id = "u-1".into();
        assert_eq!(
            writes,
            [
                Write::Create(expected),
                Write::TrackCrm { id: "crm_2".into(), user: "u-1".into(), crm_read: true },
            ]
        );
    }

    #[test]
    fn a_read_on_the_crm_is_read_here_after_the_new_items_nc_r13() {
        let items = vec![
            crm_item("crm_1", Category::Reminder, Duration::days(1), true),
            crm_item("crm_2", Category::Reminder, Duration::days(1), false),
            crm_item("crm_3", Category::Reminder, Duration::days(1), true),
            crm_item("crm_4", Category::Reminder, Duration::days(1), true),
        ];
        let known = stored(&[("crm_1", "u-1", false), ("crm_2", "u-1", false), ("crm_3", "u-1", true)]);
        let writes = crm_sync("u-1", items, known, now());
        assert_eq!(
            &writes[..3],
            [
                Write::CrmRead { id: "crm_1".into() },
                Write::MarkRead { id: "crm_1".into(), at: now() },
                Write::CrmRead { id: "crm_3".into() },
            ]
        );
        assert_eq!(created_ids(&writes), ["crm_4"]);
        assert_eq!(
            writes.last(),
            Some(&Write::Append {
                user: "u-1".into(),
                body: ChangeBody::Read { ids: vec!["crm_1".into()], read_at: now() }
            })
        );
    }

    // ORG-7: an item the agent marked unread again, whose read the CRM knows already (this server
    // sent it), stays unread through the next polls; a new read on the CRM still reads it.
    #[test]
    fn org_7_a_crm_read_known_already_does_not_undo_an_unread() {
        let items = vec![crm_item("crm_1", Category::Reminder, Duration::days(1), true)];
        let mut known = stored(&[("crm_1", "u-1", false)]);
        known.get_mut("crm_1").unwrap().crm_read = true;
        assert!(crm_sync("u-1", items.clone(), known, now()).is_empty(), "nothing read again");
        let writes = crm_sync("u-1", items, stored(&[("crm_1", "u-1", false)]), now());
        assert!(writes.contains(&Write::MarkRead { id: "crm_1".into(), at: now() }));
    }

    #[test]
    fn another_users_item_under_the_same_id_is_never_touched_nc_r3() {
        let items = vec![crm_item("crm_1", Category::Reminder, Duration::days(1), true)];
        assert!(crm_sync("u-1", items, stored(&[("crm_1", "u-2", false)]), now()).is_empty());
    }

    #[test]
    fn an_item_polled_twice_is_created_once_and_then_known() {
        let items = vec![
            crm_item("crm_1", Category::Reminder, Duration::days(1), false),
            crm_item("crm_1", Category::Reminder, Duration::days(1), true),
        ];
        let writes = crm_sync("u-1", items, BTreeMap::new(), now());
        assert_eq!(created_ids(&writes), ["crm_1"]);
        assert!(writes.contains(&Write::MarkRead { id: "crm_1".into(), at: now() }));
        assert_eq!(writes.iter().filter(|w| matches!(w, Write::Append { .. })).count(), 1);
    }

    #[test]
    fn many_ids_make_changes_of_a_thousand_at_most_in_order() {
        let ids: Vec<String> = (0..2_500).map(|i| format!("n_{i}")).collect();
        let sizes: Vec<(usize, String)> = reads("u-1", &ids, now())
            .into_iter()
            .map(|w| match w {
                Write::Append { body: ChangeBody::Read { ids, .. }, .. } => (ids.len(), ids[0].clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sizes, [(1_000, "n_0".into()), (1_000, "n_1000".into()), (500, "n_2000".into())]);
        assert!(reads("u-1", &[], now()).is_empty(), "nothing read, nothing announced");
    }

    // NC-R5
    #[test]
    fn nc_r5_retention_cuts_each_tab_at_its_own_age_and_expires_user_by_user() {
        let r = retention(now());
        let cut = |tab| r.items.iter().find(|(t, _)| *t == tab).map(|(_, at)| *at);
        assert_eq!(cut(Tab::Inbox), Some(now() - Duration::days(7)));
        assert_eq!(cut(Tab::General), Some(now() - Duration::days(90)));
        assert_eq!(cut(Tab::Approval), Some(now() - Duration::days(90)));
        assert_eq!(
            (r.changes_before, r.keys_before),
            (now() - Duration::days(90), now() - Duration::days(30))
        );

        let by_user = BTreeMap::from([
            ("u-2".to_string(), vec!["b".to_string()]),
            ("u-1".to_string(), vec!["a".to_string()]),
        ]);
        let users: Vec<_> = expiries(by_user).iter().filter_map(Write::user).map(str::to_owned).collect();
        assert_eq!(users, ["u-1", "u-2"]);
    }
}
