//! Start at login, done right. Only an installed Lonceng (a package's `/usr/bin/lonceng`, the
//! Windows installer's `…\Programs\Lonceng\lonceng.exe`) manages the login entry: its first run
//! turns it on, and the agent can turn it off. A copy run from a build folder, the demo and the
//! tests never write into the agent's login items (they once did, on every first run).
//!
//! The entry is each platform's (`crate::platform`'s `autostart`): on Linux the XDG autostart file,
//! on Windows the per-user Run key. Both start the installed binary with `--hidden`.
//!
//! Not tauri-plugin-autostart: its Windows backend (auto-launch) writes the machine-wide Run key
//! whenever the process may (an elevated start, or Wine), which for a per-user install would start
//! Lonceng for every account of the PC, and leaves the path unquoted (a user name with a space
//! breaks it); on Linux it writes no `TryExec`, so an uninstalled app's entry would still run.

use std::path::Path;

/// Whether `exe` is an installed Lonceng rather than a build folder's copy: a package's binary in
/// a system directory, or the Windows installer's per-user or machine-wide program folder.
pub fn is_installed(exe: &Path) -> bool {
    exe.parent().is_some_and(crate::platform::autostart::installed_in)
}

/// Whether this run manages the login entry: an installed app, not the demo.
pub fn managed(exe: &Path, demo: bool) -> bool {
    !demo && is_installed(exe)
}

/// Turns start at login on (for `exe`) or off.
pub fn set(on: bool, exe: &Path) -> Result<(), String> {
    crate::platform::autostart::set(on, exe)
}

/// The command the login entry runs, if there is one (`lonceng doctor` compares it with this
/// binary).
pub fn current() -> Option<String> {
    crate::platform::autostart::current()
}

/// Whether a login entry's command starts `exe`.
pub fn starts(command: &str, exe: &Path) -> bool {
    let exe = exe.to_string_lossy();
    let program = command.trim_start().trim_start_matches('"');
    program.starts_with(exe.as_ref())
        && program[exe.len()..].trim_start_matches('"').starts_with([' ', '\t'])
        && command.contains("--hidden")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_installed_binary_manages_the_login_entry() {
        if cfg!(windows) {
            assert!(is_installed(Path::new(r"C:\Users\a\AppData\Local\Programs\Lonceng\lonceng.exe")));
            assert!(is_installed(Path::new(r"C:\Program Files\Lonceng\lonceng.exe")));
            assert!(!is_installed(Path::new(r"C:\src\lonceng\target\debug\lonceng.exe")));
        } else {
            assert!(is_installed(Path::new("/usr/bin/lonceng")));
            assert!(is_installed(Path::new("/usr/local/bin/lonceng")));
            assert!(!is_installed(Path::new("/home/a/lonceng/target/release/lonceng")));
            assert!(!is_installed(Path::new("/usr/bin/x/lonceng")));
            assert!(managed(Path::new("/usr/bin/lonceng"), false));
            assert!(!managed(Path::new("/usr/bin/lonceng"), true), "the demo never does");
        }
        assert!(!is_installed(Path::new("lonceng")));
    }

    #[test]
    fn an_entry_is_recognised_as_this_binarys_hidden_start() {
        let exe = Path::new("/usr/bin/lonceng");
        assert!(starts("\"/usr/bin/lonceng\" --hidden", exe));
        assert!(starts("/usr/bin/lonceng --hidden", exe));
        assert!(!starts("/usr/bin/lonceng", exe), "not hidden");
        assert!(!starts("/usr/bin/lonceng-old --hidden", exe));
        assert!(!starts("/home/a/target/debug/lonceng --hidden", exe));
    }
}
