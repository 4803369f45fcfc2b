//! The notification model: tabs, categories, kinds (template keys) and their typed parameters.
//!
//! A notification is stored as `kind + params`, never as rendered text (NC-R11): the bell window and the
//! toasts render it in the active language at display time. Each [`Kind`] declares its parameters
//! ([`ParamSpec`]); [`Params::validate`] checks a parameter set against them, and the catalog tests check
//! that every translation uses only those parameters.
//!
//! Everything that arrives from a server comes in as [`WireNotification`] (plain strings) and becomes a
//! [`Notification`] only through [`WireNotification::validate`], which says exactly what is wrong.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

impl Tab {
    pub fn code(self) -> i64 {
        Tab::ALL.iter().position(|t| *t == self).map_or(0, |p| p as i64 + 1)
    }
}

/// The type of one template parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Free text supplied by a person or a system (a name, a status, an amount as displayed).
    Text,
    /// A whole number; drives plural forms.
    Count,
    /// One of a set of identifiers that the catalogs select on. The set is open: an unknown value
    /// renders through the message's default variant, so a new channel never makes an item unreadable.
    Choice(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
}

const fn text(name: &'static str) -> ParamSpec {
    ParamSpec { name, ty: ParamType::Text }
}
const fn count(name: &'static str) -> ParamSpec {
    ParamSpec { name, ty: ParamType::Count }
}
const fn choice(name: &'static str, values: &'static [&'static str]) -> ParamSpec {
    ParamSpec { name, ty: ParamType::Choice(values) }
}

/// Chat channels known to the catalogs (incoming messages, conversation items).
pub const CHANNELS: &[&str] =
    &["whatsapp", "instagram", "facebook", "telegram", "line", "webchat", "tokopedia", "email"];
const REMINDER_OBJECTS: &[&str] = &["deal", "ticket", "task"];
const MENTION_TARGETS: &[&str] = &["deal", "ticket", "task", "task_detail"];
const AUTO_SOURCES: &[&str] = &["inbox", "chatbot"];
const DATA_OBJECTS: &[&str] = &["deals", "tickets", "tasks", "contacts", "companies", "products"];
const OUTCOMES: &[&str] = &["succeeded", "failed"];

const ACTOR: ParamSpec = text("actor");
const CHANNEL: ParamSpec = choice("channel", CHANNELS);

keyed_enum! {
    /// The template key of a notification. The catalogs hold one message per kind (id: the key with
    /// `-` for `_`), whose value is the list text and whose `.title` is the toast title.
    Kind {
        Reminder = "reminder",
        Mention = "mention",
        DealOwnerAssigned = "deal_owner_assigned",
        /// A deal created automatically from Inbox or the chatbot (NC-R2): no human assigner.
        DealOwnerAutoAssigned = "deal_owner_auto_assigned",
        TicketAssigned = "ticket_assigned",
        TaskAssigned = "task_assigned",
        TaskChecklistItemAssigned = "task_checklist_item_assigned",
        TicketStatusChanged = "ticket_status_changed",
        TaskStatusChanged = "task_status_changed",
        ExportReady = "export_ready",
        ImportProcessed = "import_processed",
        AutomationResult = "automation_result",
        /// An item read from the Qontak CRM API, which sends rendered text (see `crm`).
        CrmNotice = "crm_notice",
        ConversationAssigned = "conversation_assigned",
        ConversationResolved = "conversation_resolved",
        ContactBlocked = "contact_blocked",
        ContactUnblocked = "contact_unblocked",
        DealApprovalRequested = "deal_approval_requested",
        DealApprovalApproved = "deal_approval_approved",
        DealApprovalRejected = "deal_approval_rejected",
        ExpenseApprovalRequested = "expense_approval_requested",
        ExpenseApprovalApproved = "expense_approval_approved",
        ExpenseApprovalRejected = "expense_approval_rejected",
    }
}

impl Kind {
    /// The category of this kind; `None` for [`Kind::CrmNotice`], whose category comes from the CRM's
    /// `notif_category_id`.
    pub fn category(self) -> Option<Category> {
        use Category as C;
        use Kind::*;
        Some(match self {
            Reminder => C::Reminder,
            Mention => C::Mention,
            DealOwnerAssigned
            | DealOwnerAutoAssigned
            | TicketAssigned
            | TaskAssigned
            | TaskChecklistItemAssigned => C::Assignment,
            TicketStatusChanged | TaskStatusChanged | AutomationResult => C::Update,
            ExportReady | ImportProcessed => C::DownloadUpload,
            CrmNotice => return None,
            ConversationAssigned => C::ChatAssignment,
            ConversationResolved => C::Resolved,
            ContactBlocked | ContactUnblocked => C::BlockedContact,
            DealApprovalRequested | DealApprovalApproved | DealApprovalRejected => C::Deals,
            ExpenseApprovalRequested | ExpenseApprovalApproved | ExpenseApprovalRejected => C::Expenses,
        })
    }

    /// Whether `category` is a valid category for an item of this kind.
    pub fn allows(self, category: Category) -> bool {
        match self.category() {
            Some(c) => c == category,
            None => category.tab() != Tab::Inbox,
        }
    }

    /// The parameters the kind's messages may use; all of them are required.
    pub fn params(self) -> &'static [ParamSpec] {
        use Kind::*;
        match self {
            Reminder => const { &[choice("object_type", REMINDER_OBJECTS), text("object_name")] },
            Mention => const { &[ACTOR, choice("target", MENTION_TARGETS), text("object_name")] },
            DealOwnerAssigned => const { &[ACTOR, text("deal_name")] },
            DealOwnerAutoAssigned => const { &[text("deal_name"), choice("source", AUTO_SOURCES)] },
            TicketAssigned => const { &[ACTOR, text("ticket_name")] },
            TaskAssigned => const { &[ACTOR, text("task_name")] },
            TaskChecklistItemAssigned => const { &[ACTOR, text("task_name"), text("item_name")] },
            TicketStatusChanged => const { &[ACTOR, text("ticket_name"), text("status")] },
            TaskStatusChanged => const { &[ACTOR, text("task_name"), text("status")] },
            ExportReady => const { &[choice("object_type", DATA_OBJECTS), count("count")] },
            ImportProcessed => {
                const { &[choice("object_type", DATA_OBJECTS), count("success_count"), count("failure_count")] }
            }
            AutomationResult => {
                const { &[text("rule_name"), text("object_name"), choice("outcome", OUTCOMES)] }
            }
            CrmNotice => const { &[text("origin"), text("description")] },
            ConversationAssigned | ConversationResolved => const { &[ACTOR, text("contact_name"), CHANNEL] },
            ContactBlocked | ContactUnblocked => const { &[ACTOR, text("contact_name")] },
            DealApprovalRequested => const { &[ACTOR, text("deal_name"), text("amount")] },
            DealApprovalApproved | DealApprovalRejected => const { &[ACTOR, text("deal_name")] },
            ExpenseApprovalRequested => const { &[ACTOR, text("expense_name"), text("amount")] },
            ExpenseApprovalApproved | ExpenseApprovalRejected => const { &[ACTOR, text("expense_name")] },
        }
    }

    /// The Fluent message id of this kind.
    pub fn message_id(self) -> String {
        self.as_str().replace('_', "-")
    }
}

/// The longest text parameter accepted; longer text is a producer bug, not something to display.
pub const MAX_TEXT_PARAM: usize = 2_000;
/// The longest server id accepted.
pub const MAX_ID_LEN: usize = 128;

/// One parameter value. On the wire and in storage: a JSON string or integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Count(i64),
    Text(String),
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        ParamValue::Text(s.to_owned())
    }
}
impl From<String> for ParamValue {
    fn from(s: String) -> Self {
        ParamValue::Text(s)
    }
}
impl From<i64> for ParamValue {
    fn from(n: i64) -> Self {
        ParamValue::Count(n)
    }
}

/// The parameters of one notification, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Params(pub BTreeMap<String, ParamValue>);

impl Params {
    pub fn new() -> Self {
        Params::default()
    }

    pub fn with(mut self, name: &str, value: impl Into<ParamValue>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(ParamValue::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// Checks the parameters against the kind's specs. Extra parameters are kept (a newer producer may
    /// send more) but never rendered.
    pub fn validate(&self, kind: Kind) -> Result<(), Problem> {
        for spec in kind.params() {
            let value = self.0.get(spec.name).ok_or(Problem::MissingParam { kind, param: spec.name })?;
            let ok = match (spec.ty, value) {
                (ParamType::Count, ParamValue::Count(n)) => *n >= 0,
                (ParamType::Text, ParamValue::Text(s)) => s.chars().count() <= MAX_TEXT_PARAM,
                (ParamType::Choice(_), ParamValue::Text(s)) => is_choice_value(s),
                _ => false,
            };
            if !ok {
                return Err(Problem::BadParam { kind, param: spec.name, expected: spec.ty });
            }
        }
        Ok(())
    }
}

fn is_choice_value(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

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
        if category.tab() != tab {
            return Err(Problem::CategoryNotInTab { tab, category });
        }
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

/// An absolute http(s) URL with a host and no whitespace or control characters. Which hosts may be
/// opened is the opener's decision; this only rejects what can never be a page.
pub fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && url.len() <= 4096 && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wire() -> WireNotification {
        WireNotification {
            id: "n-1".into(),
            tab: "general".into(),
            category: "mention".into(),
            kind: "mention".into(),
            params: serde_json::json!({"actor": "Budi", "target": "deal", "object_name": "PT Maju"}),
            actor_id: Some("u-2".into()),
            recipient_id: "u-1".into(),
            url: "https://app.qontak.com/crm/deals/1".into(),
            created_at: "2026-01-20T01:00:00Z".parse().unwrap(),
            read_at: None,
        }
    }

    #[test]
    fn every_category_belongs_to_the_tab_that_lists_it() {
        for tab in Tab::ALL {
            for c in tab.categories() {
                assert_eq!(c.tab(), *tab);
            }
        }
        let listed: usize = Tab::ALL.iter().map(|t| t.categories().len()).sum();
        assert_eq!(listed, Category::ALL.len());
    }

    #[test]
    fn category_codes_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(*c));
        }
        assert_eq!(Category::from_code(0), None);
        assert_eq!(Category::from_code(99), None);
    }

    #[test]
    fn every_kind_lands_in_its_documented_tab() {
        use Kind::*;
        let inbox = [ConversationAssigned, ConversationResolved, ContactBlocked, ContactUnblocked];
        for kind in Kind::ALL {
            if let Some(c) = kind.category() {
                let expected = if inbox.contains(kind) {
                    Tab::Inbox
                } else if kind.as_str().contains("approval") {
                    Tab::Approval
                } else {
                    Tab::General
                };
                assert_eq!(c.tab(), expected, "{kind}");
            }
        }
    }

    #[test]
    fn a_valid_wire_item_becomes_a_notification_and_round_trips() {
        let n = wire().validate().unwrap();
        assert_eq!(n.tab(), Tab::General);
        assert_eq!(n.kind, Kind::Mention);
        assert_eq!(n.params.text("actor"), Some("Budi"));
        assert_eq!(n.to_wire().validate().unwrap(), n);
    }

    #[test]
    fn unknown_kind_tab_and_category_are_named_in_the_error() {
        let mut w = wire();
        w.kind = "hologram".into();
        let err = w.validate().unwrap_err();
        assert_eq!(err.id, "n-1");
        assert!(err.to_string().contains("unknown Kind 'hologram'"), "{err}");

        let mut w = wire();
        w.tab = "spam".into();
        assert!(matches!(
            w.validate().unwrap_err().problem,
            Problem::Unknown(UnknownKey { what: "Tab", .. })
        ));

        let mut w = wire();
        w.category = "resolved".into();
        let err = w.validate().unwrap_err();
        assert_eq!(
            err.problem,
            Problem::CategoryNotInTab { tab: Tab::General, category: Category::Resolved }
        );
        assert!(err.to_string().contains("belongs to tab 'inbox'"));
    }

    #[test]
    fn kind_must_match_category_except_crm_notices_outside_inbox() {
        let mut w = wire();
        w.category = "reminder".into();
        assert!(matches!(w.validate().unwrap_err().problem, Problem::KindNotInCategory { .. }));
        assert!(Kind::CrmNotice.allows(Category::Expenses));
        assert!(Kind::CrmNotice.allows(Category::Reminder));
        assert!(!Kind::CrmNotice.allows(Category::Resolved));
    }

    #[test]
    fn params_are_checked_against_the_kind() {
        let mut w = wire();
        w.params = serde_json::json!({"actor": "Budi", "target": "deal"});
        assert_eq!(
            w.validate().unwrap_err().problem,
            Problem::MissingParam { kind: Kind::Mention, param: "object_name" }
        );
        let mut w = wire();
        w.params = serde_json::json!({"actor": 5, "target": "deal", "object_name": "x"});
        assert!(matches!(w.validate().unwrap_err().problem, Problem::BadParam { param: "actor", .. }));
        let mut w = wire();
        w.params = serde_json::json!({"actor": "B", "target": "Deal Room!", "object_name": "x"});
        assert!(matches!(w.validate().unwrap_err().problem, Problem::BadParam { param: "target", .. }));
        let mut w = wire();
        w.params = serde_json::json!(["not", "an", "object"]);
        assert_eq!(w.validate().unwrap_err().problem, Problem::ParamsNotObject);
        let mut w = wire();
        w.params = serde_json::json!({"actor": "B", "target": "deal", "object_name": "x".repeat(2001)});
        assert!(matches!(w.validate().unwrap_err().problem, Problem::BadParam { .. }));
    }

    #[test]
    fn counts_must_be_non_negative_and_choices_may_be_new_values() {
        let p = Params::new().with("object_type", "invoices").with("count", 3);
        assert_eq!(p.validate(Kind::ExportReady), Ok(()));
        let p = Params::new().with("object_type", "deals").with("count", -1);
        assert!(p.validate(Kind::ExportReady).is_err());
    }

    #[test]
    fn urls_must_be_absolute_web_urls() {
        assert!(is_web_url("https://app.qontak.com/crm/deals/1?tab=notes#x"));
        assert!(is_web_url("http://localhost:8080/x"));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://",
            "https:// x.com",
            "/relative",
            "https://a.com/\u{7}",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
        let mut w = wire();
        w.url = "javascript:alert(1)".into();
        assert_eq!(w.validate().unwrap_err().problem, Problem::BadUrl);
    }

    #[test]
    fn bad_ids_recipients_and_read_times_are_rejected() {
        let mut w = wire();
        w.id = String::new();
        assert_eq!(w.validate().unwrap_err().problem, Problem::BadId);
        let mut w = wire();
        w.recipient_id = String::new();
        assert_eq!(w.validate().unwrap_err().problem, Problem::NoRecipient);
        let mut w = wire();
        w.read_at = Some("2026-01-19T00:00:00Z".parse().unwrap());
        assert_eq!(w.validate().unwrap_err().problem, Problem::ReadBeforeCreated);
    }
}
