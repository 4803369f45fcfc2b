//! The desktop client's machinery, with no Tauri and no display: what only a client needs, on top
//! of the shared domain (`lonceng_domain`). The server does not link this crate.
//!
//! - [`store`]: the local SQLite copy of the bell list, the outbox and the sync cursor.
//! - [`sync`]: the sync engine and its sources (the Lonceng server, the Qontak CRM API).
//! - [`toast`]: the toast policy (NC-R12), one toast per object, withdrawal (NC-R13).
//! - [`doctor`]: `lonceng doctor`'s checks, judged and rendered in the agent's language.
//! - [`fuzzing`]: the properties every network parser keeps, for `cargo fuzz` and the tests.

pub mod auth;
pub mod doctor;
pub mod fuzzing;
pub mod store;
pub mod sync;
pub mod toast;
