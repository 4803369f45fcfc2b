//! Carrying out on PostgreSQL the writes a plan decided (`db::plan`), as on SQLite, with the locks
//! several writers need: a user's row is locked before anything else of theirs, and users in one
//! order (by id), so that transactions wait for each other instead of deadlocking.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use lonceng_domain::model::Notification;
use lonceng_domain::protocol::{Change, ChangeBody};

use super::{col, decode_err, ms};
use crate::db::plan::Write;
use crate::db::{DbResult, UserChange};

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
    let ids: Vec<&str> = users.into_iter().collect();
    // One round trip: `DO UPDATE` locks each row, new or not, in the order given.
    let stmt = tx
        .prepare_cached(
            "INSERT INTO users (id, name) SELECT u, u FROM unnest($1::text[]) AS u ORDER BY u \
             ON CONFLICT (id) DO UPDATE SET last_seq = users.last_seq",
        )
        .await?;
    tx.execute(&stmt, &[&ids]).await?;
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

/// Carries out `writes` in order inside `tx`; returns the changes appended, in order. The caller
/// has locked the users concerned.
pub(super) async fn carry_out(
    tx: &impl GenericClient,
    writes: Vec<Write>,
    now: DateTime<Utc>,
) -> DbResult<Vec<UserChange>> {
    let mut changes = Vec::new();
    for write in writes {
        match write {
            Write::Append { user, body } => {
                let change = append(tx, &user, body, now).await?;
                changes.push((user, change));
            }
            Write::Create(n) => {
                let change = create(tx, &n, now).await?;
                changes.push((n.recipient_id, change));
            }
            Write::MarkRead { id, at } => {
                tx.execute("UPDATE notifications SET read_at = $2 WHERE id = $1", &[&id, &ms(at)]).await?;
            }
            Write::TrackCrm { id, user, crm_read } => {
                tx.execute(
                    "INSERT INTO crm_items (id, user_id, crm_read) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, crm_read = excluded.crm_read",
                    &[&id, &user, &crm_read],
                )
                .await?;
            }
            Write::CrmRead { id } => {
                tx.execute("UPDATE crm_items SET crm_read = TRUE WHERE id = $1", &[&id]).await?;
            }
        }
    }
    Ok(changes)
}

/// Stores a notification and the change that announces it, with the recipient's next sequence
/// number: one statement, one round trip (as [`append`], then the item).
async fn create(tx: &impl GenericClient, n: &Notification, now: DateTime<Utc>) -> DbResult<Change> {
    let body = ChangeBody::Created { notification: n.to_wire() };
    let json = serde_json::to_string(&body).map_err(decode_err)?;
    let params = serde_json::to_string(&n.params).map_err(decode_err)?;
    let stmt = tx
        .prepare_cached(
            "WITH s AS (INSERT INTO users (id, name, last_seq) VALUES ($2, $2, 1) \
             ON CONFLICT (id) DO UPDATE SET last_seq = users.last_seq + 1 RETURNING last_seq), \
             c AS (INSERT INTO changes (user_id, seq, at, body) SELECT $2, last_seq, $11, $12 FROM s RETURNING seq) \
             INSERT INTO notifications (id, user_id, tab, category, kind, params, actor_id, url, \
             created_at, read_at, created_seq) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, seq FROM c \
             RETURNING created_seq",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &n.id,
                &n.recipient_id,
                &n.tab().code(),
                &n.category.code(),
                &n.kind.as_str(),
                &params,
                &n.actor_id,
                &n.url,
                &ms(n.created_at),
                &n.read_at.map(ms),
                &ms(now),
                &json,
            ],
        )
        .await?;
    Ok(Change { seq: col!(row, 0), at: now, body })
}
