//! The Linux backends of the platform ports: toasts over D-Bus ([`notifier`]), the focused X11
//! window and the screen lock ([`focus`]), secrets in the Secret Service ([`secret_service`]), start
//! at login in XDG autostart ([`autostart`]), WebKit's memory handed back ([`memory`]), GNOME's
//! proxy settings ([`proxy`], read through [`gsettings`]) and what `lonceng doctor` finds
//! ([`doctor`]); below them, the names every platform folder offers.

pub mod autostart;
pub mod doctor;
pub mod focus;
pub mod gsettings;
pub mod memory;
pub mod notifier;
pub mod proxy;
pub mod secret_service;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lonceng_client::toast::{Activation, ChatWindowMatch, Notifier};
use tokio::sync::mpsc::UnboundedSender;

pub use doctor::probe;
pub use memory::prepare_webkit;

use crate::focus::ChatFocus;
use crate::policy::Loaded;
use crate::secret_kind::SecretKind;

/// The proxy the desktop's settings name when the environment names none (GNOME's).
pub fn os_proxy() -> Option<lonceng_domain::net::OsProxy> {
    gsettings::Gsettings::default().proxy()
}

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

/// The tray icon's size in pixels, where the platform says it: not here. A StatusNotifierItem
/// host scales what it gets to its panel (22 to 48 px, twice that on a 200 % screen), so the
/// 64 px icon, its badge drawn at 64 px, serves them all.
pub fn tray_icon_size() -> Option<u32> {
    None
}

/// With no window open (after one closed, or once a fresh start has settled): WebKit's network
/// process ended and the memory the window (or the start) used handed back.
pub fn release_webkit() {
    let ended = memory::end_children("WebKitNetwork");
    match memory::trim() {
        Ok(t) => tracing::debug!(ended, regions = t.regions, mb = t.bytes >> 20, "WebKit released"),
        Err(e) => tracing::warn!(error = %e, "could not hand back the window's memory"),
    }
}

/// Whether an app may take a keyboard shortcut for the whole desktop: on X11 it grabs the key;
/// Wayland gives no app that (a grab through XWayland hears only XWayland's own windows), so the
/// desktop's own keyboard settings must run `lonceng` instead.
pub fn global_shortcuts() -> bool {
    let var = |v: &str| std::env::var(v).unwrap_or_default();
    !(var("XDG_SESSION_TYPE").eq_ignore_ascii_case("wayland")
        || (!var("WAYLAND_DISPLAY").is_empty() && var("DISPLAY").is_empty()))
}

/// The locale messages are shown in.
pub fn locale() -> Option<String> {
    locale_from(|name| std::env::var(name).ok())
}

/// The locale as POSIX orders its variables: `LC_ALL`, then `LC_MESSAGES`, then `LANG`; GNU's
/// `LANGUAGE` list comes first where a locale other than C is set.
fn locale_from(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let posix = var("LC_ALL").or_else(|| var("LC_MESSAGES")).or_else(|| var("LANG"))?;
    if posix == "C" || posix.starts_with("C.") || posix == "POSIX" {
        return Some(posix);
    }
    Some(
        var("LANGUAGE")
            .and_then(|l| l.split(':').find(|s| !s.is_empty()).map(str::to_owned))
            .unwrap_or(posix),
    )
}

/// Where IT puts the policy (ORG-3); the packages never write it.
pub const POLICY_FILE: &str = "/etc/lonceng/policy.json";

/// The largest policy file read: a policy is a handful of keys.
const POLICY_MAX: u64 = 64 * 1024;

/// IT's policy (ORG-3), from [`POLICY_FILE`]; none when there is no file.
pub fn policy() -> Loaded {
    policy_from(Path::new(POLICY_FILE))
}

fn policy_from(path: &Path) -> Loaded {
    let source = path.display().to_string();
    let unreadable =
        |why: String| Loaded { source: Some(source.clone()), problems: vec![why], ..Loaded::default() };
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Loaded::default(),
        Err(e) => unreadable(format!("cannot be read: {e}")),
        // A pipe or a device would block the start, or never end.
        Ok(m) if !m.is_file() => unreadable("not a regular file".into()),
        Ok(m) if m.len() > POLICY_MAX => unreadable(format!("larger than {} KiB", POLICY_MAX / 1024)),
        Ok(_) => {
            use std::io::Read;
            let mut text = String::new();
            // Bounded again: the file may grow between the look and the read.
            let read = std::fs::File::open(path).and_then(|f| f.take(POLICY_MAX).read_to_string(&mut text));
            match read {
                Ok(_) => Loaded::from_json(&source, &text),
                Err(e) => unreadable(format!("cannot be read: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ORG-3: no file is no policy; a file that cannot be used says why.
    #[test]
    fn org_3_the_policy_file_is_read_when_there_is_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        assert_eq!(policy_from(&path), Loaded::default());
        std::fs::write(&path, r#"{"lang": "id"}"#).unwrap();
        let loaded = policy_from(&path);
        assert_eq!((loaded.fixed(), loaded.source), (1, Some(path.display().to_string())));
        std::fs::write(&path, vec![b' '; 100_000]).unwrap();
        assert!(policy_from(&path).problems[0].contains("larger than"));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(policy_from(&path).problems[0].contains("cannot be read"));
        assert!(policy_from(dir.path()).problems[0].contains("not a regular file"));
    }

    #[test]
    fn the_locale_is_read_in_posix_order_with_gnu_language_first() {
        fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        }
        assert_eq!(locale_from(env(&[])), None);
        assert_eq!(locale_from(env(&[("LANG", "id_ID.UTF-8")])).as_deref(), Some("id_ID.UTF-8"));
        let messages = [("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "id_ID.UTF-8")];
        assert_eq!(locale_from(env(&messages)).as_deref(), Some("id_ID.UTF-8"));
        let all = [("LANG", "id_ID.UTF-8"), ("LC_ALL", "en_GB.UTF-8")];
        assert_eq!(locale_from(env(&all)).as_deref(), Some("en_GB.UTF-8"));
        let gnu = [("LANG", "en_US.UTF-8"), ("LANGUAGE", ":id:en")];
        assert_eq!(locale_from(env(&gnu)).as_deref(), Some("id"));
        let c = [("LANG", "C.UTF-8"), ("LANGUAGE", "id")];
        assert_eq!(locale_from(env(&c)).as_deref(), Some("C.UTF-8"), "LANGUAGE is ignored under C");
        assert_eq!(locale_from(env(&[("LANG", "")])), None);
    }
}
