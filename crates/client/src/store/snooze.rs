//! Snoozed items and held toasts: what waits for a time on this device.
//!
//! - Every query walks `snoozes` (or `held_toasts`) first (`CROSS JOIN` fixes the order): they
//!   hold a handful of rows, the list 100,000, and counts are read on every change.
//! - **Snooze.** A snoozed item leaves the tab's lists and the unread counts and waits in the
//!   "Snoozed" view; at its time it comes back unread (the app toasts it afresh). Read anywhere
//!   meanwhile (NC-R13), it is forgotten: the snooze is dropped, not served. The maintained
//!   counters stay those of the rows; what is snoozed is taken off when counts are read, because
//!   snoozes are few and a snooze ending must not touch the counters.
//! - **Held toasts.** What quiet hours held back, summarised once when they end, also after a
//!   restart; items read meanwhile are left out of the summary.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::notifications::{collect_rows_with, decode, COLUMNS};
use super::{Store, StoreError};
use crate::toast::{Held, HeldLog};
use lonceng_domain::model::{Category, Notification};
use lonceng_domain::time::{from_ms, to_ms};

/// An item waiting in the "Snoozed" view.
#[derive(Debug, Clone, PartialEq)]
pub struct Snoozed {
    pub notification: Notification,
    pub until: DateTime<Utc>,
}

/// Unread (by row and by watermark): the condition on `n` that every snooze query shares.
const UNREAD: &str =
    "n.read_at IS NULL AND n.seq > (SELECT upto_seq FROM read_marks WHERE category = n.category)";

impl Store {
    /// Snoozes an unread item until `until`; a later call moves it. Returns whether it was
    /// snoozed (a read item is not).
    pub fn snooze(&mut self, id: &str, until: DateTime<Utc>) -> Result<bool, StoreError> {
        let found = self.write(|tx, _| {
            let unread: Option<bool> = tx
                .query_row(&format!("SELECT {UNREAD} FROM notifications n WHERE n.id = ?1"), [id], |r| {
                    r.get(0)
                })
                .map(Some)
                .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
            if unread == Some(true) {
                tx.execute(
                    "INSERT INTO snoozes (id, until) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET until = ?2",
                    params![id, to_ms(until)],
                )?;
            }
            Ok(unread)
        })?;
        found.ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// Takes an item out of the snoozed view at once. Returns whether it was snoozed.
    pub fn unsnooze(&mut self, id: &str) -> Result<bool, StoreError> {
        self.write(|tx, _| Ok(tx.execute("DELETE FROM snoozes WHERE id = ?1", [id])? > 0))
    }

    /// What waits, soonest first; snoozes of items read meanwhile are dropped (NC-R13).
    pub fn snoozed(&mut self) -> Result<Vec<Snoozed>, StoreError> {
        self.write(|tx, _| {
            tx.execute(
                &format!(
                    "DELETE FROM snoozes WHERE id IN \
                     (SELECT s.id FROM snoozes s CROSS JOIN notifications n ON n.id = s.id WHERE NOT ({UNREAD}))"
                ),
                [],
            )?;
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS}, s.until FROM snoozes s CROSS JOIN notifications n ON n.id = s.id \
                 ORDER BY s.until, n.id"
            ))?;
            let rows = stmt.query([])?;
            collect_rows_with(rows)
        })?
        .into_iter()
        .map(|(row, until)| {
            let until = until.and_then(from_ms);
            let n = decode(row)?;
            let until =
                until.ok_or_else(|| StoreError::Decode { id: n.id.clone(), detail: "snooze time".into() })?;
            Ok(Snoozed { notification: n, until })
        })
        .collect()
    }

    /// When the next snooze ends.
    pub fn next_snooze(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<i64> = self
            .conn
            .query_row("SELECT min(until) FROM snoozes", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(at.and_then(from_ms))
    }

    /// Ends the snoozes due at `now`: returns the items that come back (still unread), oldest
    /// snooze first. Items read meanwhile are dropped without coming back.
    pub fn take_due_snoozes(&mut self, now: DateTime<Utc>) -> Result<Vec<Notification>, StoreError> {
        Ok(self
            .write(|tx, _| {
                let mut stmt = tx.prepare_cached(&format!(
                    "SELECT {COLUMNS}, {UNREAD} FROM snoozes s CROSS JOIN notifications n ON n.id = s.id \
                 WHERE s.until <= ?1 ORDER BY s.until, n.id"
                ))?;
                let rows = collect_rows_with(stmt.query([to_ms(now)])?)?;
                tx.execute("DELETE FROM snoozes WHERE until <= ?1", [to_ms(now)])?;
                Ok(rows)
            })?
            .into_iter()
            .filter(|(_, unread)| *unread == Some(1))
            // A row that cannot be read back stays listed as it is; the others come back.
            .filter_map(|(row, _)| {
                decode(row).map_err(|e| tracing::warn!(error = %e, "a snoozed item not brought back")).ok()
            })
            .collect())
    }

    /// Unread items snoozed now, per category: off the counts until they come back.
    pub(super) fn snoozed_unread(&self) -> Result<Vec<(Category, u64)>, StoreError> {
        Ok(self
            .per_category(&format!(
                "SELECT n.category, count(*) FROM snoozes s CROSS JOIN notifications n ON n.id = s.id \
                 WHERE {UNREAD} GROUP BY n.category"
            ))?
            .into_iter()
            .filter_map(|(code, n)| Category::from_code(code).map(|c| (c, n.max(0) as u64)))
            .collect())
    }

    /// Keeps a toast quiet hours held back.
    pub fn hold_toast(&mut self, held: Held<'_>) -> Result<(), StoreError> {
        let (id, count) = match held {
            Held::Item(id) => (Some(id), 1),
            Held::Other(n) => (None, i64::try_from(n).unwrap_or(i64::MAX)),
        };
        self.write(|tx, _| {
            tx.execute("INSERT INTO held_toasts (notification_id, count) VALUES (?1, ?2)", params![id, count])
                .map(drop)
        })
    }

    /// Forgets the held toasts; returns how many of them are worth a summary: items still unread,
    /// and the rest (chat messages, late items).
    pub fn release_held(&mut self) -> Result<u64, StoreError> {
        self.write(|tx, _| {
            // An item held twice (sent again, back from a snooze) is told of once.
            let n: i64 = tx.query_row(
                &format!(
                    "SELECT (SELECT coalesce(sum(count), 0) FROM held_toasts WHERE notification_id IS NULL) \
                          + (SELECT count(DISTINCT h.notification_id) FROM held_toasts h \
                             CROSS JOIN notifications n ON n.id = h.notification_id WHERE {UNREAD})"
                ),
                [],
                |r| r.get(0),
            )?;
            tx.execute("DELETE FROM held_toasts", [])?;
            Ok(n.max(0) as u64)
        })
    }
}

/// The app's store keeps what quiet hours hold; a failing disk is logged and costs only the
/// summary.
impl HeldLog for std::sync::Mutex<Store> {
    fn hold(&self, held: Held<'_>) {
        if let Err(e) = self.lock().unwrap_or_else(|p| p.into_inner()).hold_toast(held) {
            tracing::warn!(error = %e, "a held toast was not recorded");
        }
    }
    fn release(&self) -> u64 {
        self.lock().unwrap_or_else(|p| p.into_inner()).release_held().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "held toasts could not be read");
            0
        })
    }
}
