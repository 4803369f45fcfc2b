//! Start at login on Linux: the XDG autostart file `Lonceng.desktop` (the name tauri-plugin-autostart
//! used, so older entries are the ones managed), starting the installed binary hidden, and quiet
//! once the package is removed (`TryExec`).

use std::path::{Path, PathBuf};

/// The file name of the XDG autostart entry.
const ENTRY: &str = "Lonceng.desktop";

/// The XDG autostart directory: `$XDG_CONFIG_HOME/autostart`, else `~/.config/autostart`.
pub fn entry_path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("autostart").join(ENTRY))
}

/// The entry's text: the installed binary, hidden, no terminal.
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

/// Writes (for `exe`) or removes the entry.
pub fn set(on: bool, exe: &Path) -> Result<(), String> {
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

/// The command the entry runs, if there is one.
pub fn current() -> Option<String> {
    let text = std::fs::read_to_string(entry_path()?).ok()?;
    let exec = text.lines().find_map(|l| l.strip_prefix("Exec="))?;
    Some(exec.trim().to_owned())
}

/// Where a package installs the binary.
pub fn installed_in(dir: &Path) -> bool {
    ["/usr/bin", "/usr/local/bin", "/opt/lonceng", "/opt/lonceng/bin"].iter().any(|d| dir == Path::new(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autostart::starts;

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
