//! Memory while the bell window is closed.
//!
//! Lonceng sits in the tray all day and shows its window for seconds at a time. WebKitGTK is made
//! for browsers, which stay open, so after the last web view is gone it keeps:
//! - its network process (the shell ends it: [`end_children`]);
//! - an EGL display in the app's own process, created only to find out which GPU the web process
//!   should use, and never released, with the GL driver loaded for it (24 MB of llvmpipe and LLVM
//!   on a machine without a GPU). The window draws without GPU compositing, so that question does
//!   not arise: [`webkit_environment`] answers it before WebKit asks;
//! - the code pages it ran to show the window (WebKit and JavaScriptCore, 30 MB). [`trim`] asks the
//!   kernel to reclaim them, as Android does for apps that go to the background.
//!
//! The numbers are in docs/PERFORMANCE.md.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// When the shell releases WebKit ([`trim`] and the network process) after the window is
/// destroyed: soon, and again once WebKit's own teardown, which goes on in the app's process for a
/// while after the window (its JavaScript engine is released later), has touched again code the
/// first release handed back (7 MB measured).
pub const RELEASES_AFTER_CLOSE: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(20)];

/// When a freshly started Lonceng counts as settled in the tray: what only its start used
/// (building the tray, the store's checks, connecting) is released then, as after a window.
pub const SETTLED_AFTER_START: Duration = Duration::from_secs(30);

/// Set by the user to keep WebKit's own choices (GPU compositing and its EGL probe).
pub const KEEP_WEBKIT_DEFAULTS: &str = "LONCENG_WEBKIT_DEFAULTS";

/// The WebKitGTK variables Lonceng starts with, given the environment it was started in and the
/// render nodes of /dev/dri. A variable the user has set wins, and [`KEEP_WEBKIT_DEFAULTS`] turns
/// all of it off.
///
/// - Compositing off: a list of 50 rows needs no GPU layers, and without them the web process
///   holds 60 MB less (and starts no GPU compositor).
/// - The DMA-BUF renderer off: it only serves GPU compositing.
/// - The render node named: otherwise the app's process brings up an EGL display, loading the GL
///   driver, only to learn it, and keeps both for its lifetime. The first render node is what
///   WebKit would find; with none (no GPU), the name is a placeholder that nothing opens, since
///   both features that would use it are off.
pub fn webkit_environment(
    get: impl Fn(&str) -> Option<OsString>,
    render_nodes: &[PathBuf],
) -> Vec<(&'static str, OsString)> {
    if get(KEEP_WEBKIT_DEFAULTS).is_some_and(|v| !v.is_empty() && v != "0") {
        return Vec::new();
    }
    let node = render_nodes.first().map_or_else(|| OsString::from("/dev/null"), |p| p.as_os_str().to_owned());
    [
        ("WEBKIT_DISABLE_COMPOSITING_MODE", OsString::from("1")),
        ("WEBKIT_DISABLE_DMABUF_RENDERER", OsString::from("1")),
        ("WEBKIT_WEB_RENDER_DEVICE_FILE", node),
    ]
    .into_iter()
    .filter(|(name, _)| get(name).is_none())
    .collect()
}

/// The render nodes in `dir` (/dev/dri), in order.
pub fn render_nodes(dir: &Path) -> Vec<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("renderD"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes
}

/// The variables the platform's WebKit preparation set (`crate::platform`'s `prepare_webkit`).
pub(crate) static PREPARED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// The variables the platform's `prepare_webkit` set. They are meant for Lonceng's own WebKit processes only:
/// other programs it starts (a browser opened for a notification, which may be WebKit-based) must
/// not inherit them.
pub fn webkit_only_variables() -> &'static [&'static str] {
    PREPARED.get().map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn webkit_starts_without_gpu_compositing_and_without_its_egl_probe() {
        let set = webkit_environment(env(&[]), &[PathBuf::from("/dev/dri/renderD128")]);
        assert_eq!(
            set,
            vec![
                ("WEBKIT_DISABLE_COMPOSITING_MODE", OsString::from("1")),
                ("WEBKIT_DISABLE_DMABUF_RENDERER", OsString::from("1")),
                ("WEBKIT_WEB_RENDER_DEVICE_FILE", OsString::from("/dev/dri/renderD128")),
            ]
        );
        // No GPU: a placeholder that is never opened, so that WebKit does not probe EGL.
        let none = webkit_environment(env(&[]), &[]);
        assert_eq!(none[2], ("WEBKIT_WEB_RENDER_DEVICE_FILE", OsString::from("/dev/null")));
    }

    #[test]
    fn what_the_user_set_wins() {
        let set = webkit_environment(env(&[("WEBKIT_DISABLE_COMPOSITING_MODE", "0")]), &[]);
        assert!(set.iter().all(|(n, _)| *n != "WEBKIT_DISABLE_COMPOSITING_MODE"));
        assert_eq!(set.len(), 2);
        assert!(webkit_environment(env(&[(KEEP_WEBKIT_DEFAULTS, "1")]), &[]).is_empty());
        assert_eq!(webkit_environment(env(&[(KEEP_WEBKIT_DEFAULTS, "0")]), &[]).len(), 3);
    }

    #[test]
    fn render_nodes_are_listed_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["renderD129", "card0", "renderD128"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert_eq!(
            render_nodes(dir.path()),
            vec![dir.path().join("renderD128"), dir.path().join("renderD129")]
        );
        assert!(render_nodes(&dir.path().join("missing")).is_empty());
    }
}
