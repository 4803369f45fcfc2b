//! The change feed on PostgreSQL: as on SQLite (see `sqlite::feed`), plus the notification that
//! wakes the other nodes, sent inside the transaction (PostgreSQL delivers it at commit). Appending
//! is in [`super::writes`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use lonceng_domain::protocol::{Change, ChangesPage};

use super::writes::{carry_out, lock_user};
use super::{col, decode_err, listen, ms, CHANNEL};
use crate::db::{plan, DbError, DbResult, Signal, UserChange};

/// Tells every node which users' feeds grew, and to where: one notification per user, delivered at
/// commit (and not at all on rollback).
pub(super) async fn notify(tx: &impl GenericClient, node: &str, changes: &[UserChange]) -> DbResult<()> {
    let mut range: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (user, c) in changes {
        let (from, to) = range.entry(user).or_insert((c.seq, c.seq));
        *from = (*from).min(c.seq);
        *to = (*to).max(c.seq);
    }
    if range.is_empty() {
        return Ok(());
    }
    let mut payloads = Vec::with_capacity(range.len());
    for (user, (from, seq)) in range {
        // A user id too long for a notification (8 KB) wakes everyone instead of failing the write.
        payloads.push(
            listen::payload(node, &Signal::Changed { user: user.to_owned(), from, seq })
                .or_else(|_| listen::payload(node, &Signal::Resync))?,
        );
    }
    // All in one round trip.
    let stmt = tx.prepare_cached("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p").await?;
    tx.execute(&stmt, &[&CHANNEL, &payloads]).await?;
    Ok(())
}

/// A page of a user's feed after `since`. The bounds come from one statement (one snapshot); a
/// change committed before the page is read only makes the page longer.
pub(super) async fn changes(
    c: &impl GenericClient,
    user: &str,
    since: i64,
    limit: usize,
) -> DbResult<ChangesPage> {
    let stmt = c
        .prepare_cached(
            "SELECT coalesce((SELECT last_seq FROM users WHERE id = $1), 0), \
             (SELECT min(seq) FROM changes WHERE user_id = $1)",
        )
        .await?;
    let bounds = c.query_one(&stmt, &[&user]).await?;
    let last: i64 = col!(bounds, 0);
    let oldest: Option<i64> = col!(bounds, 1);
    let first_kept = oldest.unwrap_or(last.saturating_add(1));
    // As on SQLite: `since = 0` is "everything kept"; a later cursor older than the feed is 410.
    if since > 0 && since < last && since < first_kept - 1 {
        return Err(DbError::CursorGone { since, oldest: first_kept });
    }
    let stmt = c
        .prepare_cached(
            "SELECT seq, at, body FROM changes WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .await?;
    let rows = c.query(&stmt, &[&user, &since, &(limit as i64 + 1)]).await?;
    let more = rows.len() > limit;
    let mut changes = Vec::with_capacity(rows.len().min(limit));
    for r in rows.into_iter().take(limit) {
        let body: String = col!(r, 2);
        changes.push(Change {
            seq: col!(r, 0),
            at: col!(r, 1),
            body: serde_json::from_str(&body).map_err(decode_err)?,
        });
    }
    let cursor = changes.last().map_or(since, |c| c.seq);
    Ok(ChangesPage { changes, cursor, more })
}

/// NC-R5, as on SQLite. Nodes that prune at the same time delete each row once: the later
/// `DELETE` finds it gone.
pub(super) async fn prune(tx: &impl GenericClient, now: DateTime<Utc>) -> DbResult<Vec<UserChange>> {
    let retention = plan::retention(now);
    // The users first, in one order, then their items (see `lock_user`).
    let mut users: Vec<String> = Vec::new();
    for (tab, cutoff) in &retention.items {
        for r in tx
            .query(
                "SELECT DISTINCT user_id FROM notifications WHERE tab = $1 AND created_at < $2",
                &[&tab.code(), &ms(*cutoff)],
            )
            .await?
        {
            users.push(col!(r, 0));
        }
    }
    users.sort();
    users.dedup();
    for u in &users {
        lock_user(tx, u).await?;
    }
    let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (tab, cutoff) in &retention.items {
        let rows = tx
            .query(
                "DELETE FROM notifications WHERE tab = $1 AND created_at < $2 RETURNING user_id, id",
                &[&tab.code(), &ms(*cutoff)],
            )
            .await?;
        for r in rows {
            by_user.entry(col!(r, 0)).or_default().push(col!(r, 1));
        }
    }

    let changes = carry_out(tx, plan::expiries(by_user), now).await?;
    tx.execute("DELETE FROM changes WHERE at < $1", &[&ms(retention.changes_before)]).await?;
    let keys_cutoff = ms(retention.keys_before);
    tx.execute("DELETE FROM events WHERE received_at < $1", &[&keys_cutoff]).await?;
    tx.execute("DELETE FROM client_ops WHERE at < $1", &[&keys_cutoff]).await?;
    tx.execute(
        "DELETE FROM crm_items c WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = c.id)",
        &[],
    )
    .await?;
    Ok(changes)
}
