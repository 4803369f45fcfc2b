//! What arrives and what the list shows: applying a sync batch (dedupe by id, MW-4; read state
//! merged, never undone), keyset pages that each name their index, and retention (NC-R5).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::read_state::{make_unread, merge_read, write_counts, ReadState};
use super::state::{quarantine, set_state};
use super::{
    idx, ApplyReport, Batch, ListQuery, Page, PageCursor, PruneReport, Store, StoreError, CURSOR_KEY,
};
use lonceng_domain::model::{Category, Kind, Notification, Params, Tab};
use lonceng_domain::rules;
use lonceng_domain::time::{from_ms, to_ms};

impl Store {
    /// Stores new items and merges re-sent ones; shorthand for [`Store::apply`] with items only.
    pub fn upsert(&mut self, items: &[Notification], now: DateTime<Utc>) -> Result<ApplyReport, StoreError> {
        self.apply(&Batch { items: items.to_vec(), ..Batch::default() }, now)
    }

    /// Applies one sync batch in one transaction.
    pub fn apply(&mut self, batch: &Batch, now: DateTime<Utc>) -> Result<ApplyReport, StoreError> {
        self.write(|tx, marks| {
            let mut report = ApplyReport::default();
            let mut delta = vec![0i64; Category::ALL.len()];
            let mut find =
                tx.prepare_cached("SELECT seq, category, read_at FROM notifications WHERE id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO notifications (id, tab, category, kind, params, actor_id, recipient_id, \
                     url, created_at, read_at, arrived_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
            )?;
            let mut set_read = tx.prepare_cached("UPDATE notifications SET read_at = ?2 WHERE seq = ?1")?;
            // The agent's own action still on its way to the server is newer than what the server
            // said before it arrived (ORG-7: a read here, then unread, before the read came back).
            let mut queued = tx.prepare_cached("SELECT 1 FROM outbox WHERE idempotency_key = ?1")?;
            let mut pending = |key: String| queued.exists([key]);

            for n in &batch.items {
                if rules::is_expired(n.tab(), n.created_at, now) {
                    report.expired += 1;
                    continue;
                }
                if let Some(row) = lookup(&mut find, &n.id)? {
                    let became_read = match n.read_at {
                        Some(_) if pending(format!("unread:{}", n.id))? => false,
                        Some(at) => merge_read(&mut set_read, marks, row, to_ms(at), &mut delta)?,
                        None => false,
                    };
                    if became_read {
                        report.newly_read.push(n.id.clone());
                    } else {
                        report.duplicates += 1;
                    }
                    continue;
                }
                let params_json = serde_json::to_string(&n.params).unwrap_or_else(|_| "{}".into());
                insert.execute(params![
                    n.id,
                    n.tab().code(),
                    n.category.code(),
                    n.kind.as_str(),
                    params_json,
                    n.actor_id,
                    n.recipient_id,
                    n.url,
                    to_ms(n.created_at),
                    n.read_at.map(to_ms),
                    to_ms(now),
                ])?;
                if n.read_at.is_none() {
                    delta[idx(n.category)] += 1;
                }
                report.inserted.push(n.id.clone());
            }
            for r in &batch.reads {
                if pending(format!("unread:{}", r.id))? {
                    continue;
                }
                if let Some(row) = lookup(&mut find, &r.id)? {
                    if merge_read(&mut set_read, marks, row, to_ms(r.read_at), &mut delta)? {
                        report.newly_read.push(r.id.clone());
                    }
                }
            }
            for id in &batch.unreads {
                if pending(format!("read:{id}"))? {
                    continue;
                }
                if make_unread(tx, marks, id, &mut delta)? {
                    report.newly_unread.push(id.clone());
                }
            }
            let mut remove = tx
                .prepare_cached("DELETE FROM notifications WHERE id = ?1 RETURNING seq, category, read_at")?;
            for id in &batch.expired {
                let gone = remove
                    .query_row([id], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?))
                    })
                    .optional()?;
                if let Some((seq, code, read_at)) = gone {
                    if let Some(c) = Category::from_code(code) {
                        if read_at.is_none() && seq > marks[idx(c)] {
                            delta[idx(c)] -= 1;
                        }
                    }
                    report.removed += 1;
                }
            }
            for r in &batch.rejected {
                if quarantine(tx, &r.raw, &r.error, now)? {
                    report.quarantined += 1;
                }
            }
            write_counts(tx, &delta)?;
            if let Some(cursor) = &batch.cursor {
                set_state(tx, CURSOR_KEY, cursor)?;
            }
            Ok(report)
        })
    }

    /// One page of a tab (and optionally a category), newest first; unread only on request (NC-R9).
    pub fn page(&self, q: &ListQuery) -> Result<Page, StoreError> {
        let (sql, key) = page_sql(q);
        let limit = q.limit.clamp(1, 500) as i64;
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = match &q.after {
            Some(c) => stmt.query(params![key, limit, to_ms(c.created_at), c.id]),
            None => stmt.query(params![key, limit]),
        }
        .map_err(|e| self.err(e))?;
        let items = collect_rows(rows)
            .map_err(|e| self.err(e))?
            .into_iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        let next = (items.len() as i64 == limit)
            .then(|| items.last().map(|n| PageCursor { created_at: n.created_at, id: n.id.clone() }))
            .flatten();
        Ok(Page { items, next })
    }

    /// Every text parameter of the stored items (customers' and colleagues' names, deal and ticket
    /// titles) and what quarantine kept: what a report for IT must not carry.
    pub fn private_texts(&self) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let mut out = std::collections::BTreeSet::new();
        let mut stmt =
            self.conn.prepare("SELECT kind, params FROM notifications").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        for (kind, json) in rows {
            let (Ok(kind), Ok(params)) = (kind.parse::<Kind>(), serde_json::from_str::<Params>(&json)) else {
                continue;
            };
            // Free text only: a choice ("deal", "ticket", "whatsapp") is a word of the app's own.
            let free = |name: &str| {
                kind.params().iter().any(|p| p.name == name && p.ty == lonceng_domain::model::ParamType::Text)
            };
            out.extend(params.0.into_iter().filter_map(|(name, v)| match v {
                lonceng_domain::model::ParamValue::Text(t) if free(&name) => Some(t),
                _ => None,
            }));
        }
        let mut stmt = self.conn.prepare("SELECT raw FROM quarantine").map_err(|e| self.err(e))?;
        let raws = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        out.extend(raws);
        Ok(out)
    }

    /// One notification by id, with its effective read state.
    pub fn get(&self, id: &str) -> Result<Option<Notification>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM notifications n WHERE n.id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query([id]).map_err(|e| self.err(e))?;
        collect_rows(rows).map_err(|e| self.err(e))?.into_iter().next().map(decode).transpose()
    }

    /// How many notifications are stored.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM notifications", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// NC-R5: deletes items past their tab's retention.
    pub fn prune_expired(&mut self, now: DateTime<Utc>) -> Result<PruneReport, StoreError> {
        self.write(|tx, marks| {
            let mut report = PruneReport::default();
            let mut delta = vec![0i64; Category::ALL.len()];
            for tab in Tab::ALL {
                let cutoff = to_ms(rules::retention_cutoff(*tab, now));
                for c in tab.categories() {
                    let unread: i64 = tx.query_row(
                        "SELECT count(*) FROM notifications INDEXED BY notif_category_unread
                         WHERE category = ?1 AND read_at IS NULL AND created_at < ?2 AND seq > ?3",
                        params![c.code(), cutoff, marks[idx(*c)]],
                        |r| r.get(0),
                    )?;
                    delta[idx(*c)] -= unread;
                    report.removed_unread += unread as u64;
                }
                report.removed += tx.execute(
                    "DELETE FROM notifications WHERE tab = ?1 AND created_at < ?2",
                    params![tab.code(), cutoff],
                )? as u64;
            }
            write_counts(tx, &delta)?;
            Ok(report)
        })
    }
}

/// The query of [`Store::page`] and its first parameter. Each shape names the index it must use.
pub(super) fn page_sql(q: &ListQuery) -> (String, i64) {
    let (index, filter, key) = match (q.scope.category, q.unread_only) {
        (None, false) => ("notif_tab", "n.tab = ?1", q.scope.tab.code()),
        (None, true) => ("notif_tab_unread", "n.tab = ?1 AND n.read_at IS NULL", q.scope.tab.code()),
        (Some(c), false) => ("notif_category", "n.category = ?1", c.code()),
        (Some(c), true) => ("notif_category_unread", "n.category = ?1 AND n.read_at IS NULL", c.code()),
    };
    let unread = if q.unread_only {
        " AND n.seq > (SELECT upto_seq FROM read_marks WHERE category = n.category)"
    } else {
        ""
    };
    let after = if q.after.is_some() { " AND (n.created_at, n.id) < (?3, ?4)" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications n INDEXED BY {index} \
         WHERE {filter}{unread}{after} AND {NOT_SNOOZED} ORDER BY n.created_at DESC, n.id DESC LIMIT ?2"
    );
    (sql, key)
}

/// Snoozed items wait in their own view while unread; read meanwhile (elsewhere, NC-R13), they
/// are listed as read, and the snooze is forgotten when it comes due.
pub(super) const NOT_SNOOZED: &str = "NOT EXISTS (SELECT 1 FROM snoozes s WHERE s.id = n.id \
     AND n.read_at IS NULL AND n.seq > (SELECT upto_seq FROM read_marks WHERE category = n.category))";

/// The selected columns, with the effective read time (explicit, or from the watermark).
pub(super) const COLUMNS: &str =
    "n.id, n.category, n.kind, n.params, n.actor_id, n.recipient_id, n.url, n.created_at, \
     coalesce(n.read_at, (SELECT CASE WHEN n.seq <= m.upto_seq THEN m.read_at END \
                          FROM read_marks m WHERE m.category = n.category))";

pub(super) type Row = (String, i64, String, String, Option<String>, String, String, i64, Option<i64>);

/// The rows of a query that selects [`COLUMNS`].
pub(super) fn collect_rows(rows: rusqlite::Rows<'_>) -> Result<Vec<Row>, rusqlite::Error> {
    Ok(collect_rows_with(rows)?.into_iter().map(|(row, _)| row).collect())
}

/// The rows of a query that selects [`COLUMNS`] and one integer more.
pub(super) fn collect_rows_with(
    mut rows: rusqlite::Rows<'_>,
) -> Result<Vec<(Row, Option<i64>)>, rusqlite::Error> {
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let row = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        );
        let extra = match r.as_ref().column_count() {
            10 => r.get(9)?,
            _ => None,
        };
        out.push((row, extra));
    }
    Ok(out)
}

pub(super) fn decode(row: Row) -> Result<Notification, StoreError> {
    let (id, code, kind, params, actor_id, recipient_id, url, created, read) = row;
    let bad = |detail: String| StoreError::Decode { id: id.clone(), detail };
    let category = Category::from_code(code).ok_or_else(|| bad(format!("category code {code}")))?;
    let kind: Kind = kind.parse().map_err(|e: lonceng_domain::model::UnknownKey| bad(e.to_string()))?;
    let params: Params = serde_json::from_str(&params).map_err(|e| bad(format!("params: {e}")))?;
    let created_at = from_ms(created).ok_or_else(|| bad(format!("created_at {created}")))?;
    Ok(Notification {
        id: id.clone(),
        category,
        kind,
        params,
        actor_id,
        recipient_id,
        url,
        created_at,
        read_at: read.and_then(from_ms),
    })
}

fn lookup(find: &mut rusqlite::CachedStatement<'_>, id: &str) -> Result<Option<ReadState>, rusqlite::Error> {
    find.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
}
