//! What `lonceng doctor` finds on Windows: whether toasts carry Lonceng's name (the installer's
//! Start-menu shortcut), and the services Lonceng uses there.

use std::path::PathBuf;
use std::time::Duration;

use lonceng_client::doctor::{Display, Notifications, Tray};

/// What this PC offers Lonceng (nothing here needs waiting for).
pub async fn probe(_wait: Duration) -> (Notifications, Tray, Display, Option<String>, Option<String>) {
    // Toasts carry the app's name and deliver clicks only with the installer's Start-menu shortcut.
    let shortcut = std::env::var_os("APPDATA")
        .map(|d| PathBuf::from(d).join(r"Microsoft\Windows\Start Menu\Programs\Lonceng.lnk"));
    let registered = shortcut.is_some_and(|s| s.exists());
    (
        Notifications::Windows { registered },
        Tray::Windows,
        Display::Windows,
        Some("WTS session notifications".to_owned()),
        Some("Windows Credential Manager".to_owned()),
    )
}
