//! Lonceng's platform adapters, without Tauri: native toasts over D-Bus (notify-rust), the focused
//! window on X11, the screen lock, and the URL opener. Each implements a trait of
//! `lonceng_core::toast`, so the rules stay in core and these stay small. Tested for real under
//! `dbus-run-session` and Xvfb (see tests/).
//!
//! Platform limits, known and documented in the README: Windows toasts need an AUMID and a
//! Start-menu shortcut (installed builds) to show the app's name and to deliver clicks; macOS needs
//! a bundle id; some notification servers have no actions (then a toast cannot be clicked, and the
//! bell window remains the way in); GNOME on Wayland hides the focused window from applications, so
//! focus reads as unknown and the web chat's presence report decides.

pub mod app;
pub mod focus;
pub mod keyring;
pub mod memory;
pub mod notifier;
pub mod opener;
