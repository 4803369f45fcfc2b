//! ORG-4: what the admin console needs of the service besides the admin API's calls: its sessions,
//! kept in the database so that every node behind the proxy knows them, and the audit trail for
//! changes made through it. Sessions are kept by the SHA-256 of their id: a copy of the database
//! opens no console.

use chrono::{DateTime, Utc};

use super::{Actor, Service, ServiceResult};
use crate::db::{ConsoleSession, Database};
use crate::token_hash;

impl<D: Database> Service<D> {
    /// Keeps a console session's data (JSON) for `person` until `expires_at`.
    pub async fn save_console_session(
        &self,
        id: &str,
        person: &str,
        record: String,
        expires_at: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let session =
            ConsoleSession { id_hash: token_hash(id), person: person.to_owned(), record, expires_at };
        Ok(self.db.save_session(session).await?)
    }

    /// A console session's data, unless it is unknown or expired now (by the server's clock).
    pub async fn console_session(&self, id: &str) -> ServiceResult<Option<String>> {
        Ok(self.db.load_session(token_hash(id), self.clock.now()).await?)
    }

    pub async fn end_console_session(&self, id: &str) -> ServiceResult<()> {
        Ok(self.db.delete_session(token_hash(id)).await?)
    }

    /// Records an admin's change in the audit trail (the admin API's and the console's alike).
    pub async fn note(&self, actor: &Actor, action: &str, target: &str, detail: &str) {
        self.record(actor, action, target, detail).await;
    }
}
