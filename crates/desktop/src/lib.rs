//! Lonceng's desktop runtime, without Tauri: everything the tray app does, headless and tested.
//!
//! - [`runtime`]: the composition root ([`runtime::Desktop`]): store, sync source, toasts, and the one
//!   event channel between them; [`ports`]: the platform parts it is built with; [`housekeeping`]:
//!   the store's upkeep.
//! - [`actions`]: the one path for what the agent does (mark read, open, toast clicks, mark all,
//!   undo): store, outbox, sync, toasts and the window told, every time.
//! - [`autostart`]: start at login, for an installed app only; [`doctor`]: the facts `lonceng
//!   doctor` and Settings → Diagnose judge.
//! - [`settings`], [`views`] (pages, counts, the tray's look), [`badge`] (the unread number drawn
//!   on the tray icon), [`placement`] (where the window opens), [`error`] (the one IPC error),
//!   [`cli`] (options from flags and environment).
//! - Platform adapters, each implementing a port of `lonceng_client` or `lonceng_domain`. Linux: [`notifier`] (D-Bus
//!   toasts), [`focus`] (the focused window on X11, the screen lock), [`secret_service`] (the
//!   keyring). Windows: `win` (WinRT toasts, the foreground window and the session's lock, the
//!   Credential Manager). Both: [`keyring`] (where secrets go), [`opener`] (the browser),
//!   [`memory`] (WebKit's footprint).
//! - [`demo`] (feature `demo`): the embedded reference server with simulated activity.
//!
//! Platform limits, known and documented in the README: Windows toasts need an AUMID and a
//! Start-menu shortcut (installed builds) to show the app's name and to deliver clicks; macOS needs
//! a bundle id; some notification servers have no actions (then a toast cannot be clicked, and the
//! bell window remains the way in); GNOME on Wayland hides the focused window from applications, so
//! focus reads as unknown and the web chat's presence report decides.

pub mod actions;
pub mod autostart;
pub mod badge;
pub mod cli;
#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
pub mod error;
pub mod focus;
pub mod housekeeping;
pub mod keyring;
pub mod memory;
#[cfg(unix)]
pub mod notifier;
pub mod opener;
pub mod placement;
pub mod ports;
pub mod runtime;
pub mod secret_kind;
#[cfg(unix)]
pub mod secret_service;
pub mod settings;
pub mod views;
#[cfg(windows)]
pub mod win;
