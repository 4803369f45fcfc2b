//! A real X server for the tests: Xvfb on a free display number, with openbox (a window manager
//! sets `_NET_ACTIVE_WINDOW`).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt};
use x11rb::rust_connection::RustConnection;

pub struct Display {
    pub name: String,
    children: Vec<Child>,
}

impl Drop for Display {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A display number no X server holds (no lock file, no socket).
fn free_display() -> String {
    let start = 120 + (std::process::id() % 400);
    (start..start + 400)
        .find(|n| {
            !std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .map(|n| format!(":{n}"))
        .expect("a free X display number")
}

/// Xvfb on a free display number, and openbox on it.
pub fn display() -> Display {
    let name = free_display();
    let xvfb = Command::new("Xvfb")
        // -noreset: otherwise the server resets whenever its last client disconnects (our probes).
        .args([&name, "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb runs (package xvfb; scripts/test.sh installs it)");
    let mut d = Display { name: name.clone(), children: vec![xvfb] };
    for _ in 0..100 {
        if x11rb::connect(Some(&name)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let wm = Command::new("openbox")
        .env("DISPLAY", &name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openbox runs (package openbox; scripts/test.sh installs it)");
    d.children.push(wm);
    // Wait until the window manager has taken over (it announces itself on the root window).
    let (conn, _) = x11rb::connect(Some(&name)).expect("connect to Xvfb");
    let root = conn.setup().roots[0].root;
    let check = atom(&conn, "_NET_SUPPORTING_WM_CHECK");
    for _ in 0..200 {
        let r = conn.get_property(false, root, check, AtomEnum::WINDOW, 0, 1).unwrap().reply().unwrap();
        if r.value32().is_some_and(|mut v| v.next().is_some()) {
            return d;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("openbox did not start on {name}");
}

pub fn atom(conn: &RustConnection, name: &str) -> u32 {
    conn.intern_atom(false, name.as_bytes()).unwrap().reply().unwrap().atom
}
