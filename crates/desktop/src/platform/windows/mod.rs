//! The Windows backends of the platform ports: toasts through WinRT ([`toasts`]), the focused window
//! and the session's lock state from Win32 ([`focus`]), secrets in the Credential Manager
//! ([`credentials`]), start at login in the per-user Run key ([`autostart`]), the Internet
//! settings' proxy ([`proxy`]), what `lonceng doctor` finds ([`doctor`]); below them, the names
//! every platform folder offers.
//!
//! What Wine (the CI's Windows) provides is tested under it: Win32 windows, the session message,
//! the Credential Manager. WinRT toasts need a real Windows: their tests say so under Wine.

pub mod autostart;
pub mod credentials;
pub mod doctor;
pub mod focus;
pub mod proxy;
pub mod toasts;

use std::path::PathBuf;
use std::sync::Arc;

use lonceng_client::toast::{Activation, ChatWindowMatch, Notifier};
use tokio::sync::mpsc::UnboundedSender;

pub use doctor::probe;

use crate::focus::ChatFocus;
use crate::policy::Loaded;
use crate::secret_kind::SecretKind;

/// The app's identity for the shell: toasts are shown under it, and the Start-menu shortcut the
/// installer makes carries it (without one, Windows shows toasts as "Windows PowerShell" and drops
/// their clicks). The same string as `identifier` in tauri.conf.json and in the NSIS script.
pub const AUMID: &str = "id.lonceng.desktop";

/// Tells the shell that this process is [`AUMID`] (taskbar grouping, toasts' owner).
pub fn claim_identity() {
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

/// WinRT toasts under the app's id.
pub fn notifier(activations: UnboundedSender<Activation>) -> Arc<dyn Notifier> {
    Arc::new(toasts::WinRtNotifier::new(AUMID, activations))
}

/// The foreground window and the session's lock, from Win32.
pub fn focus() -> Arc<dyn ChatFocus> {
    Arc::new(focus::WindowsFocus::new(ChatWindowMatch::default()))
}

/// A secret from the Credential Manager.
pub async fn read_secret(kind: SecretKind) -> Option<String> {
    credentials::read(kind)
}

/// Saves a secret in the Credential Manager (an empty one removes it); false when it failed.
pub async fn write_secret(kind: SecretKind, value: &str) -> bool {
    credentials::write(kind, value).map_err(|e| tracing::warn!(error = %e)).is_ok()
}

/// Nothing to add: a file in the user's profile is the user's (its ACL is inherited).
pub fn owner_only(_: &mut std::fs::OpenOptions) {}

/// The shell's URL handler, as Go's pkg/browser uses: no command interpreter parses the URL.
pub fn browser() -> std::process::Command {
    let mut c = std::process::Command::new("rundll32.exe");
    c.arg("url.dll,FileProtocolHandler");
    c
}

/// Where applications keep their data: `%APPDATA%`.
pub fn data_home() -> Option<PathBuf> {
    std::env::var_os("APPDATA").map(PathBuf::from)
}

/// The notification area's icon size in pixels at this screen's scale (16 at 100 %, 24 at 150 %,
/// 32 at 200 %): the icon and its badge are drawn at exactly that size, since Windows' own
/// scaling of a larger one blurs the digits.
pub fn tray_icon_size() -> Option<u32> {
    use windows::Win32::UI::WindowsAndMessaging::{GetSystemMetrics, SM_CXSMICON};
    // SAFETY: a plain query.
    let size = unsafe { GetSystemMetrics(SM_CXSMICON) };
    u32::try_from(size).ok().filter(|s| (8..=256).contains(s))
}

/// WebKit is Linux's: WebView2 manages its own processes.
pub fn prepare_webkit() {}

/// WebKit is Linux's: WebView2 manages its own processes.
pub fn release_webkit() {}

/// Windows lets an app register a hot key for the whole desktop.
pub fn global_shortcuts() -> bool {
    true
}

/// The language Windows shows its own text in (`id-ID`, `en-US`, …): the display language, as
/// `LC_MESSAGES` is on Linux (the regional format may well be another).
pub fn locale() -> Option<String> {
    use windows::Win32::Globalization::{GetUserDefaultUILanguage, LCIDToLocaleName};
    // SAFETY: plain calls; the buffer is as long as the call is told (LOCALE_NAME_MAX_LENGTH).
    let lcid = u32::from(unsafe { GetUserDefaultUILanguage() });
    let mut buf = [0u16; 85];
    let n = unsafe { LCIDToLocaleName(lcid, Some(&mut buf), 0) };
    let n = usize::try_from(n).ok().filter(|n| *n > 1)?;
    Some(String::from_utf16_lossy(&buf[..n - 1]))
}

/// The proxy Windows' Internet settings name (what Edge and WinHTTP's users set).
pub fn os_proxy() -> Option<lonceng_domain::net::OsProxy> {
    proxy::internet_settings()
}

/// Where IT's policy is kept, under HKLM (the machine's, which wins) and HKCU (the user's).
pub const POLICY_KEY: &str = r"Software\Policies\Lonceng";

/// IT's policy (ORG-3): the machine's values, then the user's for keys the machine does not set.
pub fn policy() -> Loaded {
    use windows_registry::{CURRENT_USER, LOCAL_MACHINE};
    let mut values = Vec::new();
    let mut sources = Vec::new();
    for (root, name) in [(LOCAL_MACHINE, "HKLM"), (CURRENT_USER, "HKCU")] {
        let Ok(key) = root.open(POLICY_KEY) else { continue };
        let Ok(found) = key.values() else { continue };
        sources.push(format!(r"{name}\{POLICY_KEY}"));
        for (name, value) in found {
            if !values.iter().any(|(n, _): &(String, serde_json::Value)| n.eq_ignore_ascii_case(&name)) {
                values.push((name.to_ascii_lowercase(), registry_value(value)));
            }
        }
    }
    if sources.is_empty() {
        return Loaded::default();
    }
    Loaded::from_values(&sources.join(", "), values)
}

/// A registry value as the policy reads it: numbers (DWORD, QWORD), strings, lists of strings;
/// anything else as null, which no key takes (so it is named as wrong).
fn registry_value(value: windows_registry::Value) -> serde_json::Value {
    use windows_registry::Type;
    match value.ty() {
        Type::U32 | Type::U64 => {
            u64::try_from(value).map_or(serde_json::Value::Null, serde_json::Value::from)
        }
        Type::String | Type::ExpandString => {
            String::try_from(value).map_or(serde_json::Value::Null, serde_json::Value::from)
        }
        // A multi-string ends with an empty one (its double NUL), which is no entry.
        Type::MultiString => Vec::<String>::try_from(value).map_or(serde_json::Value::Null, |list| {
            list.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().into()
        }),
        _ => serde_json::Value::Null,
    }
}
