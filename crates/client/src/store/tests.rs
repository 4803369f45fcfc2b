use super::notifications::page_sql;
use super::schema::{APPLICATION_ID, MIGRATIONS};
use super::*;
use chrono::{DateTime, Duration, Utc};
use lonceng_domain::model::{Kind, Params, MAX_KEPT_RAW};
use rusqlite::Connection;

fn t0() -> DateTime<Utc> {
    "2026-01-20T08:00:00Z".parse().unwrap()
}

/// A valid notification of `category`, created `minutes` after t0.
fn item(id: &str, category: Category, minutes: i64) -> Notification {
    let kind =
        Kind::ALL.iter().copied().find(|k| k.category() == Some(category)).expect("a kind per category");
    let mut params = Params::new();
    for spec in kind.params() {
        params = match spec.ty {
            lonceng_domain::model::ParamType::Count => params.with(spec.name, 1),
            lonceng_domain::model::ParamType::Choice(v) => params.with(spec.name, v[0]),
            lonceng_domain::model::ParamType::Text => params.with(spec.name, "x"),
        };
    }
    Notification {
        id: id.into(),
        category,
        kind,
        params,
        actor_id: Some("u-2".into()),
        recipient_id: "u-1".into(),
        url: format!("https://app.qontak.com/n/{id}"),
        created_at: t0() + Duration::minutes(minutes),
        read_at: None,
    }
}

/// Late enough that every held-back action is due.
fn far() -> DateTime<Utc> {
    t0() + Duration::days(1)
}

fn scope(tab: Tab, category: Option<Category>) -> Scope {
    Scope::new(tab, category).unwrap()
}

fn all(store: &Store, scope: Scope, unread_only: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.page(&ListQuery { scope, unread_only, after, limit: 50 }).unwrap();
        out.extend(page.items.iter().map(|n| n.id.clone()));
        match page.next {
            Some(c) => after = Some(c),
            None => return out,
        }
    }
}

fn assert_counts_consistent(store: &Store) {
    assert_eq!(store.unread_counts().unwrap(), store.recount_unread().unwrap());
}

// MW-4
#[test]
fn mw4_a_resent_item_is_stored_once() {
    let mut s = Store::open_in_memory().unwrap();
    let n = item("n-1", Category::Mention, 0);
    let r1 = s.upsert(std::slice::from_ref(&n), t0()).unwrap();
    let r2 = s.upsert(&[n.clone(), n.clone()], t0()).unwrap();
    assert_eq!(r1.inserted, vec!["n-1"]);
    assert_eq!((r2.inserted.len(), r2.duplicates), (0, 2));
    assert_eq!(all(&s, scope(Tab::General, None), false), vec!["n-1"]);
    assert_eq!(s.unread_counts().unwrap().total(), 1);
}

// MW-4
#[test]
fn mw4_a_late_unread_copy_never_makes_a_read_item_unread() {
    let mut s = Store::open_in_memory().unwrap();
    let n = item("n-1", Category::Mention, 0);
    s.upsert(std::slice::from_ref(&n), t0()).unwrap();
    assert!(s.mark_read("n-1", t0() + Duration::minutes(5)).unwrap());
    let r = s.upsert(&[n], t0() + Duration::minutes(6)).unwrap();
    assert_eq!(r.duplicates, 1);
    let stored = s.get("n-1").unwrap().unwrap();
    assert_eq!(stored.read_at, Some(t0() + Duration::minutes(5)));
    assert_eq!(s.unread_counts().unwrap().total(), 0);
    assert_counts_consistent(&s);
}

// MW-4: the same after a mark-all watermark covers the item.
#[test]
fn mw4_a_late_copy_of_an_item_under_mark_all_stays_read() {
    let mut s = Store::open_in_memory().unwrap();
    s.upsert(&[item("n-1", Category::ChatAssignment, 0)], t0()).unwrap();
    s.mark_all_read(scope(Tab::Inbox, None), t0()).unwrap();
    s.upsert(&[item("n-1", Category::ChatAssignment, 0)], t0()).unwrap();
    assert!(s.get("n-1").unwrap().unwrap().read_at.is_some());
    assert_eq!(s.unread_counts().unwrap().total(), 0);
}

// NC-R13
#[test]
fn nc_r13_read_elsewhere_arrives_as_read_and_keeps_the_earliest_time() {
    let mut s = Store::open_in_memory().unwrap();
    s.upsert(&[item("n-1", Category::Deals, 0), item("n-2", Category::Deals, 1)], t0()).unwrap();
    let mut copy = item("n-1", Category::Deals, 0);
    copy.read_at = Some(t0() + Duration::minutes(10));
    let r = s
        .apply(
            &Batch {
                items: vec![copy.clone()],
                reads: vec![
                    RemoteRead { id: "n-2".into(), read_at: t0() + Duration::minutes(3) },
                    RemoteRead { id: "unknown".into(), read_at: t0() },
                ],
                ..Batch::default()
            },
            t0(),
        )
        .unwrap();
    assert_eq!(r.newly_read, vec!["n-1", "n-2"]);
    // An earlier read time from another device wins; a later one changes nothing.
    copy.read_at = Some(t0() + Duration::minutes(2));
    s.upsert(&[copy.clone()], t0()).unwrap();
    copy.read_at = Some(t0() + Duration::minutes(30));
    let r = s.upsert(&[copy], t0()).unwrap();
    assert!(r.newly_read.is_empty());
    assert_eq!(s.get("n-1").unwrap().unwrap().read_at, Some(t0() + Duration::minutes(2)));
    assert_eq!(s.unread_counts().unwrap().total(), 0);
    // Read elsewhere is not an action of this device: nothing to send.
    assert!(s.outbox_pending(10, far()).unwrap().is_empty());
}

#[test]
fn pages_follow_tab_category_and_unread_filters_newest_first_without_gaps() {
    let mut s = Store::open_in_memory().unwrap();
    let mut items = Vec::new();
    for i in 0..400i64 {
        let c = Category::ALL[(i * 7 % 10) as usize];
        // Many share a timestamp, so the id breaks ties.
        let mut n = item(&format!("n-{i:03}"), c, (i * 13) % 97);
        if i % 3 == 0 {
            n.read_at = Some(n.created_at);
        }
        items.push(n);
    }
    s.upsert(&items, t0()).unwrap();
    for tab in Tab::ALL {
        let chips = std::iter::once(None).chain(tab.categories().iter().map(|c| Some(*c)));
        for category in chips {
            for unread_only in [false, true] {
                let mut expected: Vec<&Notification> = items
                    .iter()
                    .filter(|n| n.tab() == *tab && category.is_none_or(|c| n.category == c))
                    .filter(|n| !unread_only || n.read_at.is_none())
                    .collect();
                expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
                let expected: Vec<String> = expected.iter().map(|n| n.id.clone()).collect();
                assert!(!expected.is_empty());
                assert_eq!(
                    all(&s, scope(*tab, category), unread_only),
                    expected,
                    "{tab} {category:?} {unread_only}"
                );
            }
        }
    }
}

#[test]
fn every_page_query_walks_its_index_without_sorting() {
    let s = Store::open_in_memory().unwrap();
    for tab in Tab::ALL {
        for category in [None, Some(tab.categories()[0])] {
            for unread_only in [false, true] {
                for after in [None, Some(PageCursor { created_at: t0(), id: "x".into() })] {
                    let q = ListQuery { scope: scope(*tab, category), unread_only, after, limit: 50 };
                    let (sql, _) = page_sql(&q);
                    let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
                    let all_params: [&dyn rusqlite::ToSql; 4] = [&1, &50, &0, &"x"];
                    let used = &all_params[..stmt.parameter_count()];
                    let plan: Vec<String> = stmt
                        .query_map(used, |r| r.get::<_, String>(3))
                        .unwrap()
                        .collect::<Result<_, _>>()
                        .unwrap();
                    let plan = plan.join(" | ");
                    assert!(!plan.contains("TEMP B-TREE"), "{q:?}: {plan}");
                    assert!(plan.contains("USING INDEX notif_"), "{q:?}: {plan}");
                }
            }
        }
    }
}

#[test]
fn a_category_outside_the_tab_is_refused() {
    assert!(matches!(
        Scope::new(Tab::General, Some(Category::Deals)),
        Err(StoreError::CategoryNotInTab { tab: Tab::General, category: Category::Deals })
    ));
}

// NC-R8
#[test]
fn nc_r8_mark_one_read_changes_only_that_item_and_queues_it_for_the_server() {
    let mut s = Store::open_in_memory().unwrap();
    s.upsert(&[item("n-1", Category::Reminder, 0), item("n-2", Category::Reminder, 1)], t0()).unwrap();
    assert!(s.mark_read("n-1", t0()).unwrap());
    assert!(!s.mark_read("n-1", t0()).unwrap(), "second click changes nothing");
    assert!(matches!(s.mark_read("nope", t0()), Err(StoreError::NotFound(id)) if id == "nope"));
    assert_eq!(all(&s, scope(Tab::General, None), true), vec!["n-2"]);
    let counts = s.unread_counts().unwrap();
    assert_eq!((counts.category(Category::Reminder), counts.tab(Tab::General), counts.total()), (1, 1, 1));
    let pending = s.outbox_pending(10, far()).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].op, OutboxOp::MarkRead { id: "n-1".into(), at: t0() });
    assert_eq!(pending[0].idempotency_key, "read:n-1");
}

fn mixed_store() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    let mut items = Vec::new();
    for (i, c) in Category::ALL.iter().enumerate() {
        for j in 0..5 {
            items.push(item(&format!("{c}-{j}"), *c, (i * 10 + j) as i64));
        }
    }
    s.upsert(&items, t0()).unwrap();
    s.set_state(CURSOR_KEY, "seq-50").unwrap();
    s
}

// NC-R6
#[test]
fn nc_r6_mark_all_read_changes_exactly_the_active_tab_and_category() {
    let mut s = mixed_store();
    let before = s.unread_counts().unwrap();
    let report = s.mark_all_read(scope(Tab::Inbox, Some(Category::ChatAssignment)), t0()).unwrap();
    assert_eq!(report.changed, 5);
    assert_eq!(report.per_category, vec![(Category::ChatAssignment, 5)]);
    let after = s.unread_counts().unwrap();
    for c in Category::ALL {
        let expected = if *c == Category::ChatAssignment { 0 } else { before.category(*c) };
        assert_eq!(after.category(*c), expected, "{c}");
    }
    // Items outside the scope keep no read time.
    assert!(s.get("resolved-0").unwrap().unwrap().read_at.is_none());
    assert_eq!(s.get("chat_assignment-3").unwrap().unwrap().read_at, Some(t0()));
    assert_counts_consistent(&s);
}

// NC-R6
#[test]
fn nc_r6_mark_all_read_of_a_whole_tab_leaves_other_tabs_and_later_arrivals_unread() {
    let mut s = mixed_store();
    let report = s.mark_all_read(scope(Tab::General, None), t0()).unwrap();
    assert_eq!(report.changed, 25);
    let late = item("late-mention", Category::Mention, -600);
    s.upsert(&[late], t0() + Duration::seconds(1)).unwrap();
    let counts = s.unread_counts().unwrap();
    assert_eq!(counts.tab(Tab::General), 1, "the item that arrived after the click stays unread");
    assert_eq!(counts.tab(Tab::Inbox), 15);
    assert_eq!(counts.tab(Tab::Approval), 10);
    assert_eq!(all(&s, scope(Tab::General, None), true), vec!["late-mention"]);
    assert_counts_consistent(&s);
    // Marking again changes only the late item.
    assert_eq!(s.mark_all_read(scope(Tab::General, None), t0()).unwrap().changed, 1);
    assert_eq!(s.mark_all_read(scope(Tab::General, None), t0()).unwrap().changed, 0);
}

// NC-R6 + MW-6
#[test]
fn mw6_mark_all_read_is_queued_with_its_scope_and_the_cursor_the_agent_saw() {
    let mut s = mixed_store();
    s.mark_all_read(scope(Tab::Approval, Some(Category::Expenses)), t0()).unwrap();
    s.mark_all_read(scope(Tab::Approval, Some(Category::Expenses)), t0()).unwrap(); // nothing left
    let pending = s.outbox_pending(10, far()).unwrap();
    assert_eq!(pending.len(), 1, "a mark-all that changed nothing sends nothing");
    assert_eq!(
        pending[0].op,
        OutboxOp::MarkAllRead {
            tab: Tab::Approval,
            category: Some(Category::Expenses),
            upto_cursor: Some("seq-50".into()),
            upto_seq: 50,
            at: t0()
        }
    );
    // A server that marks items one by one gets exactly the five expenses.
    let mut ids = s.ids_covered(&pending[0].op).unwrap();
    ids.sort();
    assert_eq!(ids, (0..5).map(|j| format!("expenses-{j}")).collect::<Vec<_>>());
}

// NC-R5 (server side)
#[test]
fn items_the_server_expired_are_removed_and_uncounted() {
    let mut s = mixed_store();
    s.mark_read("deals-1", t0()).unwrap();
    let r = s
        .apply(
            &Batch {
                expired: vec!["deals-0".into(), "deals-1".into(), "never-had".into()],
                ..Batch::default()
            },
            t0(),
        )
        .unwrap();
    assert_eq!(r.removed, 2);
    assert!(s.get("deals-0").unwrap().is_none());
    assert_eq!(s.unread_counts().unwrap().category(Category::Deals), 3);
    assert_counts_consistent(&s);
}

#[test]
fn compaction_changes_no_read_state_and_finishes() {
    let mut s = mixed_store();
    s.mark_read("mention-0", t0() - Duration::minutes(1)).unwrap();
    s.mark_all_read(scope(Tab::General, None), t0()).unwrap();
    let unread_before = all(&s, scope(Tab::General, None), true);
    let states_before: Vec<_> = all(&s, scope(Tab::General, None), false)
        .iter()
        .map(|id| s.get(id).unwrap().unwrap().read_at)
        .collect();
    let mut written = 0;
    loop {
        let n = s.compact_read_marks(7, far()).unwrap();
        if n == 0 {
            break;
        }
        written += n;
    }
    assert_eq!(written, 24, "every covered unread row, except the one read by itself");
    assert_eq!(all(&s, scope(Tab::General, None), true), unread_before);
    let states_after: Vec<_> = all(&s, scope(Tab::General, None), false)
        .iter()
        .map(|id| s.get(id).unwrap().unwrap().read_at)
        .collect();
    assert_eq!(states_after, states_before);
    assert_eq!(s.get("mention-0").unwrap().unwrap().read_at, Some(t0() - Duration::minutes(1)));
    assert_counts_consistent(&s);
}

/// A deterministic mix of every mutation; the maintained counters must match a recount throughout.
#[test]
fn unread_counters_always_match_a_recount() {
    let mut s = Store::open_in_memory().unwrap();
    let mut x: u64 = 42;
    let mut next = move || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        x >> 33
    };
    for round in 0..300 {
        let now = t0() + Duration::hours(round);
        match next() % 6 {
            0 | 1 => {
                let c = Category::ALL[(next() % 10) as usize];
                let mut n = item(&format!("n-{}", next() % 200), c, round * 60 - (next() % 20_000) as i64);
                if next() % 4 == 0 {
                    n.read_at = Some(now);
                }
                s.upsert(&[n], now).unwrap();
            }
            2 => {
                let _ = s.mark_read(&format!("n-{}", next() % 200), now);
            }
            3 => {
                let tab = Tab::ALL[(next() % 3) as usize];
                let cat = (next() % 2 == 0).then(|| tab.categories()[0]);
                s.mark_all_read(scope(tab, cat), now).unwrap();
            }
            4 => {
                s.prune_expired(now).unwrap();
            }
            _ => {
                s.compact_read_marks(3, now).unwrap();
            }
        }
        assert_counts_consistent(&s);
    }
}

// NC-R5
#[test]
fn nc_r5_pruning_removes_what_each_tab_no_longer_keeps() {
    let mut s = Store::open_in_memory().unwrap();
    let day = 24 * 60;
    s.upsert(
        &[
            item("inbox-8d", Category::Resolved, -8 * day),
            item("inbox-6d", Category::Resolved, -6 * day),
            item("general-8d", Category::Mention, -8 * day),
            item("general-89d", Category::Mention, -89 * day),
            item("approval-8d", Category::Deals, -8 * day),
        ],
        // Stored two days ago, when the 8-day-old Inbox item was only 6 days old.
        t0() - Duration::days(2),
    )
    .unwrap();
    s.set_state("keep", "me").unwrap();
    assert_eq!(s.unread_counts().unwrap().total(), 5);
    let r = s.prune_expired(t0()).unwrap();
    assert_eq!(r, PruneReport { removed: 1, removed_unread: 1 });
    assert!(s.get("inbox-8d").unwrap().is_none());
    for kept in ["inbox-6d", "general-8d", "general-89d", "approval-8d"] {
        assert!(s.get(kept).unwrap().is_some(), "{kept}");
    }
    let r = s.prune_expired(t0() + Duration::days(2)).unwrap();
    assert_eq!(r.removed, 2, "inbox-6d and general-89d");
    assert_eq!(s.unread_counts().unwrap().total(), 2);
    assert_counts_consistent(&s);
}

// NC-R5
#[test]
fn nc_r5_an_item_already_expired_on_arrival_is_not_stored() {
    let mut s = Store::open_in_memory().unwrap();
    let r = s.upsert(&[item("old", Category::ChatAssignment, -8 * 24 * 60)], t0()).unwrap();
    assert_eq!((r.expired, r.inserted.len()), (1, 0));
    assert!(s.get("old").unwrap().is_none());
}

// MW-6, MW-3
#[test]
fn mw6_outbox_cursor_items_and_quarantine_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lonceng.db");
    {
        let mut s = Store::open(&path).unwrap();
        s.apply(
            &Batch {
                items: vec![item("n-1", Category::Mention, 0), item("n-2", Category::Deals, 0)],
                rejected: vec![Rejected {
                    raw: r#"{"id":"n-3","kind":"hologram"}"#.into(),
                    error: "unknown Kind 'hologram'".into(),
                }],
                cursor: Some("c-17".into()),
                ..Batch::default()
            },
            t0(),
        )
        .unwrap();
        s.mark_read("n-1", t0()).unwrap();
        s.mark_all_read(scope(Tab::Approval, None), t0()).unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.state(CURSOR_KEY).unwrap().as_deref(), Some("c-17"));
    assert_eq!(s.unread_counts().unwrap().total(), 0);
    assert!(s.get("n-2").unwrap().unwrap().read_at.is_some(), "watermark survives the restart");
    let pending = s.outbox_pending(10, far()).unwrap();
    assert_eq!(pending.len(), 2);
    s.outbox_failed(&pending[0], "503 maintenance").unwrap();
    let again = s.outbox_pending(10, far()).unwrap();
    assert_eq!((again[0].attempts, again[0].last_error.as_deref()), (1, Some("503 maintenance")));
    s.outbox_done(&pending[0]).unwrap();
    s.outbox_done(&pending[1]).unwrap();
    assert!(s.outbox_pending(10, far()).unwrap().is_empty());
    let q = s.quarantined().unwrap();
    assert_eq!(q.len(), 1);
    assert!(q[0].raw.contains("hologram") && q[0].error.contains("hologram"));
}

#[test]
fn a_damaged_file_is_reported_with_its_path_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lonceng.db");
    std::fs::write(&path, b"this is not a database, just text that someone saved here...").unwrap();
    let err = Store::open(&path).err().expect("must fail");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()) && msg.contains("move the file away"), "{msg}");
}

#[test]
fn a_database_from_a_newer_lonceng_is_refused_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lonceng.db");
    drop(Store::open(&path).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    let err = Store::open(&path).err().expect("must fail");
    let supported = MIGRATIONS.len() as i64;
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, supported: s, .. } if s == supported),
        "{err:?}"
    );
    assert!(err.to_string().contains("Update Lonceng"));
    let version: i64 =
        Connection::open(&path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, 99);
}

#[test]
fn another_programs_database_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path).unwrap().execute_batch("CREATE TABLE songs (title TEXT)").unwrap();
    let err = Store::open(&path).err().expect("must fail");
    assert!(matches!(err, StoreError::NotLonceng { found: 0, .. }), "{err:?}");
}

#[test]
fn reopening_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lonceng.db");
    let mut s = Store::open(&path).unwrap();
    s.upsert(&[item("n-1", Category::Mention, 0)], t0()).unwrap();
    drop(s);
    let s = Store::open(&path).unwrap();
    assert_eq!(s.unread_counts().unwrap().total(), 1);
    let journal: String = s.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");
}

// NC-R6 (undo) + MW-6
#[test]
fn a_mark_all_can_be_undone_until_it_leaves_for_the_server() {
    let mut s = mixed_store();
    s.mark_read("chat_assignment-1", t0()).unwrap();
    let before = s.unread_counts().unwrap();
    let report = s.mark_all_read(scope(Tab::Inbox, None), t0()).unwrap();
    assert_eq!(report.changed, 14);
    // Held back during the undo window; the single mark-read is due at once.
    assert_eq!(s.outbox_pending(10, t0()).unwrap().len(), 1);
    assert_eq!(s.outbox_pending(10, t0() + UNDO_WINDOW).unwrap().len(), 2);
    // During the undo window compaction leaves the mark alone.
    assert_eq!(s.compact_read_marks(100, t0() + Duration::seconds(5)).unwrap(), 0);
    assert!(s.undo_mark_all(&report, t0() + Duration::seconds(5)).unwrap());
    assert_eq!(s.unread_counts().unwrap(), before);
    assert_counts_consistent(&s);
    assert!(s.get("resolved-2").unwrap().unwrap().read_at.is_none());
    assert!(
        s.get("chat_assignment-1").unwrap().unwrap().read_at.is_some(),
        "read on its own before: stays read"
    );
    assert_eq!(s.outbox_pending(10, far()).unwrap().len(), 1, "the mark-all will not be sent");
    assert!(!s.undo_mark_all(&report, t0()).unwrap(), "twice is once");
    // Once sent, it is too late; and after the window too (even offline, with the action unsent).
    let report = s.mark_all_read(scope(Tab::Inbox, None), t0()).unwrap();
    for e in s.outbox_pending(10, far()).unwrap() {
        s.outbox_done(&e).unwrap();
    }
    assert!(!s.undo_mark_all(&report, t0()).unwrap());
    assert_eq!(s.unread_counts().unwrap().tab(Tab::Inbox), 0);
    let report = s.mark_all_read(scope(Tab::General, None), t0()).unwrap();
    assert!(!s.undo_mark_all(&report, t0() + UNDO_WINDOW + Duration::seconds(1)).unwrap());
    assert_eq!(s.outbox_pending(10, far()).unwrap().len(), 1, "still sent");
}

#[test]
fn a_version_1_database_is_migrated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        for c in Category::ALL {
            conn.execute("INSERT INTO read_marks VALUES (?1, 0, 0)", [c.code()]).unwrap();
            conn.execute("INSERT INTO unread_counts VALUES (?1, 0)", [c.code()]).unwrap();
        }
        conn.execute(
            "INSERT INTO outbox (idempotency_key, op, created_at) VALUES ('read:x', ?1, 0)",
            [serde_json::to_string(&OutboxOp::MarkRead { id: "x".into(), at: t0() }).unwrap()],
        )
        .unwrap();
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"))
            .unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.outbox_pending(10, t0()).unwrap().len(), 1, "old actions stay due");
    let version: i64 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64, "migrated to the current schema");
    s.upsert(&[item("a", Category::Mention, 1)], t0()).unwrap();
    assert_eq!(all(&s, scope(Tab::General, None), true), ["a"]);
}

// v4 rebuilds the list with numbers never reused: the rows, their numbers and the read state stay,
// and numbers a watermark covered are not handed out again.
#[test]
fn a_version_3_list_keeps_its_rows_numbers_and_read_state_in_v4() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    {
        let conn = Connection::open(&path).unwrap();
        for m in &MIGRATIONS[..3] {
            conn.execute_batch(m.sql).unwrap();
        }
        for c in Category::ALL {
            // Everything up to 7 was read by a mark-all, and those items were pruned since.
            conn.execute("INSERT INTO read_marks VALUES (?1, 7, 0)", [c.code()]).unwrap();
            conn.execute("INSERT INTO unread_counts VALUES (?1, 0)", [c.code()]).unwrap();
        }
        conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 3;"))
            .unwrap();
    }
    let mut s = Store::open(&path).unwrap();
    s.upsert(&[item("new", Category::Mention, 1)], t0()).unwrap();
    let seq: i64 =
        s.conn.query_row("SELECT seq FROM notifications WHERE id = 'new'", [], |r| r.get(0)).unwrap();
    assert_eq!(seq, 8, "after the watermark");
    assert_eq!(all(&s, scope(Tab::General, None), true), ["new"]);
    assert_counts_consistent(&s);
}

// A source without a cursor (the CRM list) sends the same bad item on every poll: it is kept once.
#[test]
fn a_rejected_item_sent_again_is_quarantined_once() {
    let mut s = Store::open_in_memory().unwrap();
    let batch =
        Batch { rejected: vec![Rejected::new("{\"id\": 1}", "CRM notification: bad")], ..Batch::default() };
    assert_eq!(s.apply(&batch, t0()).unwrap().quarantined, 1);
    assert_eq!(s.apply(&batch, far()).unwrap().quarantined, 0, "nothing new to report");
    assert_eq!(s.quarantined().unwrap().len(), 1);
    let huge = "x".repeat(MAX_KEPT_RAW * 4);
    let kept = Rejected::new(&huge, "too big");
    assert!(kept.raw.len() < MAX_KEPT_RAW + 100 && kept.raw.ends_with("bytes in all)"), "{}", kept.raw.len());
}

#[test]
fn a_store_filled_from_another_source_is_emptied_when_bound_to_a_new_one() {
    let mut store = Store::open_in_memory().unwrap();
    let now = t0();
    // A store bound to nothing yet keeps what it has (an install from before sources were named).
    store.upsert(&[item("a", Category::Mention, 0)], now).unwrap();
    assert!(!store.bind_source("server:https://nc.example.com|u-1").unwrap());
    assert_eq!(store.len().unwrap(), 1);
    assert!(!store.bind_source("server:https://nc.example.com|u-1").unwrap(), "the same source again");
    store.mark_all_read(Scope::new(Tab::General, None).unwrap(), now).unwrap();
    store.set_state(CURSOR_KEY, "42").unwrap();

    assert!(store.bind_source("crm:https://api.mekari.com|sso-1").unwrap());
    assert_eq!(store.len().unwrap(), 0);
    assert_eq!(store.unread_counts().unwrap().total(), 0);
    assert_eq!(store.state(CURSOR_KEY).unwrap(), None, "no cursor of the other source");
    assert!(store.outbox_pending(10, far()).unwrap().is_empty(), "no action for the other source");
    // A new item of the new source counts as unread: no read mark of the old one covers it.
    store.upsert(&[item("crm_1", Category::Mention, 1)], now).unwrap();
    assert_eq!(store.unread_counts().unwrap().total(), 1);
    // ...and every unread query finds it: the watermarks are there again, at nothing.
    let general = Scope::new(Tab::General, None).unwrap();
    assert_eq!(all(&store, general, true), ["crm_1"]);
    assert_counts_consistent(&store);
    assert!(store.snooze("crm_1", far()).unwrap());
    assert!(store.unsnooze("crm_1").unwrap());
    assert_eq!(store.mark_all_read(general, now).unwrap().changed, 1);
}

// A number is never handed out twice: an item arriving after the newest one went is not taken
// for read by a watermark that covered the one gone, and is indexed for search.
#[test]
fn an_item_arriving_after_the_newest_one_went_is_unread_and_found() {
    let mut s = Store::open_in_memory().unwrap();
    let general = scope(Tab::General, None);
    s.upsert(&[item("a", Category::Mention, 1), item("b", Category::Mention, 2)], t0()).unwrap();
    s.mark_all_read(general, t0()).unwrap();
    s.index_all().unwrap();
    s.apply(&Batch { expired: vec!["b".into()], ..Batch::default() }, t0()).unwrap();
    s.upsert(&[item("c", Category::Mention, 3)], t0()).unwrap();
    assert_eq!(all(&s, general, true), ["c"], "not under the watermark");
    assert_counts_consistent(&s);
    assert_eq!(s.index_all().unwrap(), 1, "indexed, not taken for one indexed before");
    assert_eq!(found(&s, "x", None), ["c", "a"]);
}

// ---- snooze, held toasts, search (issue 15) ----

#[test]
fn a_snoozed_item_leaves_the_lists_and_counts_and_comes_back_unread_at_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let mut s = Store::open(&path).unwrap();
    s.upsert(&[item("a", Category::Mention, 1), item("b", Category::Mention, 2)], t0()).unwrap();
    let general = scope(Tab::General, None);
    let back = t0() + Duration::hours(1);
    assert!(s.snooze("a", back).unwrap());
    assert_eq!(all(&s, general, true), ["b"]);
    assert_eq!(all(&s, general, false), ["b"]);
    assert_eq!(s.unread_counts().unwrap().category(Category::Mention), 1);
    assert_counts_consistent(&s);
    assert_eq!(s.next_snooze().unwrap(), Some(back));
    drop(s);

    // Persisted: after a restart it still waits, and nothing is due early.
    let mut s = Store::open(&path).unwrap();
    let waiting = s.snoozed().unwrap();
    assert_eq!((waiting.len(), waiting[0].notification.id.as_str(), waiting[0].until), (1, "a", back));
    assert!(s.take_due_snoozes(back - Duration::seconds(1)).unwrap().is_empty());
    let due = s.take_due_snoozes(back).unwrap();
    assert_eq!(due.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(due[0].read_at, None, "back as unread");
    assert_eq!(all(&s, general, true), ["b", "a"]);
    assert_eq!(s.unread_counts().unwrap().category(Category::Mention), 2);
    assert!(s.snoozed().unwrap().is_empty() && s.next_snooze().unwrap().is_none());
    assert!(s.take_due_snoozes(far()).unwrap().is_empty(), "once");
}

// NC-R13
#[test]
fn nc_r13_a_snooze_is_cancelled_when_the_item_is_read_anywhere() {
    let mut s = Store::open_in_memory().unwrap();
    s.upsert(
        &[item("a", Category::Mention, 1), item("b", Category::Mention, 2), item("c", Category::Deals, 3)],
        t0(),
    )
    .unwrap();
    for id in ["a", "b", "c"] {
        s.snooze(id, t0() + Duration::hours(1)).unwrap();
    }
    // Read on the phone (the server's read state), on this device, and by a mark-all.
    s.apply(&Batch { reads: vec![RemoteRead { id: "a".into(), read_at: t0() }], ..Batch::default() }, t0())
        .unwrap();
    s.mark_read("b", t0()).unwrap();
    s.mark_all_read(scope(Tab::Approval, None), t0()).unwrap();
    assert_counts_consistent(&s);
    assert!(s.snoozed().unwrap().is_empty(), "nothing waits");
    assert!(s.take_due_snoozes(far()).unwrap().is_empty(), "nothing comes back");
    // A read item cannot be snoozed; an unknown one is an error.
    assert!(!s.snooze("a", far()).unwrap());
    assert!(matches!(s.snooze("zz", far()), Err(StoreError::NotFound(_))));
    // Unsnooze brings an item back at once.
    s.upsert(&[item("d", Category::Mention, 4)], t0()).unwrap();
    s.snooze("d", far()).unwrap();
    assert!(s.unsnooze("d").unwrap());
    assert_eq!(all(&s, scope(Tab::General, None), true), ["d"]);
}

#[test]
fn held_toasts_survive_a_restart_and_leave_out_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let mut s = Store::open(&path).unwrap();
    s.upsert(&[item("a", Category::Mention, 1), item("b", Category::Mention, 2)], t0()).unwrap();
    s.hold_toast(crate::toast::Held::Item("a")).unwrap();
    s.hold_toast(crate::toast::Held::Item("b")).unwrap();
    s.hold_toast(crate::toast::Held::Item("a")).unwrap();
    s.hold_toast(crate::toast::Held::Other(3)).unwrap();
    s.mark_read("b", t0()).unwrap();
    drop(s);
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.release_held().unwrap(), 4, "a (once), and three chat messages");
    assert_eq!(s.release_held().unwrap(), 0, "once");
}

fn searchable() -> Store {
    let mut s = Store::open_in_memory().unwrap();
    let deal = |id: &str, name: &str, minutes| {
        let mut n = item(id, Category::Assignment, minutes);
        n.kind = Kind::DealOwnerAssigned;
        n.params = Params::new().with("actor", "Budi Santoso").with("deal_name", name);
        n
    };
    let mut ticket = item("t", Category::Mention, 5);
    ticket.params = ticket.params.with("ticket_number", 4821);
    s.upsert(
        &[deal("d1", "PT Maju Jaya", 1), deal("d2", "Café Élan", 2), item("m", Category::Mention, 3), ticket],
        t0(),
    )
    .unwrap();
    s.index_all().unwrap();
    s
}

fn found(s: &Store, text: &str, scope: Option<Scope>) -> Vec<String> {
    let q = SearchQuery { text: text.into(), scope, unread_only: false, limit: 50, before: None };
    s.search(&q).unwrap().items.into_iter().map(|n| n.id).collect()
}

#[test]
fn search_finds_parameters_by_word_prefix_case_and_accents_newest_first() {
    let s = searchable();
    assert_eq!(found(&s, "maju", None), ["d1"]);
    assert_eq!(found(&s, "MAJ", None), ["d1"], "a prefix, any case");
    assert_eq!(found(&s, "cafe elan", None), ["d2"], "without accents");
    assert_eq!(found(&s, "budi", None), ["d2", "d1"], "newest first");
    assert_eq!(found(&s, "budi jaya", None), ["d1"], "every word");
    assert_eq!(found(&s, "4821", None), ["t"], "numbers");
    // Scoped to a tab or a chip.
    assert_eq!(found(&s, "budi", Some(scope(Tab::Approval, None))), Vec::<String>::new());
    assert_eq!(found(&s, "budi", Some(scope(Tab::General, Some(Category::Assignment)))), ["d2", "d1"]);
}

#[test]
fn search_text_is_never_query_syntax() {
    let s = searchable();
    for hostile in [
        "\"",
        "maju\"",
        "maju OR budi",
        "NEAR(maju budi)",
        "text:maju",
        "maju*",
        "-maju",
        "^maju",
        "(",
        "')--",
        "\u{0}",
        "\u{202e}maju",
        "",
    ] {
        let q =
            SearchQuery { text: hostile.into(), scope: None, unread_only: false, limit: 50, before: None };
        assert!(s.search(&q).is_ok(), "{hostile:?}");
    }
    assert_eq!(found(&s, "maju OR zzz", None), Vec::<String>::new(), "OR is a word, not an operator");
    assert_eq!(found(&s, "\"maju\"", None), ["d1"]);
    let huge = "maju ".repeat(100_000);
    assert_eq!(found(&s, &huge, None), ["d1"], "only the first words count");
}

#[test]
fn search_follows_the_indexer_and_forgets_what_retention_removes() {
    let mut s = searchable();
    // The app's indexer (rendered text); items already stored are not indexed twice.
    s.set_indexer(std::sync::Arc::new(|n: &Notification| format!("rendered {}", n.id)));
    assert_eq!(s.index_all().unwrap(), 0, "nothing left to index");
    s.upsert(&[item("new", Category::Mention, 6)], t0()).unwrap();
    assert_eq!(found(&s, "rendered", None), Vec::<String>::new(), "indexed after the fact");
    assert_eq!(s.index_some(10).unwrap(), 1);
    assert_eq!(found(&s, "rendered", None), ["new"]);
    assert_eq!(found(&s, "maju", None), ["d1"]);
    // Gone from the store, gone from search, in every tab's index.
    s.upsert(&[item("in", Category::ChatAssignment, 7), item("ap", Category::Deals, 8)], t0()).unwrap();
    s.index_all().unwrap();
    assert_eq!(found(&s, "rendered", None), ["ap", "in", "new"]);
    s.apply(&Batch { expired: vec!["d1".into(), "in".into(), "ap".into()], ..Batch::default() }, t0())
        .unwrap();
    assert_eq!(found(&s, "maju", None), Vec::<String>::new());
    assert_eq!(found(&s, "rendered", None), ["new"]);
    s.prune_expired(t0() + Duration::days(400)).unwrap();
    assert_eq!(found(&s, "rendered", None), Vec::<String>::new());
}

#[test]
fn items_are_indexed_in_batches_after_the_fact_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    let mut s = Store::open(&path).unwrap();
    s.set_indexer(std::sync::Arc::new(|n: &Notification| format!("word {}", n.id)));
    s.upsert(
        &[item("a", Category::Mention, 1), item("b", Category::Mention, 2), item("c", Category::Mention, 3)],
        t0(),
    )
    .unwrap();
    assert_eq!(s.index_some(2).unwrap(), 2);
    drop(s);
    // Where it stopped survives a restart (as a store from before search starts at nothing).
    let mut s = Store::open(&path).unwrap();
    s.set_indexer(std::sync::Arc::new(|n: &Notification| format!("word {}", n.id)));
    assert_eq!(s.index_all().unwrap(), 1);
    assert_eq!(s.index_all().unwrap(), 0);
    assert_eq!(found(&s, "word", None), ["c", "b", "a"]);
}

#[test]
fn search_finds_the_text_as_rendered_in_both_languages() {
    let mut s = searchable();
    s.set_indexer(rendered(std::sync::Arc::new(lonceng_domain::i18n::Catalog::builtin().unwrap())));
    let mut d = item("d3", Category::Assignment, 9);
    d.kind = Kind::DealOwnerAssigned;
    d.params = Params::new().with("actor", "Siti").with("deal_name", "PT Sejahtera");
    s.upsert(&[d], t0()).unwrap();
    s.index_all().unwrap();
    assert_eq!(found(&s, "owner sejahtera", None), ["d3"], "English");
    assert_eq!(found(&s, "pemilik sejahtera", None), ["d3"], "Indonesian");
    assert_eq!(found(&s, "siti", None), ["d3"], "parameters");
}

#[test]
fn search_folds_letters_people_type_without_them() {
    let mut s = Store::open_in_memory().unwrap();
    let named = |id: &str, name: &str, minutes| {
        let mut n = item(id, Category::Mention, minutes);
        n.params = n.params.with("actor", name);
        n
    };
    s.upsert(
        &[
            named("l", "Łukasz Wójcik", 1),
            named("o", "Søren Kjær", 2),
            named("d", "Đorđe Petrović", 3),
            named("ss", "Straße Æbelø", 4),
        ],
        t0(),
    )
    .unwrap();
    s.index_all().unwrap();
    for (typed, want) in [
        ("lukasz", "l"),
        ("Łukasz", "l"),
        ("LUKASZ wojcik", "l"),
        ("soren kjaer", "o"),
        ("dorde petrovic", "d"),
        ("strasse", "ss"),
        ("straße", "ss"),
        ("aebelo", "ss"),
        ("luk", "l"),
    ] {
        assert_eq!(found(&s, typed, None), [want], "{typed:?}");
    }
}

#[test]
fn search_pages_through_every_match_and_counts_them() {
    let mut s = Store::open_in_memory().unwrap();
    let items: Vec<Notification> = (0..250)
        .map(|i| {
            let category = [Category::Mention, Category::ChatAssignment, Category::Deals][i % 3];
            let mut n = item(&format!("n{i}"), category, i as i64);
            n.params = n.params.with("actor", "Budi");
            n
        })
        .collect();
    s.upsert(&items, t0()).unwrap();
    s.index_all().unwrap();
    let query = |before, unread_only| SearchQuery {
        text: "budi".into(),
        scope: None,
        unread_only,
        limit: 100,
        before,
    };
    assert_eq!(s.search_count(&query(None, false)).unwrap(), 250);
    let (mut seen, mut before, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = s.search(&query(before, false)).unwrap();
        pages += 1;
        assert!(page.items.len() <= 100);
        seen.extend(page.items.into_iter().map(|n| n.id));
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let unique: std::collections::BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!((seen.len(), unique.len()), (250, 250), "each once, none missing");
    // The newest arrivals come first.
    assert_eq!(seen[0], "n249");
    // Within a tab, and unread only.
    let inbox = SearchQuery { scope: Some(scope(Tab::Inbox, None)), ..query(None, false) };
    assert_eq!(s.search_count(&inbox).unwrap(), 83);
    s.mark_read("n0", t0()).unwrap();
    assert_eq!(s.search_count(&query(None, true)).unwrap(), 249);
    assert_eq!(s.search_count(&query(None, false)).unwrap(), 250);
    let nothing = SearchQuery { text: "  ".into(), ..query(None, false) };
    assert_eq!(s.search_count(&nothing).unwrap(), 0);
}

// ORG-7: an item unread again here is counted and listed again, under a mark-all's watermark too,
// found by search again, and queued for the server, replacing a read that has not left yet.
#[test]
fn org_7_mark_unread_counts_lists_and_queues_it_under_a_watermark_too() {
    let mut s = mixed_store();
    let general = scope(Tab::General, None);
    let unread_general = |s: &Store| s.unread_counts().unwrap().tab(Tab::General);
    let all_general = unread_general(&s);
    s.mark_read("mention-1", t0()).unwrap();
    assert!(s.mark_unread("mention-1", t0()).unwrap());
    assert!(!s.mark_unread("mention-1", t0()).unwrap(), "unread already");
    assert_eq!(unread_general(&s), all_general);
    let ops: Vec<OutboxOp> = s.outbox_pending(10, t0()).unwrap().into_iter().map(|e| e.op).collect();
    assert_eq!(
        ops,
        [OutboxOp::MarkUnread { id: "mention-1".into(), at: t0() }],
        "the read never left: replaced"
    );

    // Under a mark-all's watermark: unread again, and nothing else.
    s.index_all().unwrap();
    s.mark_all_read(general, t0()).unwrap();
    assert_eq!(unread_general(&s), 0);
    assert!(s.mark_unread("mention-3", t0()).unwrap());
    assert_eq!(unread_general(&s), 1);
    assert_eq!(all(&s, general, true), ["mention-3"]);
    assert_eq!(s.recount_unread().unwrap(), s.unread_counts().unwrap(), "the counters agree with the rows");
    assert!(s.mark_unread("mention-4", t0()).unwrap());
    assert_eq!(all(&s, general, true).len(), 2);
    // Found by search once indexed again (its entry moved with it).
    s.index_all().unwrap();
    let q =
        SearchQuery { text: "x".into(), scope: Some(general), unread_only: true, limit: 50, before: None };
    let mut found: Vec<String> = s.search(&q).unwrap().items.into_iter().map(|n| n.id).collect();
    found.sort();
    assert_eq!(found, ["mention-3", "mention-4"]);
    // Read again, then a newer item arriving is still numbered above everything.
    s.mark_read("mention-3", t0()).unwrap();
    assert_eq!(unread_general(&s), 1);
    s.upsert(&[item("late", Category::Mention, 99)], t0()).unwrap();
    assert_eq!(unread_general(&s), 2);
    assert!(matches!(s.mark_unread("nope", t0()), Err(StoreError::NotFound(_))));
}

// ORG-7: from the server: of a read and an unread of one item in a page, the later wins.
#[test]
fn org_7_an_unread_from_elsewhere_makes_a_read_item_unread() {
    let mut s = mixed_store();
    s.mark_read("reminder-0", t0()).unwrap();
    s.mark_all_read(scope(Tab::General, Some(Category::Mention)), t0()).unwrap();
    // Both reached the server (a read still on its way would win over the unread).
    for e in s.outbox_pending(10, t0() + Duration::days(1)).unwrap() {
        s.outbox_done(&e).unwrap();
    }
    let before = s.unread_counts().unwrap().total();
    let r = s
        .apply(
            &Batch {
                unreads: vec!["reminder-0".into(), "mention-2".into(), "nope".into()],
                ..Batch::default()
            },
            t0(),
        )
        .unwrap();
    assert_eq!(r.newly_unread, ["reminder-0", "mention-2"]);
    assert_eq!(s.unread_counts().unwrap().total(), before + 2);
    assert_eq!(s.recount_unread().unwrap(), s.unread_counts().unwrap());
    let again = s.apply(&Batch { unreads: vec!["reminder-0".into()], ..Batch::default() }, t0()).unwrap();
    assert!(again.newly_unread.is_empty());
}

// ORG-7: the agent's own unread, still on its way, wins over older news from the server; it waits
// behind a mark-all held for its undo window; a snooze from before the read does not hide it.
#[test]
fn org_7_an_unread_on_its_way_wins_and_waits_behind_a_held_mark_all() {
    let mut s = mixed_store();
    let general = scope(Tab::General, None);
    // Snoozed, read elsewhere, unread here: listed again, not hidden by the old snooze.
    assert!(s.snooze("mention-0", t0() + Duration::hours(1)).unwrap());
    s.apply(
        &Batch { reads: vec![RemoteRead { id: "mention-0".into(), read_at: t0() }], ..Batch::default() },
        t0(),
    )
    .unwrap();
    assert!(s.mark_unread("mention-0", t0()).unwrap());
    assert!(all(&s, general, true).contains(&"mention-0".to_string()));
    // The server's older read of it (before the unread arrived there) changes nothing here.
    let r = s
        .apply(
            &Batch { reads: vec![RemoteRead { id: "mention-0".into(), read_at: t0() }], ..Batch::default() },
            t0(),
        )
        .unwrap();
    assert!(r.newly_read.is_empty());
    assert!(s.get("mention-0").unwrap().unwrap().read_at.is_none());
    // An unread after a mark-all still in its undo window goes after it.
    let sent = s.outbox_pending(10, t0()).unwrap().remove(0);
    s.outbox_done(&sent).unwrap();
    s.mark_all_read(general, t0()).unwrap();
    assert!(s.mark_unread("mention-1", t0()).unwrap());
    assert!(s.outbox_pending(10, t0()).unwrap().is_empty(), "both wait for the undo window");
    let later = t0() + UNDO_WINDOW + Duration::seconds(1);
    let ops: Vec<OutboxOp> = s.outbox_pending(10, later).unwrap().into_iter().map(|e| e.op).collect();
    assert!(matches!(ops[..], [OutboxOp::MarkAllRead { .. }, OutboxOp::MarkUnread { .. }]), "{ops:?}");
}

// ORG-7: a read on its way to the server, taken back by an unread meanwhile: its answer must not
// remove the unread that took its place (and number) in the outbox.
#[test]
fn org_7_the_answer_to_a_withdrawn_read_leaves_the_unread_queued() {
    let mut s = mixed_store();
    s.mark_read("mention-0", t0()).unwrap();
    let in_flight = s.outbox_pending(10, t0()).unwrap().remove(0);
    assert!(s.mark_unread("mention-0", t0()).unwrap());
    s.outbox_done(&in_flight).unwrap();
    let ops: Vec<OutboxOp> = s.outbox_pending(10, t0()).unwrap().into_iter().map(|e| e.op).collect();
    assert_eq!(ops, [OutboxOp::MarkUnread { id: "mention-0".into(), at: t0() }]);
}
