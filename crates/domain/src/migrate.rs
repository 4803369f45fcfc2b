//! One migration runner for every SQLite file Lonceng writes (the desktop's store and the server's
//! database). `PRAGMA user_version` counts the migrations applied; each runs in its own transaction
//! with the version bump, so a crash leaves a file at one version or the next, never between.
//! A file from a newer build is refused untouched, and a file that belongs to another program
//! (another `application_id`) is left alone.

use rusqlite::{Connection, Transaction};

/// One step of a schema: SQL, and optionally rows it needs from the start.
pub struct Migration {
    pub sql: &'static str,
    /// Runs after `sql` in the same transaction.
    pub seed: Option<fn(&Transaction<'_>) -> rusqlite::Result<()>>,
}

impl Migration {
    pub const fn sql(sql: &'static str) -> Migration {
        Migration { sql, seed: None }
    }
}

/// A schema: its migrations, append only, and the `application_id` that marks a file as its own
/// (`None`: the file is not marked, and any file is taken).
pub struct Schema<'a> {
    pub application_id: Option<i32>,
    pub migrations: &'a [Migration],
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("the file belongs to another program (application id {found:#x})")]
    Foreign { found: i32 },
    #[error("the file has schema {found}; this build knows up to {supported}")]
    Newer { found: i64, supported: i64 },
}

impl Schema<'_> {
    /// Checks that the file is this schema's (or empty) and not from a newer build.
    pub fn check(&self, conn: &Connection) -> Result<(), MigrateError> {
        let version = user_version(conn)?;
        if let Some(expected) = self.application_id {
            let found: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if found != expected && (found != 0 || version != 0 || tables != 0) {
                return Err(MigrateError::Foreign { found });
            }
        }
        let supported = self.migrations.len() as i64;
        if version > supported {
            return Err(MigrateError::Newer { found: version, supported });
        }
        Ok(())
    }

    /// Applies the migrations the file has not had yet.
    pub fn migrate(&self, conn: &mut Connection) -> Result<(), MigrateError> {
        self.check(conn)?;
        let from = usize::try_from(user_version(conn)?).unwrap_or(0);
        for (i, m) in self.migrations.iter().enumerate().skip(from) {
            let tx = conn.transaction()?;
            tx.execute_batch(m.sql)?;
            if let Some(seed) = m.seed {
                seed(&tx)?;
            }
            // Both pragmas live in the file header and commit with the transaction.
            let mut pragmas = format!("PRAGMA user_version = {};", i + 1);
            if let Some(id) = self.application_id {
                pragmas.push_str(&format!(" PRAGMA application_id = {id};"));
            }
            tx.execute_batch(&pragmas)?;
            tx.commit()?;
        }
        Ok(())
    }
}

pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Migration] =
        &[Migration::sql("CREATE TABLE a (x);"), Migration::sql("ALTER TABLE a ADD COLUMN y;")];

    #[test]
    fn each_migration_runs_once_and_a_newer_or_foreign_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        let schema = Schema { application_id: Some(7), migrations: STEPS };
        schema.migrate(&mut conn).unwrap();
        schema.migrate(&mut conn).unwrap();
        assert_eq!(user_version(&conn).unwrap(), 2);
        let older = Schema { application_id: Some(7), migrations: &STEPS[..1] };
        assert!(matches!(older.check(&conn), Err(MigrateError::Newer { found: 2, supported: 1 })));
        let other = Schema { application_id: Some(8), migrations: STEPS };
        assert!(matches!(other.check(&conn), Err(MigrateError::Foreign { found: 7 })));
    }
}
