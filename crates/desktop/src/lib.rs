//! Lonceng's desktop runtime, without Tauri: everything the tray app does, headless and tested.
//!
//! - [`runtime`]: the composition root ([`runtime::Desktop`]): store, sync source, toasts, and the one
//!   event channel between them; [`ports`]: the platform parts it is built with; [`housekeeping`]:
//!   the store's upkeep.
//! - [`commands`]: the bell window's commands, listed once (the shell's IPC handlers and the
//!   window's TypeScript are made from the list).
//! - [`actions`]: the one path for what the agent does (mark read, open, toast clicks, mark all,
//!   undo): store, outbox, sync, toasts and the window told, every time.
//! - [`autostart`]: start at login, for an installed app only; [`doctor`]: the facts `lonceng
//!   doctor` and Settings → Diagnose judge.
//! - [`policy`]: IT's settings above the agent's (ORG-3), read by the platform.
//! - [`settings`], [`views`] (pages, counts, the tray's look), [`badge`] (the unread number drawn
//!   on the tray icon), [`placement`] (where the window opens), [`error`] (the one IPC error),
//!   [`cli`] (options from flags and environment).
//! - [`platform`]: this computer's own parts, a folder per OS (`cfg` is written only there): Linux's
//!   D-Bus toasts, X11 focus and screen lock, Secret Service, XDG autostart; Windows' WinRT toasts,
//!   foreground window and session lock, Credential Manager, Run key. Around them, the same on
//!   every OS: [`focus`] (the probe's port), [`keyring`] (where secrets go), [`secret_kind`],
//!   [`opener`] (the browser), [`memory`] (WebKit's footprint).
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
pub mod commands;
#[cfg(feature = "demo")]
pub mod demo;
pub mod doctor;
pub mod error;
pub mod focus;
pub mod housekeeping;
pub mod keyring;
pub mod logs;
pub mod memory;
pub mod opener;
pub mod placement;
pub mod platform;
pub mod policy;
pub mod ports;
pub mod readiness;
pub mod report;
pub mod runtime;
pub mod secret_kind;
pub mod settings;
pub mod views;
