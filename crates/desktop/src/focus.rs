//! Is the agent in the Qontak chat right now? Each platform answers with what it can see: on Linux
//! the focused X11 window and the screen lock ([`DesktopFocus`]), on Windows the foreground window
//! and the session's lock (`crate::win::focus`).

use lonceng_client::toast::{ChatWindowMatch, FocusProbe};

#[cfg(unix)]
mod x11;
#[cfg(unix)]
pub use x11::{lock_state, wm_reports_active_window, DesktopFocus};

/// The focus probe of a desktop: it also learns how the agent's chat window is recognised.
pub trait ChatFocus: FocusProbe {
    fn set_matcher(&self, m: ChatWindowMatch);
}
