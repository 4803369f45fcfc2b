//! Opens a page in the default browser. Which URLs may be opened is decided before this is called
//! (`lonceng_domain::link`).

use lonceng_domain::link::Opener;

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> Result<(), String> {
        command(url, crate::memory::webkit_only_variables())
            .spawn()
            .map(drop)
            .map_err(|e| format!("could not start the browser opener: {e}"))
    }
}

/// The platform's opener for `url`, without the variables in `unset` (set for Lonceng's own WebKit).
fn command(url: &str, unset: &[&str]) -> std::process::Command {
    let mut cmd = crate::platform::browser();
    for name in unset {
        cmd.env_remove(name);
    }
    // The URL is one argument, never parsed by a shell.
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_does_not_inherit_what_was_set_for_lonceng_s_webkit() {
        let cmd = command("https://app.qontak.com/inbox/1", &["WEBKIT_DISABLE_COMPOSITING_MODE"]);
        let envs: Vec<_> = cmd.get_envs().collect();
        assert_eq!(envs, vec![(std::ffi::OsStr::new("WEBKIT_DISABLE_COMPOSITING_MODE"), None)]);
        assert_eq!(cmd.get_args().last(), Some(std::ffi::OsStr::new("https://app.qontak.com/inbox/1")));
    }
}
