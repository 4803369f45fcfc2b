//! What the operators' side keeps beside the accounts: the admin console's sessions (ORG-4), by
//! the hash of their id, and each node's health report (the console's Health page).

use chrono::{DateTime, Utc};

use super::{col, decode_err, ms};

type Conn = deadpool_postgres::Object;
use crate::db::{ConsoleSession, DbResult, NodeReport};

pub(super) async fn save_session(c: &Conn, s: &ConsoleSession) -> DbResult<()> {
    c.execute(
        "INSERT INTO console_sessions (id_hash, person, record, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id_hash) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
        &[&s.id_hash as &(dyn tokio_postgres::types::ToSql + Sync), &s.person, &s.record, &s.expires_at],
    )
    .await?;
    Ok(())
}

pub(super) async fn load_session(c: &Conn, id_hash: &str, now: DateTime<Utc>) -> DbResult<Option<String>> {
    let row = c
        .query_opt(
            "SELECT record FROM console_sessions WHERE id_hash = $1 AND expires_at > $2",
            &[&id_hash as &(dyn tokio_postgres::types::ToSql + Sync), &now],
        )
        .await?;
    Ok(match row {
        Some(r) => Some(col!(r, 0)),
        None => None,
    })
}

pub(super) async fn delete_session(c: &Conn, id_hash: &str) -> DbResult<()> {
    c.execute("DELETE FROM console_sessions WHERE id_hash = $1", &[&id_hash]).await?;
    Ok(())
}

pub(super) async fn report_node(c: &Conn, report: &NodeReport) -> DbResult<()> {
    let json = serde_json::to_string(report).map_err(decode_err)?;
    c.execute(
        "INSERT INTO nodes (id, seen_at, report) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at, report = excluded.report",
        &[&report.id, &ms(report.seen_at), &json],
    )
    .await?;
    Ok(())
}

pub(super) async fn nodes(c: &Conn, since: DateTime<Utc>) -> DbResult<Vec<NodeReport>> {
    let rows = c.query("SELECT report FROM nodes WHERE seen_at >= $1 ORDER BY id", &[&ms(since)]).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let json: String = col!(r, 0);
        out.push(serde_json::from_str(&json).map_err(decode_err)?);
    }
    Ok(out)
}
