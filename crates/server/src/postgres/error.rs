//! PostgreSQL's failures in the storage's terms: what is worth a retry (the database restarting, the
//! network, a deadlock between nodes) is `Unavailable`, a taken unique value is a `Conflict`, and
//! anything else is kept in full, since tokio-postgres's own message leaves out what matters.

use crate::db::DbError;

/// Whether an error means "PostgreSQL cannot be reached or is going away" (answered 503, retried by
/// clients) rather than a fault.
fn unavailable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let c = code.code();
            // 08: connection exceptions; 57P0x: shutting down, cannot connect now; 40001/40P01:
            // a serialisation failure or deadlock, which a retry resolves.
            c.starts_with("08") || c.starts_with("57P0") || c == "40001" || c == "40P01" || c == "53300"
        }
        None => {
            e.is_closed()
                || std::error::Error::source(e).is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        }
    }
}

/// What went wrong, in full: tokio-postgres's own message leaves out the server's message and the
/// cause ("db error", "error connecting to server").
fn detail(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> DbError {
        if unavailable(&e) {
            return DbError::Unavailable(detail(&e));
        }
        if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            return DbError::Conflict(
                e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()),
            );
        }
        DbError::Postgres(detail(&e))
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> DbError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => DbError::Unavailable(other.to_string()),
        }
    }
}
