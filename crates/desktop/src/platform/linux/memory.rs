//! Handing WebKit's memory back on Linux: the environment its processes start with, the network
//! process ended and the code pages the closed window used paged out (`crate::memory` has the
//! platform-neutral reasoning and numbers).

use std::path::Path;

use crate::memory::{render_nodes, webkit_environment, PREPARED};

/// Applies [`webkit_environment`] to this process, whose children (WebKit's) inherit it.
///
/// Call it first thing in `main`, before any thread starts: the environment is process-global.
pub fn prepare_webkit() {
    let set = webkit_environment(|n| std::env::var_os(n), &render_nodes(Path::new("/dev/dri")));
    for (name, value) in &set {
        std::env::set_var(name, value);
    }
    let _ = PREPARED.set(set.into_iter().map(|(name, _)| name).collect());
}

/// Ends this process's children whose command name starts with `prefix`; returns how many were
/// signalled.
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

    #[test]
    fn stat_lines_with_odd_names_parse() {
        assert_eq!(comm_and_parent("42 (WebKitNetworkPr) S 7 42 42 0"), Some(("WebKitNetworkPr", 7)));
        assert_eq!(comm_and_parent("42 (a) b (c)) S 9 1"), Some(("a) b (c)", 9)));
        assert_eq!(comm_and_parent("garbage"), None);
    }
}
