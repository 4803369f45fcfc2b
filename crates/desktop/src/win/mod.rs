//! The Windows backends of the platform ports: toasts through WinRT ([`toasts`]), the focused window
//! and the session's lock state from Win32 ([`focus`]), secrets in the Credential Manager
//! ([`credentials`]), start at login in the per-user Run key ([`autostart`]).
//!
//! What Wine (the CI's Windows) provides is tested under it: Win32 windows, the session message,
//! the Credential Manager. WinRT toasts need a real Windows: their tests say so under Wine.

pub mod autostart;
pub mod credentials;
pub mod focus;
pub mod toasts;

/// The app's identity for the shell: toasts are shown under it, and the Start-menu shortcut the
/// installer makes carries it (without one, Windows shows toasts as "Windows PowerShell" and drops
/// their clicks). The same string as `identifier` in tauri.conf.json and in the NSIS script.
pub const AUMID: &str = "id.lonceng.desktop";

/// Tells the shell that this process is [`AUMID`] (taskbar grouping, toasts' owner).
pub fn claim_app_id() {
    // SAFETY: a plain Win32 call with a NUL-terminated string that outlives it.
    let result = unsafe {
        windows::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID(&windows::core::HSTRING::from(
            AUMID,
        ))
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "the shell did not take Lonceng's app id; toasts may show another name");
    }
}
