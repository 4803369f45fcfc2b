//! Start at login on Windows: the per-user Run key (HKCU), pointing at this executable, quoted, with
//! `--hidden` so that Lonceng starts in the tray.
//!
//! Turning it on also clears a "disabled" mark that Task Manager's Startup tab may have left, as the
//! agent asked for it again. (Why not tauri-plugin-autostart: `crate::autostart`.)

use std::path::Path;

use windows_registry::CURRENT_USER;

const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// Where Task Manager keeps what the user switched off in its Startup tab.
const APPROVED: &str = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run";
/// The value's name; the installer's uninstaller removes the same one.
pub const VALUE: &str = "Lonceng";

/// The command the Run key holds for `exe`: quoted (a user name may hold a space), hidden.
pub fn command(exe: &Path) -> String {
    format!("\"{}\" --hidden", exe.display())
}

/// Turns start at login on (for `exe`) or off, for this user.
pub fn set(on: bool, exe: &Path) -> Result<(), String> {
    let err = |e: windows::core::Error| format!("the Run key: {e}");
    let run = CURRENT_USER.create(RUN).map_err(err)?;
    if on {
        run.set_string(VALUE, command(exe)).map_err(err)?;
        if let Ok(approved) = CURRENT_USER.open(APPROVED) {
            if approved.get_value(VALUE).is_ok() {
                // 02 00…: enabled (03 would be "disabled in Task Manager").
                approved
                    .set_bytes(VALUE, windows_registry::Type::Bytes, &[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
                    .map_err(err)?;
            }
        }
    } else {
        let _ = run.remove_value(VALUE);
    }
    Ok(())
}

/// Where the installer puts the binary: the per-user or the machine-wide program folder.
pub fn installed_in(dir: &Path) -> bool {
    let d = dir.to_string_lossy().to_lowercase().replace('/', "\\");
    d.ends_with("\\programs\\lonceng") || d.contains("\\program files") && d.ends_with("\\lonceng")
}

/// What the Run key holds for Lonceng, if anything.
pub fn current() -> Option<String> {
    CURRENT_USER.open(RUN).ok()?.get_string(VALUE).ok()
}
