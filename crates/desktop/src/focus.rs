//! Is the agent in the Qontak chat right now? Each platform answers with what it can see
//! (`crate::platform`): on Linux the focused X11 window and the screen lock, on Windows the
//! foreground window and the session's lock.

use lonceng_client::toast::{ChatWindowMatch, FocusProbe};

/// The focus probe of a desktop: it also learns how the agent's chat window is recognised.
pub trait ChatFocus: FocusProbe {
    fn set_matcher(&self, m: ChatWindowMatch);
}
