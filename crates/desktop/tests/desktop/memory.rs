//! The memory the shell hands back after the bell window closes (crate `memory`), checked against
//! what the kernel reports in /proc/self/smaps, on real mappings and real child processes.
#![cfg(target_os = "linux")]

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use lonceng_desktop::platform::memory::{end_children, trim};

/// Resident kB of the mapping that starts at `start`.
fn resident_kb(start: usize) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let head = format!("{start:x}-");
    let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
    lines.next().expect("the mapping is listed");
    let rss = lines.find(|l| l.starts_with("Rss:")).unwrap();
    rss.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn code_pages_used_once_are_handed_back_and_still_read_the_same() {
    // A file on disk standing for a library the closed window ran (a tmpfs page has nowhere to go).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("libwindow.so");
    let len = 8 << 20;
    let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(&content).unwrap();
    file.sync_all().unwrap();
    let file = std::fs::File::open(&path).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: a fresh private read-only mapping of a file this test owns; unmapped below.
    let ptr = unsafe {
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0)
    };
    assert_ne!(ptr, libc::MAP_FAILED);
    // SAFETY: `len` readable bytes at `ptr` while mapped.
    let mapped = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    let sum = |m: &[u8]| m.iter().step_by(4096).map(|&b| b as u64).sum::<u64>();
    let before = sum(mapped);
    let resident = resident_kb(ptr as usize);
    assert!(resident >= 8 << 10, "every page was read: {resident} kB resident");

    let trimmed = trim().unwrap();
    assert!(trimmed.regions > 0 && trimmed.bytes >= len as u64, "{trimmed:?}");
    let after = resident_kb(ptr as usize);
    assert!(after < 1 << 10, "the pages were handed back: {after} kB of {resident} kB still resident");

    // Nothing changed for the program: the bytes read back the same.
    assert_eq!(sum(mapped), before);
    assert_eq!(mapped, &content[..]);
    // SAFETY: unmapping the mapping made above; `mapped` is not used afterwards.
    unsafe { libc::munmap(ptr, len) };
}

#[test]
fn the_network_process_left_behind_is_ended_and_nothing_else() {
    let mut left = Command::new("sleep").arg("60").spawn().unwrap();
    let mut other = Command::new("tail").args(["-f", "/dev/null"]).spawn().unwrap();
    // /proc shows the child's name once it has exec'd.
    for _ in 0..100 {
        if std::fs::read_to_string(format!("/proc/{}/comm", left.id())).is_ok_and(|c| c.trim() == "sleep") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(end_children("sleep"), 1);
    assert_eq!(left.wait().unwrap().signal(), Some(libc::SIGTERM));
    assert!(other.try_wait().unwrap().is_none(), "a child with another name keeps running");
    other.kill().unwrap();
    other.wait().unwrap();
}
