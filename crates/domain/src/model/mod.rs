//! The notification model: tabs, categories, kinds (template keys) and their typed parameters.
//!
//! A notification is stored as `kind + params`, never as rendered text (NC-R11): the bell window and the
//! toasts render it in the active language at display time. Each [`Kind`] declares its parameters
//! ([`ParamSpec`]); [`Params::validate`] checks a parameter set against them, and the catalog tests check
//! that every translation uses only those parameters.
//!
//! Everything that arrives from a server comes in as [`WireNotification`] (plain strings) and becomes a
//! [`Notification`] only through [`WireNotification::validate`], which says exactly what is wrong.
//!
//! Rooms: this file (the keyed enums: tabs and categories), [`kind`] (kinds, their parameters and
//! values), [`notification`] (a notification, its wire form and its validation, chat messages).

mod kind;
mod notification;

pub use kind::*;
pub use notification::*;

/// Declares a fieldless enum with a stable string key per variant (used on the wire, in the database
/// and as Fluent ids), `ALL`, `as_str`, `FromStr`, `Display` and serde as that key.
macro_rules! keyed_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $key:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::model::UnknownKey;
            fn from_str(s: &str) -> Result<Self, $crate::model::UnknownKey> {
                match s {
                    $($key => Ok($name::$variant),)+
                    _ => Err($crate::model::UnknownKey { what: stringify!($name), key: s.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        /// In TypeScript: the union of its keys (the UI's types are generated from these).
        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                stringify!($name).to_owned()
            }
            fn inline(_: &ts_rs::Config) -> String {
                [$(concat!("'", $key, "'")),+].join(" | ")
            }
            fn decl(cfg: &ts_rs::Config) -> String {
                format!("type {} = {};", stringify!($name), <Self as ts_rs::TS>::inline(cfg))
            }
            fn decl_concrete(cfg: &ts_rs::Config) -> String {
                <Self as ts_rs::TS>::decl(cfg)
            }
        }
    };
}
pub(crate) use keyed_enum;

/// A string that names no variant of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{key}'")]
pub struct UnknownKey {
    pub what: &'static str,
    pub key: String,
}

keyed_enum! {
    /// The three tabs of the bell list (PRODUCT.md §2).
    Tab { General = "general", Inbox = "inbox", Approval = "approval" }
}

impl Tab {
    /// The category filter chips of this tab, in display order.
    pub fn categories(self) -> &'static [Category] {
        use Category::*;
        match self {
            Tab::General => &[Reminder, Mention, Assignment, Update, DownloadUpload],
            Tab::Inbox => &[ChatAssignment, Resolved, BlockedContact],
            Tab::Approval => &[Deals, Expenses],
        }
    }
}

keyed_enum! {
    /// A category filter chip. Every category belongs to exactly one tab.
    Category {
        Reminder = "reminder",
        Mention = "mention",
        Assignment = "assignment",
        Update = "update",
        DownloadUpload = "download_upload",
        ChatAssignment = "chat_assignment",
        Resolved = "resolved",
        BlockedContact = "blocked_contact",
        Deals = "deals",
        Expenses = "expenses",
    }
}

impl Category {
    pub fn tab(self) -> Tab {
        use Category::*;
        match self {
            Reminder | Mention | Assignment | Update | DownloadUpload => Tab::General,
            ChatAssignment | Resolved | BlockedContact => Tab::Inbox,
            Deals | Expenses => Tab::Approval,
        }
    }

    /// Stable small integer used as the storage code (never reorder).
    pub fn code(self) -> i64 {
        Category::ALL.iter().position(|c| *c == self).map_or(0, |p| p as i64 + 1)
    }

    pub fn from_code(code: i64) -> Option<Category> {
        usize::try_from(code - 1).ok().and_then(|i| Category::ALL.get(i)).copied()
    }
}

/// A category chip named with a tab it is not in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("category '{category}' is not in tab '{tab}'")]
pub struct NotInTab {
    pub tab: Tab,
    pub category: Category,
}

/// A tab and optionally one of its category chips: the one check every list, mark-all and wire
/// item goes through.
pub fn check_scope(tab: Tab, category: Option<Category>) -> Result<(), NotInTab> {
    match category {
        Some(c) if c.tab() != tab => Err(NotInTab { tab, category: c }),
        _ => Ok(()),
    }
}

impl Tab {
    pub fn code(self) -> i64 {
        Tab::ALL.iter().position(|t| *t == self).map_or(0, |p| p as i64 + 1)
    }

    pub fn from_code(code: i64) -> Option<Tab> {
        usize::try_from(code).ok()?.checked_sub(1).and_then(|i| Tab::ALL.get(i)).copied()
    }
}

/// An item from the wire that failed validation: kept, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub raw: String,
    pub error: String,
}

/// The most of a rejected item's text that is kept: enough to see what was wrong, not enough for a
/// hostile server to fill the disk.
pub const MAX_KEPT_RAW: usize = 16 * 1024;

impl Rejected {
    /// A rejected item, its text cut to [`MAX_KEPT_RAW`] bytes (on a character boundary).
    pub fn new(raw: &str, error: impl Into<String>) -> Rejected {
        let raw = if raw.len() > MAX_KEPT_RAW {
            let mut end = MAX_KEPT_RAW;
            while !raw.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} bytes in all)", &raw[..end], raw.len())
        } else {
            raw.to_owned()
        };
        Rejected { raw, error: error.into() }
    }
}

#[cfg(test)]
mod tests;
