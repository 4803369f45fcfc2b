//! Qontak on PostgreSQL: as on SQLite (see `sqlite::qontak`). A room's events are serialised by a
//! lock on the room, so two nodes never decide from the same previous state.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use lonceng_domain::model::Notification;
use lonceng_domain::qontak::{LinkedUser, RoomState};
use tokio_postgres::Row;

use super::notifications::{apply_outcome, claim_event, seen_event};
use super::writes::{carry_out, lock_user};
use super::{col, decode_err, ms};
use crate::db::plan::{self, Stored};
use crate::db::{
    AgentLink, Applied, DbError, DbResult, DeadLetter, NewDeadLetter, RoomJob, UserChange, WebhookSecret,
};

/// Dead letters kept at most, as on SQLite.
const MAX_DEAD_LETTERS: i64 = 10_000;

pub(super) async fn webhook_secrets(c: &impl GenericClient) -> DbResult<Vec<WebhookSecret>> {
    let rows = c
        .query(
            "SELECT id, hash, previous_hash, previous_until, created_at, rotated_at, last_used_at \
             FROM qontak_webhook_secrets ORDER BY created_at, id",
            &[],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(WebhookSecret {
            id: col!(r, 0),
            hash: col!(r, 1),
            previous_hash: col!(r, 2),
            previous_until: col!(r, 3),
            created_at: col!(r, 4),
            rotated_at: col!(r, 5),
            last_used_at: col!(r, 6),
        });
    }
    Ok(out)
}

pub(super) async fn put_webhook_secret(c: &impl GenericClient, s: &WebhookSecret) -> DbResult<()> {
    c.execute(
        "INSERT INTO qontak_webhook_secrets \
         (id, hash, previous_hash, previous_until, created_at, rotated_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, \
         previous_hash = excluded.previous_hash, previous_until = excluded.previous_until, \
         created_at = excluded.created_at, rotated_at = excluded.rotated_at, last_used_at = excluded.last_used_at",
        &[
            &s.id,
            &s.hash,
            &s.previous_hash,
            &s.previous_until.map(ms),
            &ms(s.created_at),
            &s.rotated_at.map(ms),
            &s.last_used_at.map(ms),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn link_agent(
    c: &mut deadpool_postgres::Object,
    user_id: &str,
    agent_id: Option<String>,
    crm_sso_id: Option<String>,
) -> DbResult<Option<AgentLink>> {
    let tx = c.transaction().await?;
    let Some(row) =
        tx.query_opt("SELECT name, email FROM users WHERE id = $1 FOR UPDATE", &[&user_id]).await?
    else {
        return Ok(None);
    };
    let name: String = col!(row, 0);
    let email: Option<String> = col!(row, 1);
    for (column, value) in [("agent_id", &agent_id), ("crm_sso_id", &crm_sso_id)] {
        let Some(value) = value else { continue };
        let sql = format!("SELECT user_id FROM qontak_agents WHERE {column} = $1 AND user_id <> $2");
        if let Some(r) = tx.query_opt(&sql, &[value, &user_id]).await? {
            let other: String = col!(r, 0);
            return Err(DbError::Conflict(format!("{column} '{value}' is linked to user '{other}' already")));
        }
    }
    if agent_id.is_none() && crm_sso_id.is_none() {
        tx.execute("DELETE FROM qontak_agents WHERE user_id = $1", &[&user_id]).await?;
    } else {
        tx.execute(
            "INSERT INTO qontak_agents (user_id, agent_id, crm_sso_id) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET agent_id = excluded.agent_id, crm_sso_id = excluded.crm_sso_id",
            &[&user_id, &agent_id, &crm_sso_id],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(AgentLink { user_id: user_id.to_owned(), name, agent_id, crm_sso_id, email }))
}

pub(super) async fn agent_links(c: &impl GenericClient) -> DbResult<Vec<AgentLink>> {
    let rows = c
        .query(
            "SELECT q.user_id, u.name, q.agent_id, q.crm_sso_id, u.email FROM qontak_agents q \
             JOIN users u ON u.id = q.user_id ORDER BY q.user_id",
            &[],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(AgentLink {
            user_id: col!(r, 0),
            name: col!(r, 1),
            agent_id: col!(r, 2),
            crm_sso_id: col!(r, 3),
            email: col!(r, 4),
        });
    }
    Ok(out)
}

async fn room_state(tx: &impl GenericClient, room_id: &str) -> DbResult<Option<RoomState>> {
    let stmt = tx.prepare_cached("SELECT state FROM qontak_rooms WHERE id = $1").await?;
    match tx.query_opt(&stmt, &[&room_id]).await? {
        Some(r) => {
            let json: String = col!(r, 0);
            Ok(Some(serde_json::from_str(&json).map_err(decode_err)?))
        }
        None => Ok(None),
    }
}

/// The linked users of these agent ids.
async fn linked(
    tx: &impl GenericClient,
    agents: impl IntoIterator<Item = String>,
) -> DbResult<BTreeMap<String, LinkedUser>> {
    let stmt = tx
        .prepare_cached("SELECT q.user_id, u.name FROM qontak_agents q JOIN users u ON u.id = q.user_id WHERE q.agent_id = $1")
        .await?;
    let mut out = BTreeMap::new();
    for agent in agents {
        if out.contains_key(&agent) {
            continue;
        }
        if let Some(r) = tx.query_opt(&stmt, &[&agent]).await? {
            out.insert(agent, LinkedUser { user_id: col!(r, 0), name: col!(r, 1) });
        }
    }
    Ok(out)
}

pub(super) async fn apply_rooms(
    tx: &impl GenericClient,
    jobs: Vec<RoomJob>,
    now: DateTime<Utc>,
) -> DbResult<Vec<Result<Applied, String>>> {
    // The rooms' locks, in one order, before anything: two nodes' batches wait for each other
    // rather than deadlock on their rooms.
    let rooms: std::collections::BTreeSet<String> =
        jobs.iter().map(|j| format!("room:{}", j.room_id)).collect();
    for room in rooms {
        tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&room]).await?;
    }
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        out.push(apply_room(tx, job, now).await?);
    }
    Ok(out)
}

/// One room event inside the batch's transaction. `decide` runs before anything is written; a
/// refused event gives its key back.
async fn apply_room(
    tx: &impl GenericClient,
    job: RoomJob,
    now: DateTime<Utc>,
) -> DbResult<Result<Applied, String>> {
    let RoomJob { key, room_id, agents, decide } = job;

    if !claim_event(tx, &key, now).await? {
        return Ok(Ok(seen_event(tx, &key).await?));
    }
    let previous = room_state(tx, &room_id).await?;
    // Collected before the query: an iterator borrowing `previous` cannot be held across it.
    let known: Vec<String> = previous.iter().flat_map(|p| p.agent_ids.iter().cloned()).collect();
    let users = linked(tx, agents.into_iter().chain(known)).await?;
    let (state, outcome) = match decide(previous.as_ref(), &users) {
        Ok(decided) => decided,
        Err(reason) => {
            tx.execute("DELETE FROM events WHERE key = $1", &[&key]).await?;
            return Ok(Err(reason));
        }
    };
    if let Some(state) = state {
        let json = serde_json::to_string(&state).map_err(decode_err)?;
        let stmt = tx
            .prepare_cached("INSERT INTO qontak_rooms (id, state) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET state = excluded.state")
            .await?;
        tx.execute(&stmt, &[&room_id, &json]).await?;
    }
    Ok(Ok(apply_outcome(tx, &key, outcome, now).await?))
}

pub(super) async fn room_recipients(c: &impl GenericClient, room_id: &str) -> DbResult<Option<Vec<String>>> {
    let Some(state) = room_state(c, room_id).await? else { return Ok(None) };
    let users = linked(c, state.agent_ids.iter().cloned()).await?;
    Ok(Some(state.agent_ids.iter().filter_map(|a| users.get(a)).map(|u| u.user_id.clone()).collect()))
}

pub(super) async fn add_dead_letter(
    c: &mut deadpool_postgres::Object,
    l: &NewDeadLetter,
) -> DbResult<(i64, bool)> {
    let tx = c.transaction().await?;
    // Looked up first: a conflicting insert would use up a sequence number.
    if let Some(r) = tx.query_opt("SELECT id FROM dead_letters WHERE key = $1", &[&l.key]).await? {
        return Ok((col!(r, 0), false));
    }
    let inserted = tx
        .query_opt(
            "INSERT INTO dead_letters (source, key, received_at, reason, body) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key) DO NOTHING RETURNING id",
            &[&l.source, &l.key, &ms(l.at), &l.reason, &l.body],
        )
        .await?;
    let Some(row) = inserted else {
        // Kept by another node a moment ago.
        let id: i64 = col!(tx.query_one("SELECT id FROM dead_letters WHERE key = $1", &[&l.key]).await?, 0);
        return Ok((id, false));
    };
    let id: i64 = col!(row, 0);
    // The newest MAX_DEAD_LETTERS stay, by rank (sequence numbers have gaps on PostgreSQL).
    tx.execute(
        "DELETE FROM dead_letters WHERE id <= (SELECT id FROM dead_letters ORDER BY id DESC OFFSET $1 LIMIT 1)",
        &[&MAX_DEAD_LETTERS],
    )
    .await?;
    tx.commit().await?;
    Ok((id, true))
}

const DEAD_LETTER_COLUMNS: &str = "id, source, received_at, reason, body, replays";

fn to_dead_letter(r: &Row) -> DbResult<DeadLetter> {
    Ok(DeadLetter {
        id: col!(r, 0),
        source: col!(r, 1),
        received_at: col!(r, 2),
        reason: col!(r, 3),
        body: col!(r, 4),
        replays: col!(r, 5),
    })
}

pub(super) async fn dead_letters(
    c: &impl GenericClient,
    limit: usize,
    before: Option<i64>,
) -> DbResult<Vec<DeadLetter>> {
    let sql =
        format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id < $1 ORDER BY id DESC LIMIT $2");
    let rows = c.query(&sql, &[&before.unwrap_or(i64::MAX), &(limit as i64)]).await?;
    rows.iter().map(to_dead_letter).collect()
}

pub(super) async fn dead_letter(c: &impl GenericClient, id: i64) -> DbResult<Option<DeadLetter>> {
    let sql = format!("SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = $1");
    c.query_opt(&sql, &[&id]).await?.as_ref().map(to_dead_letter).transpose()
}

pub(super) async fn settle_dead_letter(
    c: &impl GenericClient,
    id: i64,
    failed_again: Option<String>,
) -> DbResult<()> {
    match failed_again {
        None => c.execute("DELETE FROM dead_letters WHERE id = $1", &[&id]).await?,
        Some(reason) => {
            c.execute(
                "UPDATE dead_letters SET replays = replays + 1, reason = $2 WHERE id = $1",
                &[&id, &reason],
            )
            .await?
        }
    };
    Ok(())
}

/// Brings a poll of the CRM in, as `plan::crm_sync` decides from the items stored under its ids.
pub(super) async fn crm_sync(
    tx: &impl GenericClient,
    user_id: &str,
    items: Vec<Notification>,
    now: DateTime<Utc>,
) -> DbResult<Vec<UserChange>> {
    // One poll of a user at a time, whichever nodes' bridges poll: a new item is inserted once.
    lock_user(tx, user_id).await?;
    let ids: Vec<&str> = items.iter().map(|n| n.id.as_str()).collect();
    // Locked as they are read, so that what the plan decides from holds until commit (another
    // user's item under a polled id is not covered by this user's lock).
    let rows = tx
        .query(
            "SELECT n.id, n.user_id, n.read_at IS NOT NULL, coalesce(c.crm_read, FALSE) FROM notifications n \
             LEFT JOIN crm_items c ON c.id = n.id WHERE n.id = ANY($1) ORDER BY n.id FOR UPDATE OF n",
            &[&ids],
        )
        .await?;
    let mut stored: BTreeMap<String, Stored> = BTreeMap::new();
    for r in rows {
        stored.insert(col!(r, 0), Stored { owner: col!(r, 1), read: col!(r, 2), crm_read: col!(r, 3) });
    }
    carry_out(tx, plan::crm_sync(user_id, items, stored, now), now).await
}

pub(super) async fn crm_unsent_reads(
    c: &impl GenericClient,
    user_id: &str,
    limit: usize,
) -> DbResult<Vec<String>> {
    let rows = c
        .query(
            "SELECT c.id FROM crm_items c JOIN notifications n ON n.id = c.id \
             WHERE c.user_id = $1 AND NOT c.crm_read AND n.read_at IS NOT NULL ORDER BY n.read_at LIMIT $2",
            &[&user_id, &(limit as i64)],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(col!(r, 0));
    }
    Ok(out)
}
