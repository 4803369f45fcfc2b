//! The PostgreSQL schema's runner: `schema.sql`'s steps (see `db::schema`), the version a database
//! has had kept in `lonceng_schema`.

use deadpool_postgres::Pool;

use super::col;
use crate::db::{schema, DbError, DbResult};

/// The schema, in steps.
const SCHEMA_SQL: &str = include_str!("schema.sql");

/// The advisory lock that serialises migrations (any constant; "lonceng" in ASCII).
const MIGRATION_LOCK: i64 = 0x006c_6f6e_6365_6e67;

/// Applies the steps the database has not had, all in one transaction under an advisory lock, so
/// that nodes starting together migrate once.
pub(super) async fn run(pool: &Pool) -> DbResult<()> {
    let steps = schema::steps(SCHEMA_SQL);
    let mut client = pool.get().await?;
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS lonceng_schema (version BIGINT NOT NULL)")
        .await
        .or_else(|e| match e.code() {
            // Two nodes creating it at the same instant: the other one did.
            Some(c) if *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION => Ok(()),
            _ => Err(e),
        })?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    let row = tx.query_one("SELECT coalesce(max(version), 0) FROM lonceng_schema", &[]).await?;
    let found: i64 = col!(row, 0);
    let known = steps.len() as i64;
    if found > known {
        return Err(DbError::Decode(format!(
            "the database has schema {found}; this server knows up to {known}: update the server"
        )));
    }
    for (i, sql) in steps.iter().enumerate().skip(found.max(0) as usize) {
        tx.batch_execute(sql).await?;
        tx.execute("INSERT INTO lonceng_schema (version) VALUES ($1)", &[&(i as i64 + 1)]).await?;
    }
    tx.commit().await?;
    Ok(())
}
