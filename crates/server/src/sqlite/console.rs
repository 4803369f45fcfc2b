//! What the operators' side keeps beside the accounts: the admin console's sessions (ORG-4), by
//! the hash of their id, and each node's health report (the console's Health page).

use chrono::{DateTime, Utc};
use lonceng_domain::time::to_ms;
use rusqlite::{params, Connection, OptionalExtension};

use super::decode_err;
use crate::db::{ConsoleSession, DbResult, NodeReport};

pub(super) fn save_session(c: &Connection, s: &ConsoleSession) -> DbResult<()> {
    c.prepare_cached(
        "INSERT INTO console_sessions (id_hash, person, record, expires_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id_hash) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
    )?
    .execute(params![s.id_hash, s.person, s.record, to_ms(s.expires_at)])?;
    Ok(())
}

pub(super) fn load_session(c: &Connection, id_hash: &str, now: DateTime<Utc>) -> DbResult<Option<String>> {
    Ok(c.prepare_cached("SELECT record FROM console_sessions WHERE id_hash = ?1 AND expires_at > ?2")?
        .query_row(params![id_hash, to_ms(now)], |r| r.get(0))
        .optional()?)
}

pub(super) fn delete_session(c: &Connection, id_hash: &str) -> DbResult<()> {
    c.execute("DELETE FROM console_sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

pub(super) fn report_node(c: &Connection, report: &NodeReport) -> DbResult<()> {
    let json = serde_json::to_string(report).map_err(decode_err)?;
    c.execute(
        "INSERT INTO nodes (id, seen_at, report) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, report = excluded.report",
        params![report.id, to_ms(report.seen_at), json],
    )?;
    Ok(())
}

pub(super) fn nodes(c: &Connection, since: DateTime<Utc>) -> DbResult<Vec<NodeReport>> {
    let rows: Vec<String> = c
        .prepare_cached("SELECT report FROM nodes WHERE seen_at >= ?1 ORDER BY id")?
        .query_map([to_ms(since)], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    rows.iter().map(|j| serde_json::from_str(j).map_err(decode_err)).collect()
}
