//! Start at login on Windows: the per-user Run key (HKCU), pointing at this executable, quoted, with
//! `--hidden` so that Lonceng starts in the tray.
//!
//! Not tauri-plugin-autostart's Windows backend: it writes the machine-wide key (HKLM) whenever the
//! process may (an elevated start, or Wine), which for a per-user install would start Lonceng for
//! every account of the PC, and it leaves the path unquoted. Turning it on also clears a "disabled"
//! mark that Task Manager's Startup tab may have left, as the agent asked for it again.

use windows_registry::CURRENT_USER;

const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// Where Task Manager keeps what the user switched off in its Startup tab.
const APPROVED: &str = r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run";
/// The value's name; the installer's uninstaller removes the same one.
pub const VALUE: &str = "Lonceng";

/// The command the Run key holds for this executable.
pub fn command() -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    Ok(format!("\"{}\" --hidden", exe.display()))
}

/// Turns start at login on or off for this user.
pub fn set(on: bool) -> Result<(), String> {
    let err = |e: windows::core::Error| format!("the Run key: {e}");
    let run = CURRENT_USER.create(RUN).map_err(err)?;
    if on {
        run.set_string(VALUE, command()?).map_err(err)?;
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

/// What the Run key holds for Lonceng, if anything.
pub fn current() -> Option<String> {
    CURRENT_USER.open(RUN).ok()?.get_string(VALUE).ok()
}
