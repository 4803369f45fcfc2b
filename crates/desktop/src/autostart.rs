//! Start at login, done right. Only an installed Lonceng (a package's `/usr/bin/lonceng`, the
//! Windows installer's `…\Programs\Lonceng\lonceng.exe`) manages the login entry: its first run
//! turns it on, and the agent can turn it off. A copy run from a build folder, the demo and the
//! tests never write into the agent's login items (they once did, on every first run).
//!
//! On Linux the entry is the XDG autostart file `Lonceng.desktop` (the name tauri-plugin-autostart
//! used, so older entries are the ones managed); on Windows the per-user Run key
//! (`crate::win::autostart`). Both start the installed binary with `--hidden`.

use std::path::Path;
#[cfg(unix)]
use std::path::PathBuf;

/// The file name of the XDG autostart entry.
#[cfg(unix)]
const ENTRY: &str = "Lonceng.desktop";

/// Whether `exe` is an installed Lonceng rather than a build folder's copy: a package's binary in
/// a system directory, or the Windows installer's per-user or machine-wide program folder.
pub fn is_installed(exe: &Path) -> bool {
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if cfg!(windows) {
        let d = dir.to_string_lossy().to_lowercase().replace('/', "\\");
        d.ends_with("\\programs\\lonceng") || d.contains("\\program files") && d.ends_with("\\lonceng")
    } else {
        ["/usr/bin", "/usr/local/bin", "/opt/lonceng", "/opt/lonceng/bin"].iter().any(|d| dir == Path::new(d))
    }
}

/// Whether this run manages the login entry: an installed app, not the demo.
pub fn managed(exe: &Path, demo: bool) -> bool {
    !demo && is_installed(exe)
}

/// The XDG autostart directory: `$XDG_CONFIG_HOME/autostart`, else `~/.config/autostart`.
#[cfg(unix)]
pub fn entry_path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("autostart").join(ENTRY))
}

/// The entry's text: the installed binary, hidden, no terminal.
#[cfg(unix)]
fn entry_text(exe: &Path) -> String {
    // The Exec key quotes with double quotes; a path with a quote or backslash is escaped.
    let path = exe.to_string_lossy().replace('\\', "\\\\").replace('"', "\\\"");
    // TryExec: once the package is removed, the entry left in the agent's home starts nothing.
    format!(
        "[Desktop Entry]\nType=Application\nVersion=1.0\nName=Lonceng\n\
         Comment=The Qontak Notification Center in the tray\nTryExec={}\nExec=\"{path}\" --hidden\n\
         Icon=lonceng\nStartupNotify=false\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
        exe.to_string_lossy()
    )
}

/// Turns start at login on (for `exe`) or off.
pub fn set(on: bool, exe: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        let path = entry_path().ok_or("no home directory to keep the autostart entry in")?;
        if on {
            let dir = path.parent().ok_or("no autostart directory")?;
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            std::fs::write(&path, entry_text(exe)).map_err(|e| format!("writing {}: {e}", path.display()))
        } else {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(format!("removing {}: {e}", path.display()))
                }
                _ => Ok(()),
            }
        }
    }
    #[cfg(windows)]
    {
        let _ = exe;
        crate::win::autostart::set(on)
    }
}

/// The command the login entry runs, if there is one (`lonceng doctor` compares it with this
/// binary).
pub fn current() -> Option<String> {
    #[cfg(unix)]
    {
        let text = std::fs::read_to_string(entry_path()?).ok()?;
        let exec = text.lines().find_map(|l| l.strip_prefix("Exec="))?;
        Some(exec.trim().to_owned())
    }
    #[cfg(windows)]
    {
        crate::win::autostart::current()
    }
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

    #[cfg(unix)]
    #[test]
    fn the_entry_is_written_and_removed_under_the_config_home() {
        let dir = tempfile::tempdir().unwrap();
        // The only test in this binary that sets it.
        std::env::set_var("XDG_CONFIG_HOME", dir.path());
        let exe = Path::new("/usr/bin/lonceng");
        set(true, exe).unwrap();
        let path = dir.path().join("autostart/Lonceng.desktop");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("Exec=\"/usr/bin/lonceng\" --hidden\n"), "{text}");
        assert!(text.contains("TryExec=/usr/bin/lonceng\n"), "quiet once the app is removed: {text}");
        assert!(starts(&current().unwrap(), exe));
        set(false, exe).unwrap();
        assert!(!path.exists());
        assert_eq!(current(), None);
        set(false, exe).unwrap();
        std::env::remove_var("XDG_CONFIG_HOME");
    }
}
