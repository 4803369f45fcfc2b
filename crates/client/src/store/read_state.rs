//! Read state on this device: one item (NC-R8, NC-R7), a scoped mark-all by watermark (NC-R6) and
//! its undo, the compaction that writes watermarks into rows later, and the maintained unread
//! counters behind the badge (NC-R14). Every change queues its server action in the same
//! transaction (MW-6).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::outbox::{enqueue, withdraw, OutboxOp, UNDO_WINDOW};
use super::state::get_state;
use super::{idx, MarkAllReport, Scope, Store, StoreError, UnreadCounts, CURSOR_KEY};
use lonceng_domain::model::{Category, Tab};
use lonceng_domain::time::to_ms;

/// `(seq, category code, read_at)` of a stored item, as a read is merged into it.
pub(super) type ReadState = (i64, i64, Option<i64>);

impl Store {
    /// The unread counts, without what is snoozed (it is not in the lists either).
    pub fn unread_counts(&self) -> Result<UnreadCounts, StoreError> {
        let per_category = self
            .per_category("SELECT category, n FROM unread_counts")?
            .into_iter()
            .filter_map(|(code, n)| Category::from_code(code).map(|c| (c, n.max(0) as u64)))
            .collect();
        self.without_snoozed(UnreadCounts { per_category })
    }

    fn without_snoozed(&self, mut counts: UnreadCounts) -> Result<UnreadCounts, StoreError> {
        for (c, n) in self.snoozed_unread()? {
            if let Some((_, count)) = counts.per_category.iter_mut().find(|(k, _)| *k == c) {
                *count = count.saturating_sub(n);
            }
        }
        Ok(counts)
    }

    /// Counts unread items from the rows themselves; the maintained counters must always agree.
    pub fn recount_unread(&self) -> Result<UnreadCounts, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT n.category, count(*) FROM notifications n JOIN read_marks m ON m.category = n.category
                 WHERE n.read_at IS NULL AND n.seq > m.upto_seq GROUP BY n.category",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let per_category = Category::ALL
            .iter()
            .map(|c| (*c, rows.iter().find(|(code, _)| *code == c.code()).map_or(0, |(_, n)| *n as u64)))
            .collect();
        self.without_snoozed(UnreadCounts { per_category })
    }

    /// NC-R8 / NC-R7: the agent marks one item read on this device. Queues the action for the server
    /// in the same transaction (MW-6). Returns whether the item was unread.
    pub fn mark_read(&mut self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let found = self.write(|tx, marks| {
            let row: Option<(i64, i64, Option<i64>)> = tx
                .query_row("SELECT seq, category, read_at FROM notifications WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((seq, code, read_at)) = row else { return Ok(None) };
            let Some(c) = Category::from_code(code) else { return Ok(Some(Err(code))) };
            if read_at.is_some() || seq <= marks[idx(c)] {
                return Ok(Some(Ok(false)));
            }
            tx.execute("UPDATE notifications SET read_at = ?2 WHERE seq = ?1", params![seq, to_ms(at)])?;
            let mut delta = vec![0; Category::ALL.len()];
            delta[idx(c)] = -1;
            write_counts(tx, &delta)?;
            withdraw(tx, &format!("unread:{id}"))?;
            enqueue(tx, &format!("read:{id}"), &OutboxOp::MarkRead { id: id.to_owned(), at }, at, at)?;
            Ok(Some(Ok(true)))
        })?;
        match found {
            None => Err(StoreError::NotFound(id.to_owned())),
            Some(Err(code)) => {
                Err(StoreError::Decode { id: id.to_owned(), detail: format!("category code {code}") })
            }
            Some(Ok(changed)) => Ok(changed),
        }
    }

    /// ORG-7: the agent marks one item unread again on this device; queued for the server in the
    /// same transaction (MW-6), replacing a read of it that has not left yet. Returns whether the
    /// item was read.
    pub fn mark_unread(&mut self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let found = self.write(|tx, marks| {
            if !tx
                .query_row("SELECT count(*) FROM notifications WHERE id = ?1", [id], |r| r.get::<_, i64>(0))?
                .is_positive()
            {
                return Ok(None);
            }
            let mut delta = vec![0; Category::ALL.len()];
            if !make_unread(tx, marks, id, &mut delta)? {
                return Ok(Some(false));
            }
            write_counts(tx, &delta)?;
            withdraw(tx, &format!("read:{id}"))?;
            // Not before a mark-all still held for its undo window: sent first, the unread would
            // change nothing, and the mark-all would then read the item again everywhere.
            let held: Option<i64> = tx.query_row("SELECT max(available_at) FROM outbox", [], |r| r.get(0))?;
            let due = held.and_then(DateTime::from_timestamp_millis).filter(|t| *t > at).unwrap_or(at);
            enqueue(tx, &format!("unread:{id}"), &OutboxOp::MarkUnread { id: id.to_owned(), at }, at, due)?;
            Ok(Some(true))
        })?;
        found.ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// NC-R6: marks read exactly the unread items of the scope that this device has; nothing outside
    /// the scope, and nothing that arrives afterwards. Queues the action for the server (MW-6).
    pub fn mark_all_read(&mut self, scope: Scope, at: DateTime<Utc>) -> Result<MarkAllReport, StoreError> {
        let (report, new_marks) = self.write(|tx, marks| {
            let upto: i64 =
                tx.query_row("SELECT coalesce(max(seq), 0) FROM notifications", [], |r| r.get(0))?;
            let mut per_category = Vec::new();
            let mut previous = Vec::new();
            let mut new_marks = marks.to_vec();
            for c in scope.categories() {
                let n: i64 =
                    tx.query_row("SELECT n FROM unread_counts WHERE category = ?1", [c.code()], |r| {
                        r.get(0)
                    })?;
                if n <= 0 {
                    continue;
                }
                let (prev_upto, prev_at): (i64, i64) = tx.query_row(
                    "SELECT upto_seq, read_at FROM read_marks WHERE category = ?1",
                    [c.code()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                previous.push((c, prev_upto, prev_at));
                tx.execute(
                    "UPDATE read_marks SET upto_seq = ?2, read_at = ?3 WHERE category = ?1",
                    params![c.code(), upto, to_ms(at)],
                )?;
                tx.execute("UPDATE unread_counts SET n = 0 WHERE category = ?1", [c.code()])?;
                new_marks[idx(c)] = upto;
                per_category.push((c, n as u64));
            }
            let changed = per_category.iter().map(|(_, n)| n).sum();
            let mut outbox_key = None;
            if changed > 0 {
                let cursor = get_state(tx, CURSOR_KEY)?;
                let key = format!(
                    "read-all:{}:{}:{upto}:{}",
                    scope.tab,
                    scope.category.map_or("all", |c| c.as_str()),
                    to_ms(at)
                );
                let op = OutboxOp::MarkAllRead {
                    tab: scope.tab,
                    category: scope.category,
                    upto_cursor: cursor,
                    upto_seq: upto,
                    at,
                };
                enqueue(tx, &key, &op, at, at + UNDO_WINDOW)?;
                outbox_key = Some(key);
            }
            let report =
                MarkAllReport { scope, upto_seq: upto, changed, per_category, previous, at, outbox_key };
            Ok((report, new_marks))
        })?;
        self.marks = new_marks;
        Ok(report)
    }

    /// Takes a mark-all back (the window's Undo) within [`UNDO_WINDOW`], while its action has not
    /// left for the server. Compaction leaves a mark alone during that window, so undoing is only
    /// moving the watermark back. Categories whose marks moved since (another mark-all) keep the
    /// newer state. Returns whether anything was undone.
    pub fn undo_mark_all(&mut self, report: &MarkAllReport, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(key) = &report.outbox_key else { return Ok(false) };
        if now - report.at > UNDO_WINDOW {
            return Ok(false);
        }
        let restored = self.write(|tx, _| {
            let mut restored = Vec::new();
            if !withdraw(tx, key)? {
                return Ok(restored); // already sent
            }
            for (c, prev_upto, prev_at) in &report.previous {
                let current: i64 =
                    tx.query_row("SELECT upto_seq FROM read_marks WHERE category = ?1", [c.code()], |r| {
                        r.get(0)
                    })?;
                if current != report.upto_seq {
                    continue;
                }
                tx.execute(
                    "UPDATE read_marks SET upto_seq = ?2, read_at = ?3 WHERE category = ?1",
                    params![c.code(), prev_upto, prev_at],
                )?;
                tx.execute(
                    "UPDATE unread_counts SET n = (SELECT count(*) FROM notifications \
                     WHERE category = ?1 AND read_at IS NULL AND seq > ?2) WHERE category = ?1",
                    params![c.code(), prev_upto],
                )?;
                restored.push((*c, *prev_upto));
            }
            Ok(restored)
        })?;
        for (c, prev) in &restored {
            self.marks[idx(*c)] = *prev;
        }
        Ok(!restored.is_empty())
    }

    /// Writes `read_at` into up to `limit` rows covered by a watermark, so that unread-only queries
    /// stop stepping over them. Changes no read state. Returns the rows written (0: done).
    /// Marks still inside their undo window are left alone.
    pub fn compact_read_marks(&mut self, limit: usize, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let settled = to_ms(now - UNDO_WINDOW);
        let n = self
            .conn
            .execute(
                "UPDATE notifications SET read_at = (SELECT read_at FROM read_marks m WHERE m.category = notifications.category)
                 WHERE seq IN (
                    SELECT n.seq FROM notifications n INDEXED BY notif_category_unread
                    JOIN read_marks m ON m.category = n.category
                    WHERE n.read_at IS NULL AND n.seq <= m.upto_seq AND m.read_at <= ?2 LIMIT ?1)",
                params![limit as i64, settled],
            )
            .map_err(|e| self.err(e))?;
        Ok(n)
    }
}

/// Merges a read time into a stored item: keeps the earliest read time and never goes back to unread
/// (MW-4). Returns whether the item was unread before.
pub(super) fn merge_read(
    set_read: &mut rusqlite::CachedStatement<'_>,
    marks: &[i64],
    (seq, code, read_at): ReadState,
    at: i64,
    delta: &mut [i64],
) -> Result<bool, rusqlite::Error> {
    let Some(c) = Category::from_code(code) else { return Ok(false) };
    match read_at {
        Some(old) if old <= at => Ok(false),
        Some(_) => set_read.execute(params![seq, at]).map(|_| false),
        None => {
            set_read.execute(params![seq, at])?;
            let was_unread = seq > marks[idx(c)];
            if was_unread {
                delta[idx(c)] -= 1;
            }
            Ok(was_unread)
        }
    }
}

/// ORG-7: makes a stored item unread again; false when it is not stored or not read. An item under
/// a read watermark (a mark-all covers a range of arrival order) cannot be unread in place: it
/// takes a new arrival number above every watermark, as if it arrived again without a toast, and
/// its search entry (keyed by that number) goes, to be written again by the indexer.
pub(super) fn make_unread(
    tx: &Connection,
    marks: &[i64],
    id: &str,
    delta: &mut [i64],
) -> Result<bool, rusqlite::Error> {
    let row: Option<(i64, i64, i64, Option<i64>)> = tx
        .query_row("SELECT seq, tab, category, read_at FROM notifications WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((seq, tab, code, read_at)) = row else { return Ok(false) };
    let Some(c) = Category::from_code(code) else { return Ok(false) };
    let covered = seq <= marks[idx(c)];
    if read_at.is_none() && !covered {
        return Ok(false);
    }
    // A snooze of the item from before it was read must not hide it now.
    tx.execute("DELETE FROM snoozes WHERE id = ?1", [id])?;
    if covered {
        let next: i64 = tx.query_row(
            "SELECT max(coalesce((SELECT max(seq) FROM notifications), 0), \
                        coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'notifications'), 0)) + 1",
            [],
            |r| r.get(0),
        )?;
        if let Some(table) = Tab::from_code(tab).map(super::search_table) {
            tx.execute(&format!("DELETE FROM {table} WHERE rowid = ?1"), [seq])?;
        }
        tx.execute("UPDATE notifications SET seq = ?2, read_at = NULL WHERE seq = ?1", params![seq, next])?;
        // AUTOINCREMENT numbers are never reused: the new one counts as taken.
        tx.execute("UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'notifications'", [next])?;
    } else {
        tx.execute("UPDATE notifications SET read_at = NULL WHERE seq = ?1", [seq])?;
    }
    delta[idx(c)] += 1;
    Ok(true)
}

/// Moves the maintained unread counters by `delta` (per category slot).
pub(super) fn write_counts(conn: &Connection, delta: &[i64]) -> Result<(), rusqlite::Error> {
    let mut stmt = conn.prepare_cached("UPDATE unread_counts SET n = n + ?2 WHERE category = ?1")?;
    for c in Category::ALL {
        let d = delta[idx(*c)];
        if d != 0 {
            stmt.execute(params![c.code(), d])?;
        }
    }
    Ok(())
}
