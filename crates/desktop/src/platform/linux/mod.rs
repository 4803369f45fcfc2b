//! The Linux backends of the platform ports: toasts over D-Bus ([`notifier`]), the focused X11
//! window and the screen lock ([`focus`]), secrets in the Secret Service ([`secret_service`]), start
//! at login in XDG autostart ([`autostart`]), WebKit's memory handed back ([`memory`]), and what
//! `lonceng doctor` finds ([`doctor`]); below them, the names every platform folder offers.

pub mod autostart;
pub mod doctor;
pub mod focus;
pub mod memory;
pub mod notifier;
pub mod secret_service;

use std::path::PathBuf;
use std::sync::Arc;

use lonceng_client::toast::{Activation, ChatWindowMatch, Notifier};
use tokio::sync::mpsc::UnboundedSender;

pub use doctor::probe;
pub use memory::prepare_webkit;

use crate::focus::ChatFocus;
use crate::secret_kind::SecretKind;

/// Nothing to claim: a D-Bus toast names its app itself.
pub fn claim_identity() {}

/// Toasts over one D-Bus connection.
pub fn notifier(activations: UnboundedSender<Activation>) -> Arc<dyn Notifier> {
    Arc::new(notifier::DbusNotifier::new("Lonceng", "lonceng", activations))
}

/// The focused window from X11, and the screen lock.
pub fn focus() -> Arc<dyn ChatFocus> {
    Arc::new(focus::DesktopFocus::new(None, ChatWindowMatch::default()))
}

/// A secret from the Secret Service, if one runs, is unlocked and holds it.
pub async fn read_secret(kind: SecretKind) -> Option<String> {
    secret_service::Keyring::connect().await?.read(kind).await
}

/// Saves a secret in the Secret Service (an empty one removes it); false when none took it.
pub async fn write_secret(kind: SecretKind, value: &str) -> bool {
    match secret_service::Keyring::connect().await {
        Some(k) => k.write(kind, value).await,
        None => false,
    }
}

/// A file only this user may read: the secret's fallback where no keyring runs.
pub fn owner_only(opts: &mut std::fs::OpenOptions) {
    std::os::unix::fs::OpenOptionsExt::mode(opts, 0o600);
}

/// The desktop's URL opener (macOS's `open` where this folder serves it).
pub fn browser() -> std::process::Command {
    std::process::Command::new(if cfg!(target_os = "macos") { "open" } else { "xdg-open" })
}

/// Where applications keep their data: `$XDG_DATA_HOME`, else `~/.local/share`.
pub fn data_home() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
}

/// After the window closed: WebKit's network process ended and the memory it used handed back.
pub fn release_webkit() {
    let ended = memory::end_children("WebKitNetwork");
    match memory::trim() {
        Ok(t) => tracing::debug!(ended, regions = t.regions, mb = t.bytes >> 20, "WebKit released"),
        Err(e) => tracing::warn!(error = %e, "could not hand back the window's memory"),
    }
}
