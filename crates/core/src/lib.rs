//! Lonceng's core: everything that decides, stores and renders, with no Tauri and no display.
//!
//! - [`model`]: tabs, categories, kinds and their typed parameters; validation of wire items.
//! - [`rules`]: the Notification Center rules (NC-R1, NC-R2, NC-R4, NC-R5, NC-R10) as pure functions.
//! - [`i18n`]: Fluent catalogs in English and Indonesian (NC-R11).
//! - [`crm`]: the Qontak CRM notifications API mapped onto the model.
//! - [`qontak`]: Qontak Omnichannel webhooks (rooms, messages) turned into producer events.
//! - [`store`]: the local SQLite copy of the bell list, the outbox and the sync cursor.
//! - [`protocol`]: the server/client wire types, shared so that both sides agree.
//! - [`clock`]: time and waiting as injected dependencies; [`time`]: instants as stored.
//! - [`migrate`]: the one migration runner of every SQLite file (store and server).
//! - [`sync`]: the sync engine and its sources (the Lonceng server, the Qontak CRM API).
//! - [`toast`]: the toast policy (NC-R12), one toast per object, withdrawal (NC-R13).
//! - [`link`]: which pages a click may open (NC-R7).
//! - [`doctor`]: `lonceng doctor`'s checks, judged and rendered in the agent's language.

pub mod clock;
pub mod crm;
pub mod doctor;
pub mod fuzzing;
pub mod i18n;
pub mod link;
pub mod migrate;
pub mod model;
pub mod protocol;
pub mod qontak;
pub mod rules;
pub mod store;
pub mod sync;
pub mod time;
pub mod toast;
