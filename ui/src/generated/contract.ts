// Generated from the Rust types by crates/desktop/tests/contract.rs: do not edit.
// `LONCENG_BLESS=1 cargo test -p lonceng-desktop --test desktop contract` writes it anew.

export type Tab = 'general' | 'inbox' | 'approval';

export type Category = 'reminder' | 'mention' | 'assignment' | 'update' | 'download_upload' | 'chat_assignment' | 'resolved' | 'blocked_contact' | 'deals' | 'expenses';

export type Lang = 'en' | 'id';

export type Reason = "toasted" | "chat_focused" | "muted" | "paused" | "quiet_hours" | "already_read" | "late";

export type Scope = { tab: Tab, category: Category | null, };

export type Cursor = { created_at: string, id: string, };

export type Item = { id: string, tab: Tab, category: Category, 
/**
 * A template key ([`Kind`]); the text is rendered from it at display time (NC-R11).
 */
kind: string, params: Record<string, string | number>, actor_id: string | null, recipient_id: string, url: string, created_at: string, read_at: string | null, };

export type Page = { items: Array<Item>, next: Cursor | null, };

export type Counts = { total: number, tabs: Record<Tab, number>, categories: Record<Category, number>, 
/**
 * Notifications that arrived but could not be shown (kept aside with the reason).
 */
quarantined: number, };

export type Quarantine = { count: number, latest: Array<Quarantined>, };

export type Quarantined = { received_at: string, reason: string, };

export type MarkAllResult = { changed: number, 
/**
 * Pass to `undo` within a few seconds to take it back; null when nothing changed.
 */
undo: string | null, };

export type MaintenanceWindow = { id: number, starts_at: string, ends_at: string, message: string, };

export type MaintenanceStatus = { active: boolean, 
/**
 * When the current maintenance is expected to end, if known.
 */
until: string | null, 
/**
 * Windows announced and not over yet.
 */
windows: Array<MaintenanceWindow>, };

export type ConnState = { "state": "connecting" } | { "state": "connected", streaming: boolean, } | { "state": "reconnecting", next_attempt_at: string, } | { "state": "maintenance", until: string | null, next_attempt_at: string, } | { "state": "offline", reason: string, next_attempt_at: string, };

export type Status = { state: ConnState, last_synced_at: string | null, 
/**
 * Announced maintenance windows (MW-1).
 */
maintenance: MaintenanceStatus | null, };

export type SourceKind = "server" | "crm";

export type Day = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

export type QuietHours = { enabled: boolean, 
/**
 * The days a quiet period starts on.
 */
days: Array<Day>, 
/**
 * Minutes after local midnight.
 */
start: number, 
/**
 * Minutes after local midnight; at or before `start` means the next day (the same time: a
 * whole day).
 */
end: number, 
/**
 * Categories that toast even during quiet hours and a pause (silently).
 */
breakthrough: Array<Category>, };

export type SoundSettings = { on: boolean, 
/**
 * Categories whose toasts are silent.
 */
silent: Array<Category>, };

export type QuietKind = "paused" | "scheduled";

export type Quiet = { kind: QuietKind, until: string, };

export type SnoozeTimes = { hour: string, afternoon: string | null, tomorrow: string, };

export type SnoozedItem = { item: Item, 
/**
 * When it comes back.
 */
until: string, };

export type SearchResult = { items: Array<Item>, 
/**
 * More matched than are listed: the agent can type more words.
 */
limited: boolean, };

export type DesktopSettings = { lang: Lang, muted: Array<Category>, mute_chat: boolean, paused_until: string | null, 
/**
 * The weekly quiet hours (the pause is above).
 */
quiet_hours: QuietHours, 
/**
 * "Resume" during quiet hours: the period ending then is skipped.
 */
quiet_skipped_until: string | null, sound: SoundSettings, source: SourceKind, 
/**
 * The Lonceng server, or empty in demo mode.
 */
server_url: string, 
/**
 * The direct CRM mode: the Mekari API, the company's HMAC client id (its secret is in the
 * keyring), and the agent's CRM SSO user id.
 */
crm_base_url: string, crm_client_id: string, crm_sso_user_id: string, chat_window_patterns: Array<string>, autostart: boolean, 
/**
 * The update manifest (JSON) to check for signed updates; empty: no checks (the default).
 */
update_url: string, };

export type Settings = { 
/**
 * Whether a sign-in token is stored.
 */
has_token: boolean, 
/**
 * Where the token is kept: the OS keyring, or a file when no keyring service runs.
 */
token_store: 'keyring' | 'file' | 'none', 
/**
 * Whether the CRM client secret is stored, and where.
 */
has_crm_secret: boolean, crm_secret_store: 'keyring' | 'file' | 'none', demo: boolean, 
/**
 * Whether this run manages start at login (an installed app, not the demo).
 */
autostart_managed: boolean, lang: Lang, muted: Array<Category>, mute_chat: boolean, paused_until: string | null, 
/**
 * The weekly quiet hours (the pause is above).
 */
quiet_hours: QuietHours, 
/**
 * "Resume" during quiet hours: the period ending then is skipped.
 */
quiet_skipped_until: string | null, sound: SoundSettings, source: SourceKind, 
/**
 * The Lonceng server, or empty in demo mode.
 */
server_url: string, 
/**
 * The direct CRM mode: the Mekari API, the company's HMAC client id (its secret is in the
 * keyring), and the agent's CRM SSO user id.
 */
crm_base_url: string, crm_client_id: string, crm_sso_user_id: string, chat_window_patterns: Array<string>, autostart: boolean, 
/**
 * The update manifest (JSON) to check for signed updates; empty: no checks (the default).
 */
update_url: string, };

export type SettingsChanges = { lang?: Lang, muted?: Array<Category>, mute_chat?: boolean, quiet_hours?: QuietHours, sound?: SoundSettings, source?: SourceKind, server_url?: string, 
/**
 * The sign-in token: it goes to the OS keyring, never back to the window.
 */
token?: string, crm_base_url?: string, crm_client_id?: string, crm_sso_user_id?: string, 
/**
 * The company's CRM client secret: it goes to the OS keyring, never back to the window.
 */
crm_client_secret?: string, chat_window_patterns?: Array<string>, autostart?: boolean, update_url?: string, };

export type AppError = { "kind": "store", "message": string } | { "kind": "not_found", "message": string } | { "kind": "refused", "message": string } | { "kind": "invalid", "message": string } | { "kind": "platform", "message": string };

export type BackendEvent = "changed" | "status" | "settings" | "open-settings" | "shown" | "update" | "toasted";

export type UpdateOffer = { version: string, 
/**
 * The release notes, as plain text.
 */
notes: string | null, 
/**
 * Why the last install failed, if it did (the offer stays).
 */
error: string | null, };

export type DoctorLevel = "ok" | "warning" | "problem";

export type DoctorCheck = "notifications" | "tray" | "display" | "screen_lock" | "keyring" | "autostart" | "server" | "token" | "stream" | "clock" | "quarantine";

export type DoctorLine = { check: DoctorCheck, level: DoctorLevel, 
/**
 * The check's name ("Notifications").
 */
title: string, 
/**
 * What was found.
 */
text: string, 
/**
 * What to do, when not ok.
 */
advice: string | null, };

export type DoctorReport = { 
/**
 * The worst level found.
 */
level: DoctorLevel, lines: Array<DoctorLine>, };

/** The tabs, in display order. */
export const TABS: readonly Tab[] = ['general', 'inbox', 'approval'];

/** Each tab's category chips, in display order. */
export const CATEGORIES: Readonly<Record<Tab, readonly Category[]>> = {
  general: ['reminder', 'mention', 'assignment', 'update', 'download_upload'],
  inbox: ['chat_assignment', 'resolved', 'blocked_contact'],
  approval: ['deals', 'expenses'],
};

/** The catalog message of each kind: its text, with the toast title as `.title` (NC-R11). */
export const KIND_MESSAGES: Readonly<Record<string, string>> = {
  reminder: 'reminder',
  mention: 'mention',
  deal_owner_assigned: 'deal-owner-assigned',
  deal_owner_auto_assigned: 'deal-owner-auto-assigned',
  ticket_assigned: 'ticket-assigned',
  task_assigned: 'task-assigned',
  task_checklist_item_assigned: 'task-checklist-item-assigned',
  ticket_status_changed: 'ticket-status-changed',
  task_status_changed: 'task-status-changed',
  export_ready: 'export-ready',
  import_processed: 'import-processed',
  automation_result: 'automation-result',
  crm_notice: 'crm-notice',
  conversation_assigned: 'conversation-assigned',
  conversation_resolved: 'conversation-resolved',
  contact_blocked: 'contact-blocked',
  contact_unblocked: 'contact-unblocked',
  deal_approval_requested: 'deal-approval-requested',
  deal_approval_approved: 'deal-approval-approved',
  deal_approval_rejected: 'deal-approval-rejected',
  expense_approval_requested: 'expense-approval-requested',
  expense_approval_approved: 'expense-approval-approved',
  expense_approval_rejected: 'expense-approval-rejected',
};

/** Every event the window is sent, each on the channel `lonceng://<name>`. */
export const BACKEND_EVENTS: readonly BackendEvent[] = ['changed', 'status', 'settings', 'open-settings', 'shown', 'update', 'toasted'];

/** How long a mark-all can be undone before it leaves for the server, in milliseconds. */
export const UNDO_WINDOW_MS = 10000;
