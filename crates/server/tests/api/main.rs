//! The server's API suite: the real server on port 0 with an in-memory or file database, driven
//! with a real HTTP client and a real SSE client. The clock is manual, so maintenance windows and
//! retention are crossed in milliseconds. One binary, one module per topic (ripgrep's layout);
//! rule ids are cited in the test names.

mod util;

mod admin;
mod bridge;
mod browsers;
mod console;
mod contract;
mod hostile;
mod lists;
mod maintenance;
mod presence;
mod producers;
mod qontak;
mod reads;
mod retention;
mod signin;
mod streams;
