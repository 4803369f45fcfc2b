//! A notification of the bell list, its wire form, and the validation between them: everything from
//! a server is a [`WireNotification`] until [`WireNotification::validate`] says exactly what is
//! wrong or makes it a [`Notification`]. Chat messages are here too, with no path into the store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{check_scope, Category, Kind, ParamType, Params, Tab, UnknownKey, MAX_ID_LEN};

/// A notification of the bell list, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The server's stable id: the dedupe key (MW-4).
    pub id: String,
    pub category: Category,
    pub kind: Kind,
    pub params: Params,
    pub actor_id: Option<String>,
    pub recipient_id: String,
    /// The related page, opened on click (NC-R7).
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    pub fn tab(&self) -> Tab {
        self.category.tab()
    }

    pub fn is_unread(&self) -> bool {
        self.read_at.is_none()
    }

    pub fn to_wire(&self) -> WireNotification {
        WireNotification {
            id: self.id.clone(),
            tab: self.tab().as_str().to_owned(),
            category: self.category.as_str().to_owned(),
            kind: self.kind.as_str().to_owned(),
            params: serde_json::to_value(&self.params).unwrap_or_default(),
            actor_id: self.actor_id.clone(),
            recipient_id: self.recipient_id.clone(),
            url: self.url.clone(),
            created_at: self.created_at,
            read_at: self.read_at,
        }
    }
}

/// A notification as it travels between server and client. Strings stay strings here so that one
/// unknown value never fails a whole page; [`WireNotification::validate`] turns it into a
/// [`Notification`] or a precise [`InvalidNotification`]. The window receives only validated
/// items, so its type (`Item`) names the tab and category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(rename = "Item")]
pub struct WireNotification {
    pub id: String,
    #[ts(type = "Tab")]
    pub tab: String,
    #[ts(type = "Category")]
    pub category: String,
    /// A template key ([`Kind`]); the text is rendered from it at display time (NC-R11).
    pub kind: String,
    #[serde(default)]
    #[ts(type = "Record<string, string | number>")]
    pub params: serde_json::Value,
    #[serde(default)]
    pub actor_id: Option<String>,
    pub recipient_id: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub read_at: Option<DateTime<Utc>>,
}

/// What is wrong with an item from the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the id is empty or longer than {MAX_ID_LEN} characters")]
    BadId,
    #[error("{0} (a newer server may send values this version of Lonceng does not know)")]
    Unknown(#[from] UnknownKey),
    #[error("category '{category}' belongs to tab '{}', not '{tab}'", category.tab())]
    CategoryNotInTab { tab: Tab, category: Category },
    #[error("kind '{kind}' cannot be in category '{category}'")]
    KindNotInCategory { kind: Kind, category: Category },
    #[error("kind '{kind}' needs parameter '{param}'")]
    MissingParam { kind: Kind, param: &'static str },
    #[error("parameter '{param}' of kind '{kind}' must be {}", describe(*.expected))]
    BadParam { kind: Kind, param: &'static str, expected: ParamType },
    #[error("params must be a JSON object of strings and integers")]
    ParamsNotObject,
    #[error("the recipient id is empty")]
    NoRecipient,
    #[error("the url must be an absolute http(s) URL without spaces")]
    BadUrl,
    #[error("read_at is earlier than created_at")]
    ReadBeforeCreated,
}

fn describe(ty: ParamType) -> &'static str {
    match ty {
        ParamType::Text => "text of at most 2000 characters",
        ParamType::Count => "a whole number ≥ 0",
        ParamType::Choice(_) => "an identifier of lowercase letters, digits and '_'",
    }
}

/// A rejected wire item: which one (when its id could be read) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notification '{id}' rejected: {problem}")]
pub struct InvalidNotification {
    pub id: String,
    pub problem: Problem,
}

impl WireNotification {
    pub fn validate(self) -> Result<Notification, InvalidNotification> {
        let id = self.id.clone();
        self.check().map_err(|problem| InvalidNotification { id, problem })
    }

    fn check(self) -> Result<Notification, Problem> {
        if self.id.is_empty() || self.id.len() > MAX_ID_LEN {
            return Err(Problem::BadId);
        }
        let tab: Tab = self.tab.parse()?;
        let category: Category = self.category.parse()?;
        let kind: Kind = self.kind.parse()?;
        check_scope(tab, Some(category)).map_err(|_| Problem::CategoryNotInTab { tab, category })?;
        if !kind.allows(category) {
            return Err(Problem::KindNotInCategory { kind, category });
        }
        let params: Params = match self.params {
            serde_json::Value::Object(_) => {
                serde_json::from_value(self.params).map_err(|_| Problem::ParamsNotObject)?
            }
            _ => return Err(Problem::ParamsNotObject),
        };
        params.validate(kind)?;
        if self.recipient_id.is_empty() {
            return Err(Problem::NoRecipient);
        }
        if !is_web_url(&self.url) {
            return Err(Problem::BadUrl);
        }
        if self.read_at.is_some_and(|r| r < self.created_at) {
            return Err(Problem::ReadBeforeCreated);
        }
        Ok(Notification {
            id: self.id,
            category,
            kind,
            params,
            actor_id: self.actor_id.filter(|a| !a.is_empty()),
            recipient_id: self.recipient_id,
            url: self.url,
            created_at: self.created_at,
            read_at: self.read_at,
        })
    }
}

/// An id as every store keeps it: 1 to `max` characters, none of them control characters (no
/// NUL, which PostgreSQL refuses in text; no line breaks or escapes, which belong in no id).
pub fn is_plain_id(id: &str, max: usize) -> bool {
    !id.is_empty() && id.chars().count() <= max && !id.chars().any(char::is_control)
}

/// An absolute http(s) URL with a host (parsed as browsers parse URLs) and no whitespace or control
/// characters. Which hosts may be opened is the link policy's decision (`crate::link`); this only
/// rejects what can never be a page.
pub fn is_web_url(url: &str) -> bool {
    url.len() <= 4096
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && url::Url::parse(url).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// An incoming chat message: a toast-only event, never a list item (NC-R4). The type has no path
/// into the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// The producer's event id: re-sent messages carry the same one (MW-4).
    pub event_id: String,
    pub conversation_id: String,
    pub channel: String,
    pub sender_name: String,
    pub preview: String,
    pub recipient_id: String,
    pub url: String,
    pub received_at: DateTime<Utc>,
}
