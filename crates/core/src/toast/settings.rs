//! What the agent chose about toasts: the language they are written in, the muted categories and
//! chat messages, and a pause.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::model::Category;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToastSettings {
    pub lang: Lang,
    pub muted: BTreeSet<Category>,
    /// Mutes incoming chat messages (they have no category of the list).
    pub mute_chat: bool,
    pub paused_until: Option<DateTime<Utc>>,
}
