//! Native toasts: when to show one (NC-R12), what it says, and what happens to it.
//!
//! - [`policy`]: NC-R12 as a pure function; every decision carries its [`Reason`] ("why no toast?").
//! - [`ports`]: what the platform provides (showing toasts, the focused window); `lonceng-desktop`
//!   implements them with D-Bus and X11.
//! - [`center`]: one toast per object, updated in place; withdrawal when read anywhere (NC-R13);
//!   quiet hours and a pause that end with one summary; activations handed to the app.
//! - [`quiet`]: the weekly quiet hours, in the device's time zone.
//! - [`settings`]: what the agent chose.
//!
//! Which pages a click may open is [`lonceng_domain::link`]'s decision, not this module's.

pub mod center;
pub mod policy;
pub mod ports;
pub mod quiet;
pub mod settings;

pub use center::{drive, Activated, OnActivated, ToastCenter};
pub use policy::{decide, Focus, PolicyInput, Reason};
pub use ports::{
    Activation, ChatWindowMatch, FocusProbe, Held, HeldLog, MemoryHeld, Notifier, NotifyError, Toast,
    ToastAction, Urgency,
};
pub use quiet::{snooze_times, Day, QuietHours, QuietKind, QuietState, SnoozeTimes, Zone};
pub use settings::{ConversationMute, MessageText, MuteUntil, SoundSettings, ToastSettings};

#[cfg(test)]
mod tests;
