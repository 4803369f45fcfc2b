//! The desktop runtime's integration tests: one binary, one module per topic (a binary each cost a
//! link of the whole app per topic). The D-Bus topics re-run this binary for one test at a time on
//! a private session bus (`common::in_private_bus`), by the test's full name.

#[cfg(unix)]
#[macro_use]
mod common;

mod account;
mod app;
mod contract;
mod dbus;
mod demo;
mod doctor;
mod fakes;
mod keyring;
mod memory;
mod qontak;
mod report;
mod windows;
mod x11;
