//! The change feed on PostgreSQL: as on SQLite (see `sqlite::feed`), plus the notification that
//! wakes the other nodes, sent inside the transaction (PostgreSQL delivers it at commit).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::GenericClient;
use lonceng_core::model::Tab;
use lonceng_core::protocol::{Change, ChangeBody, ChangesPage};
use lonceng_core::rules;

use super::{col, decode_err, listen, ms, CHANNEL};
use crate::db::{DbError, DbResult, Signal, UserChange};

/// How long the change feed, producer keys and client keys are kept (as on SQLite).
const FEED_RETENTION_DAYS: i64 = 90;
const KEY_RETENTION_DAYS: i64 = 30;
/// Ids per `read` / `expired` change.
const IDS_PER_CHANGE: usize = 1_000;

pub(super) async fn ensure_user(tx: &impl GenericClient, id: &str) -> DbResult<()> {
    let stmt =
        tx.prepare_cached("INSERT INTO users (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING").await?;
    tx.execute(&stmt, &[&id]).await?;
    Ok(())
}

/// Locks a user's row (when there is one) before anything else of theirs: transactions take the
/// user first, then their items, so they wait for each other instead of deadlocking.
pub(super) async fn lock_user(tx: &impl GenericClient, user: &str) -> DbResult<()> {
    let stmt = tx.prepare_cached("SELECT 1 FROM users WHERE id = $1 FOR UPDATE").await?;
    tx.execute(&stmt, &[&user]).await?;
    Ok(())
}

/// Creates and locks the users' rows in one order (by id): two transactions that touch the same
/// users wait for each other instead of deadlocking.
pub(super) async fn lock_users<'a>(
    tx: &impl GenericClient,
    users: impl IntoIterator<Item = &'a str>,
) -> DbResult<()> {
    let users: BTreeSet<&str> = users.into_iter().collect();
    if users.len() < 2 {
        return Ok(());
    }
    for u in &users {
        ensure_user(tx, u).await?;
    }
    let ids: Vec<&str> = users.into_iter().collect();
    tx.query("SELECT 1 FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE", &[&ids]).await?;
    Ok(())
}

/// Appends a change to a user's feed with their next sequence number. The `UPDATE` holds the user's
/// row until commit, so the user's changes commit in sequence order, whichever node writes them.
pub(super) async fn append(
    tx: &impl GenericClient,
    user: &str,
    body: ChangeBody,
    now: DateTime<Utc>,
) -> DbResult<Change> {
    let json = serde_json::to_string(&body).map_err(decode_err)?;
    // One round trip: the user (created at their first change), their next number, the change.
    // `DO UPDATE` locks the row like an `UPDATE` does.
    let stmt = tx
        .prepare_cached(
            "WITH s AS (INSERT INTO users (id, name, last_seq) VALUES ($1, $1, 1) \
             ON CONFLICT (id) DO UPDATE SET last_seq = users.last_seq + 1 RETURNING last_seq) \
             INSERT INTO changes (user_id, seq, at, body) SELECT $1, last_seq, $2, $3 FROM s RETURNING seq",
        )
        .await?;
    let seq: i64 = col!(tx.query_one(&stmt, &[&user, &ms(now), &json]).await?, 0);
    Ok(Change { seq, at: now, body })
}

/// Appends `read` or `expired` changes for many ids, in chunks.
pub(super) async fn append_chunked(
    tx: &impl GenericClient,
    user: &str,
    ids: Vec<String>,
    now: DateTime<Utc>,
    make: impl Fn(Vec<String>) -> ChangeBody,
) -> DbResult<Vec<UserChange>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IDS_PER_CHANGE) {
        out.push((user.to_owned(), append(tx, user, make(chunk.to_vec()), now).await?));
    }
    Ok(out)
}

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
    // The users first, in one order, then their items (see `lock_user`).
    let mut users: Vec<String> = Vec::new();
    for tab in Tab::ALL {
        let cutoff = ms(rules::retention_cutoff(*tab, now));
        for r in tx
            .query(
                "SELECT DISTINCT user_id FROM notifications WHERE tab = $1 AND created_at < $2",
                &[&tab.code(), &cutoff],
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
    for tab in Tab::ALL {
        let cutoff = ms(rules::retention_cutoff(*tab, now));
        let rows = tx
            .query(
                "DELETE FROM notifications WHERE tab = $1 AND created_at < $2 RETURNING user_id, id",
                &[&tab.code(), &cutoff],
            )
            .await?;
        for r in rows {
            by_user.entry(col!(r, 0)).or_default().push(col!(r, 1));
        }
    }

    let mut changes = Vec::new();
    for (user, ids) in by_user {
        changes.extend(append_chunked(tx, &user, ids, now, |ids| ChangeBody::Expired { ids }).await?);
    }
    tx.execute("DELETE FROM changes WHERE at < $1", &[&ms(now - Duration::days(FEED_RETENTION_DAYS))])
        .await?;
    let keys_cutoff = ms(now - Duration::days(KEY_RETENTION_DAYS));
    tx.execute("DELETE FROM events WHERE received_at < $1", &[&keys_cutoff]).await?;
    tx.execute("DELETE FROM client_ops WHERE at < $1", &[&keys_cutoff]).await?;
    tx.execute(
        "DELETE FROM crm_items c WHERE NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = c.id)",
        &[],
    )
    .await?;
    Ok(changes)
}
