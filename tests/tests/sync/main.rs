//! The sync engine against the real server, with faults injected: the server killed mid-stream, an
//! hour of 503 with Retry-After (crossed in milliseconds with a manual clock), re-sends after
//! maintenance, the client process killed mid-catch-up, a black-holed connection, a wake from sleep,
//! offline actions, and the Qontak CRM API behind a gateway that checks signatures.
//! Every test asserts 0 lost and 0 duplicated where items flow. One binary, one module per topic.

mod util;

mod catch_up;
mod connections;
mod crm;
mod hostile;
mod offline;
mod outages;
