//! What the Notification Center server and its clients share, so that both sides decide alike:
//! no store, no sync, no display, no HTTP server.
//!
//! - [`model`]: tabs, categories, kinds and their typed parameters; validation of wire items.
//! - [`rules`]: the Notification Center rules (NC-R1, NC-R2, NC-R4, NC-R5, NC-R10) as pure functions.
//! - [`protocol`]: the server/client wire types.
//! - [`i18n`]: Fluent catalogs in English and Indonesian (NC-R11).
//! - [`crm`]: the Qontak CRM notifications API mapped onto the model, and its signed client.
//! - [`qontak`]: Qontak Omnichannel webhooks (rooms, messages) turned into producer events.
//! - [`link`]: which pages a click may open (NC-R7).
//! - [`net`]: the HTTP plumbing every remote source shares (errors, `Retry-After`, capped bodies).
//! - [`clock`]: time and waiting as injected dependencies; [`time`]: instants as stored.
//! - [`migrate`]: the one migration runner of every SQLite file (the client's store and the server).

pub mod clock;
pub mod crm;
pub mod i18n;
pub mod link;
pub mod migrate;
pub mod model;
pub mod net;
pub mod protocol;
pub mod qontak;
pub mod rules;
pub mod time;
