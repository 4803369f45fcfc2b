//! One error type for everything the window and the tray ask of the runtime: what went wrong, in a
//! sentence, and a kind to branch on. It crosses the IPC boundary as `{kind, message}` (its
//! TypeScript type is generated with the rest of the contract).

use lonceng_client::store::StoreError;
use lonceng_domain::link::LinkError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum AppError {
    /// The local store failed (a damaged file, a full disk).
    #[error("{0}")]
    Store(String),
    #[error("no notification '{0}'")]
    NotFound(String),
    /// Lonceng would not do it: a page outside the allowed hosts, say.
    #[error("{0}")]
    Refused(String),
    /// The request itself is wrong (a category outside its tab, a bad address).
    #[error("{0}")]
    Invalid(String),
    /// Something of this computer's failed (the browser did not start).
    #[error("{0}")]
    Platform(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => AppError::NotFound(id),
            StoreError::CategoryNotInTab { .. } => AppError::Invalid(e.to_string()),
            other => AppError::Store(other.to_string()),
        }
    }
}

impl From<LinkError> for AppError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::NotAllowed(_) => AppError::Refused(e.to_string()),
            LinkError::Failed { .. } => AppError::Platform(e.to_string()),
        }
    }
}
