//! The keyboard shortcut that opens the bell from anywhere (Settings: Ctrl+Alt+N by default):
//! registered at start and again when Settings change it. One the desktop or another app holds
//! already is said in Settings, never fatal.

use std::sync::Mutex;

use tauri::{AppHandle, Manager};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};

use lonceng_desktop::settings::ShortcutProblem;

use crate::{window, App};

/// The shortcut registered now.
#[derive(Default)]
pub struct Registered(Mutex<Option<Shortcut>>);

/// The plugin, with what a press does: the bell opens, in front (pressed again, it stays).
pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|handle, _shortcut, event| {
            if event.state == ShortcutState::Pressed {
                window::show(handle, None);
            }
        })
        .build()
}

/// Registers the shortcut the settings name (none when empty), replacing the one before, and
/// tells the runtime what went wrong, if anything.
pub fn apply(handle: &AppHandle) {
    let app = handle.state::<App>();
    let wanted = app.settings().settings.shortcut.trim().to_owned();
    let registered = handle.state::<Registered>();
    let mut current = registered.0.lock().unwrap_or_else(|p| p.into_inner());
    let parsed = match wanted.as_str() {
        "" => None,
        text => match text.parse::<Shortcut>() {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::info!(error = %e, shortcut = %text, "not a keyboard shortcut");
                return app
                    .set_shortcut_problem(Some(ShortcutProblem::Invalid { shortcut: text.to_owned() }));
            }
        },
    };
    if *current == parsed {
        // Back to the one registered (after a mistake, say): it works.
        return app.set_shortcut_problem(None);
    }
    let shortcuts = handle.global_shortcut();
    let release = |old: Shortcut| {
        if let Err(e) = shortcuts.unregister(old) {
            tracing::warn!(error = %e, "the previous keyboard shortcut was not released");
        }
    };
    let Some(shortcut) = parsed else {
        if let Some(old) = current.take() {
            release(old);
        }
        return app.set_shortcut_problem(None);
    };
    if !lonceng_desktop::platform::global_shortcuts() {
        // The key grab would "succeed" and never fire: say what works instead.
        tracing::info!(shortcut = %wanted, "this desktop (Wayland) gives apps no shortcut of their own");
        return app.set_shortcut_problem(Some(ShortcutProblem::Unsupported { shortcut: wanted }));
    }
    // The new one first: refused, the old one keeps working.
    match shortcuts.register(shortcut) {
        Ok(()) => {
            if let Some(old) = current.replace(shortcut) {
                release(old);
            }
            tracing::info!(shortcut = %wanted, "the bell opens with {wanted}");
            app.set_shortcut_problem(None);
        }
        Err(e) => {
            tracing::warn!(error = %e, shortcut = %wanted, "the keyboard shortcut is taken");
            app.set_shortcut_problem(Some(ShortcutProblem::Taken { shortcut: wanted }));
        }
    }
}
