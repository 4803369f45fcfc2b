//! Kinds (template keys) and their typed parameters: what each kind needs to be rendered, and the
//! values a parameter may take.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{keyed_enum, Category, Problem, Tab};

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
