//! `gsettings`, for what GNOME keeps in dconf with no D-Bus interface to read it (Do Not Disturb,
//! the proxy): one call, answered within a timeout, since a hung dconf must not hold a toast or a
//! reconnect up.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `gsettings`, with the environment a test gives it (a keyfile backend in a folder of its own).
#[derive(Debug, Default, Clone)]
pub struct Gsettings {
    pub env: Vec<(String, String)>,
}

impl Gsettings {
    /// What `gsettings ARGS` prints; `None` when it is missing, fails or takes longer than `limit`.
    pub fn run(&self, args: &[&str], limit: Duration) -> Option<String> {
        let mut child = Command::new("gsettings")
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + limit;
        loop {
            match child.try_wait().ok()? {
                Some(status) if status.success() => break,
                Some(_) => return None,
                None if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
        Some(out)
    }
}
