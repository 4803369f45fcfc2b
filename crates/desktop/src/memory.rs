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

static PREPARED: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// Applies [`webkit_environment`] to this process, whose children (WebKit's) inherit it.
///
/// Call it first thing in `main`, before any thread starts: the environment is process-global.
#[cfg(target_os = "linux")]
pub fn prepare_webkit() {
    let set = webkit_environment(|n| std::env::var_os(n), &render_nodes(Path::new("/dev/dri")));
    for (name, value) in &set {
        std::env::set_var(name, value);
    }
    let _ = PREPARED.set(set.into_iter().map(|(name, _)| name).collect());
}

/// The variables [`prepare_webkit`] set. They are meant for Lonceng's own WebKit processes only:
/// other programs it starts (a browser opened for a notification, which may be WebKit-based) must
/// not inherit them.
pub fn webkit_only_variables() -> &'static [&'static str] {
    PREPARED.get().map_or(&[], Vec::as_slice)
}

/// Ends this process's children whose command name starts with `prefix`; returns how many were
/// signalled.
#[cfg(target_os = "linux")]
pub fn end_children(prefix: &str) -> usize {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    let mut ended = 0;
    for pid in entries.flatten().filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok()) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some((comm, ppid)) = comm_and_parent(&stat) else { continue };
        if ppid == me && comm.starts_with(prefix) {
            // SAFETY: kill(2) with a pid read from /proc: at worst the process is already gone.
            if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
                ended += 1;
            }
        }
    }
    ended
}

/// "pid (comm) state ppid ..." of /proc/PID/stat; comm may hold spaces and parentheses.
#[cfg(target_os = "linux")]
fn comm_and_parent(stat: &str) -> Option<(&str, u32)> {
    let (_, rest) = stat.split_once(" (")?;
    let (comm, rest) = rest.rsplit_once(") ")?;
    let ppid = rest.split(' ').nth(1)?.parse().ok()?;
    Some((comm, ppid))
}

/// What [`trim`] handed back to the kernel.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Trimmed {
    pub regions: usize,
    pub bytes: u64,
}

/// One line of /proc/self/maps that [`trim`] may reclaim: a private, read-only (or executable)
/// mapping of a file, i.e. code and constants. Writable and shared mappings, devices, and anonymous
/// memory (the heap, JIT code, WebKit's shared buffers) are left alone.
#[cfg(target_os = "linux")]
fn reclaimable(line: &str) -> Option<(usize, usize)> {
    let mut fields = line.split_whitespace();
    let range = fields.next()?;
    let perms = fields.next()?;
    let path = fields.nth(3)?;
    let file = path.starts_with('/') && !path.starts_with("/memfd:") && !path.starts_with("/dev/");
    if !file || perms.len() != 4 || !perms.starts_with('r') || perms.contains('w') || !perms.ends_with('p') {
        return None;
    }
    let (start, end) = range.split_once('-')?;
    Some((usize::from_str_radix(start, 16).ok()?, usize::from_str_radix(end, 16).ok()?))
}

/// Hands back memory the closed window used: free heap pages (`malloc_trim`), and the code pages
/// of files mapped only by this process (`MADV_PAGEOUT`, Linux 5.4+; the kernel skips pages other
/// processes map). Code runs as before: a page touched again is read back in.
#[cfg(target_os = "linux")]
pub fn trim() -> std::io::Result<Trimmed> {
    // SAFETY: glibc's malloc_trim only releases free heap pages.
    unsafe { libc::malloc_trim(0) };
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    let mut done = Trimmed::default();
    for (start, end) in maps.lines().filter_map(reclaimable) {
        // SAFETY: MADV_PAGEOUT is advice: it never changes what the memory holds, only whether it
        // is resident, so it is sound on any mapped range; a range unmapped meanwhile fails with
        // ENOMEM, which is ignored.
        if unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) } == 0 {
            done.regions += 1;
            done.bytes += (end - start) as u64;
        }
    }
    Ok(done)
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

    #[cfg(target_os = "linux")]
    #[test]
    fn only_read_only_file_mappings_are_reclaimed() {
        let lib = "7f00-7f10 r-xp 00000000 fe:01 123 /usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0";
        assert_eq!(reclaimable(lib), Some((0x7f00, 0x7f10)));
        assert!(reclaimable("7f00-7f10 r--p 00000000 fe:01 123 /usr/lib/libfoo.so").is_some());
        assert_eq!(reclaimable("7f00-7f10 rw-p 00000000 fe:01 123 /usr/lib/libfoo.so"), None);
        assert_eq!(reclaimable("7f00-7f10 r--p 00000000 00:00 0 [heap]"), None);
        assert_eq!(reclaimable("7f00-7f10 rw-p 00000000 00:00 0"), None);
        assert_eq!(reclaimable("7f00-7f10 ---p 00000000 fe:01 123 /usr/lib/libfoo.so"), None);
        assert_eq!(reclaimable("7f00-7f10 r--s 00000000 00:01 9 /memfd:WebKitSharedMemory (deleted)"), None);
        assert_eq!(reclaimable("7f00-7f10 r--p 00000000 00:01 9 /memfd:x (deleted)"), None);
        assert_eq!(reclaimable("7f00-7f10 r--s 00000000 fe:01 123 /usr/share/fonts/cache"), None);
        assert_eq!(reclaimable("7f00-7f10 r--p 00000000 00:05 9 /dev/dri/card0"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stat_lines_with_odd_names_parse() {
        assert_eq!(comm_and_parent("42 (WebKitNetworkPr) S 7 42 42 0"), Some(("WebKitNetworkPr", 7)));
        assert_eq!(comm_and_parent("42 (a) b (c)) S 9 1"), Some(("a) b (c)", 9)));
        assert_eq!(comm_and_parent("garbage"), None);
    }
}
