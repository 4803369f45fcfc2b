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
use crate::db::{DbError, DbResult, UserChange};

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

/// Locks the users `writes` append to, before any of them is carried out (see [`lock_users`]),
/// unless they are creates alone: [`carry_out`] stores those in one statement that takes their
/// users in the same order itself, and locking them first would only bump each row twice.
pub(super) async fn lock_writers<'a>(
    tx: &impl GenericClient,
    writes: impl Iterator<Item = &'a Write> + Clone,
) -> DbResult<()> {
    if writes.clone().all(|w| matches!(w, Write::Create(_))) {
        return Ok(());
    }
    lock_users(tx, writes.filter_map(Write::user)).await
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
    let tagged = carry_out_tagged(tx, writes.into_iter().map(|w| ((), w)).collect(), now).await?;
    Ok(tagged.into_iter().map(|((), change)| change).collect())
}

/// As [`carry_out`], for the writes of several plans at once: each change comes back with the tag
/// of the write that appended it. Creates in a row are one statement, so a group commit of producer
/// events costs one round trip for all its items, not one each (issue 25: PostgreSQL's CPU per
/// event was most of the three nodes' cost).
pub(super) async fn carry_out_tagged<T: Send + Sync>(
    tx: &impl GenericClient,
    writes: Vec<(T, Write)>,
    now: DateTime<Utc>,
) -> DbResult<Vec<(T, UserChange)>> {
    let mut changes = Vec::new();
    let mut creates = Vec::new();
    for (tag, write) in writes {
        // Creates wait for the next other write, so that every user's changes keep their order.
        if !matches!(write, Write::Create(_)) && !creates.is_empty() {
            changes.extend(create(tx, std::mem::take(&mut creates), now).await?);
        }
        match write {
            Write::Create(n) => creates.push((tag, n)),
            Write::Append { user, body } => {
                let change = append(tx, &user, body, now).await?;
                changes.push((tag, (user, change)));
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
    if !creates.is_empty() {
        changes.extend(create(tx, creates, now).await?);
    }
    Ok(changes)
}

/// Stores notifications and the changes that announce them, each with its recipient's next
/// sequence number in the order given: one statement, one round trip for them all. A recipient's
/// row is bumped once by their number of items (in id order, as [`lock_users`] takes them), and
/// their items numbered from there.
async fn create<T: Send + Sync>(
    tx: &impl GenericClient,
    items: Vec<(T, Notification)>,
    now: DateTime<Utc>,
) -> DbResult<Vec<(T, UserChange)>> {
    let mut cols = Columns::default();
    let mut bodies = Vec::with_capacity(items.len());
    for (_, n) in &items {
        let body = ChangeBody::Created { notification: n.to_wire() };
        cols.body.push(serde_json::to_string(&body).map_err(decode_err)?);
        cols.params.push(serde_json::to_string(&n.params).map_err(decode_err)?);
        cols.id.push(n.id.as_str());
        cols.user.push(n.recipient_id.as_str());
        cols.tab.push(n.tab().code());
        cols.category.push(n.category.code());
        cols.kind.push(n.kind.as_str());
        cols.actor.push(n.actor_id.as_deref());
        cols.url.push(n.url.as_str());
        cols.created_at.push(ms(n.created_at));
        cols.read_at.push(n.read_at.map(ms));
        bodies.push(body);
    }
    let stmt = tx
        .prepare_cached(
            "WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[]) \
             WITH ORDINALITY AS i (id, user_id, tab, category, kind, params, actor_id, url, created_at, \
             read_at, body, ord)), \
             n AS (SELECT user_id, count(*) AS n FROM i GROUP BY user_id), \
             s AS (INSERT INTO users (id, name, last_seq) SELECT user_id, user_id, n FROM n ORDER BY user_id \
             ON CONFLICT (id) DO UPDATE SET last_seq = users.last_seq + excluded.last_seq RETURNING id, last_seq), \
             q AS (SELECT i.*, s.last_seq - n.n + row_number() OVER (PARTITION BY i.user_id ORDER BY i.ord) AS seq \
             FROM i JOIN n USING (user_id) JOIN s ON s.id = i.user_id), \
             c AS (INSERT INTO changes (user_id, seq, at, body) SELECT user_id, seq, $12, body FROM q), \
             x AS (INSERT INTO notifications (id, user_id, tab, category, kind, params, actor_id, url, \
             created_at, read_at, created_seq) \
             SELECT id, user_id, tab, category, kind, params, actor_id, url, created_at, read_at, seq FROM q) \
             SELECT seq FROM q ORDER BY ord",
        )
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &cols.id,
                &cols.user,
                &cols.tab,
                &cols.category,
                &cols.kind,
                &cols.params,
                &cols.actor,
                &cols.url,
                &cols.created_at,
                &cols.read_at,
                &cols.body,
                &ms(now),
            ],
        )
        .await?;
    if rows.len() != items.len() {
        return Err(DbError::Decode(format!("{} items stored, {} numbered", items.len(), rows.len())));
    }
    let mut out = Vec::with_capacity(items.len());
    for ((row, (tag, n)), body) in rows.iter().zip(items).zip(bodies) {
        out.push((tag, (n.recipient_id, Change { seq: col!(row, 0), at: now, body })));
    }
    Ok(out)
}

/// The items of one [`create`], column by column (PostgreSQL's `unnest` takes arrays).
#[derive(Default)]
struct Columns<'a> {
    id: Vec<&'a str>,
    user: Vec<&'a str>,
    tab: Vec<i64>,
    category: Vec<i64>,
    kind: Vec<&'a str>,
    params: Vec<String>,
    actor: Vec<Option<&'a str>>,
    url: Vec<&'a str>,
    created_at: Vec<DateTime<Utc>>,
    read_at: Vec<Option<DateTime<Utc>>>,
    body: Vec<String>,
}
