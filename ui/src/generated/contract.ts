// Generated from the Rust types and the command list by crates/desktop/tests/desktop/contract.rs: do not edit.
// `LONCENG_BLESS=1 cargo test -p lonceng-desktop --test desktop contract` writes it anew.

export type Tab = 'general' | 'inbox' | 'approval';

export type Category = 'reminder' | 'mention' | 'assignment' | 'update' | 'download_upload' | 'chat_assignment' | 'resolved' | 'blocked_contact' | 'deals' | 'expenses';

export type Lang = 'en' | 'id';

export type Reason = "toasted" | "chat_focused" | "muted" | "paused" | "quiet_hours" | "system_quiet" | "already_read" | "late";

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

export type PageTiming = { 
/**
 * When the page's script began to run: the document and its script fetched and parsed.
 */
script_ms: number, 
/**
 * When all the first paint needs was in hand (at once, when it came with the document).
 */
data_ms: number, 
/**
 * When the first frame with the list was laid out and painted.
 */
page_ms: number, };

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

export type MessageText = "always" | "not_while_locked" | "never";

export type MuteUntil = { "kind": "time", at: string, } | { "kind": "resolved" } | { "kind": "always" };

export type ConversationMute = { 
/**
 * Who and where, for Settings: "Adrian on WhatsApp".
 */
label: string, 
/**
 * The conversation's page: a resolved item about it ends a mute [`MuteUntil::Resolved`].
 */
url: string, until: MuteUntil, };

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
 * Pass as `before` for the next page; null on the last.
 */
next: string | null, 
/**
 * How many match in all (on the first page; null on the pages after it).
 */
total: number | null, };

export type DesktopSettings = { lang: Lang, muted: Array<Category>, mute_chat: boolean, 
/**
 * Chat channels muted for toasts (`whatsapp`, `instagram`…).
 */
muted_channels: Array<string>, 
/**
 * Conversations muted for toasts, by conversation id.
 */
muted_conversations: { [key in string]: ConversationMute }, paused_until: string | null, 
/**
 * The weekly quiet hours (the pause is above).
 */
quiet_hours: QuietHours, 
/**
 * "Resume" during quiet hours: the period ending then is skipped.
 */
quiet_skipped_until: string | null, sound: SoundSettings, 
/**
 * ORG-5: whether toasts show names and message text (by default, not on a locked screen).
 */
message_text: MessageText, 
/**
 * ORG-6: approvals shown through the OS's Do Not Disturb (off by default).
 */
approvals_break_dnd: boolean, source: SourceKind, 
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
update_url: string, 
/**
 * The keyboard shortcut that opens the bell anywhere ("Ctrl+Alt+N"); empty: none.
 */
shortcut: string, 
/**
 * The proxy: empty for the computer's own, `direct` for none, or `http://[user:pass@]host:port`.
 */
proxy: string, };

export type SignInMethod = "organisation" | "token";

export type AccountView = { 
/**
 * The user signed in on this server (`None`: not signed in through the identity provider).
 */
signed_in_as: string | null, 
/**
 * Why the app is signed out, when the organisation did it.
 */
signed_out: string | null, 
/**
 * Whether a sign-in is waiting for the browser now.
 */
signing_in: boolean, 
/**
 * A server a sign-in link names, waiting for the agent's yes (`lonceng://sign-in?server=…`).
 */
offered_server: string | null, 
/**
 * How IT has this computer sign in (ORG-3), if it decided: the other way is not offered.
 */
method: SignInMethod | null, 
/**
 * Whether the window and the tray offer "Sign in" now (a server is set, and neither a sign-in
 * nor an admin's token is held).
 */
sign_in_offered: boolean, };

export type ShortcutProblem = { "kind": "invalid", shortcut: string, } | { "kind": "taken", shortcut: string, } | { "kind": "unsupported", shortcut: string, };

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
autostart_managed: boolean, 
/**
 * The settings IT's policy fixes (ORG-3): shown locked, changes refused.
 */
locked: Array<'server_url' | 'source' | 'sign_in' | 'lang' | 'autostart' | 'update_url' | 'muted' | 'sound' | 'proxy'>, 
/**
 * Signed in through the organisation's identity provider, or why not (ORG-1).
 */
account: AccountView, 
/**
 * Why the keyboard shortcut does not work (another app holds it, it is not one).
 */
shortcut_problem: ShortcutProblem | null, lang: Lang, muted: Array<Category>, mute_chat: boolean, 
/**
 * Chat channels muted for toasts (`whatsapp`, `instagram`…).
 */
muted_channels: Array<string>, 
/**
 * Conversations muted for toasts, by conversation id.
 */
muted_conversations: { [key in string]: ConversationMute }, paused_until: string | null, 
/**
 * The weekly quiet hours (the pause is above).
 */
quiet_hours: QuietHours, 
/**
 * "Resume" during quiet hours: the period ending then is skipped.
 */
quiet_skipped_until: string | null, sound: SoundSettings, 
/**
 * ORG-5: whether toasts show names and message text (by default, not on a locked screen).
 */
message_text: MessageText, 
/**
 * ORG-6: approvals shown through the OS's Do Not Disturb (off by default).
 */
approvals_break_dnd: boolean, source: SourceKind, 
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
update_url: string, 
/**
 * The keyboard shortcut that opens the bell anywhere ("Ctrl+Alt+N"); empty: none.
 */
shortcut: string, 
/**
 * The proxy: empty for the computer's own, `direct` for none, or `http://[user:pass@]host:port`.
 */
proxy: string, };

export type SettingsChanges = { lang?: Lang, muted?: Array<Category>, mute_chat?: boolean, muted_channels?: Array<string>, 
/**
 * The whole list (Settings changes a duration or unmutes by sending it back changed).
 */
muted_conversations?: { [key in string]: ConversationMute }, quiet_hours?: QuietHours, sound?: SoundSettings, message_text?: MessageText, approvals_break_dnd?: boolean, source?: SourceKind, server_url?: string, 
/**
 * The sign-in token: it goes to the OS keyring, never back to the window.
 */
token?: string, crm_base_url?: string, crm_client_id?: string, crm_sso_user_id?: string, 
/**
 * The company's CRM client secret: it goes to the OS keyring, never back to the window.
 */
crm_client_secret?: string, chat_window_patterns?: Array<string>, autostart?: boolean, update_url?: string, shortcut?: string, proxy?: string, };

export type FirstPaint = { 
/**
 * The request `page` answers.
 */
scope: Scope, unread_only: boolean, limit: number, page: Page, counts: Counts, settings: Settings, status: Status, };

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

export type DoctorCheck = "notifications" | "tray" | "display" | "screen_lock" | "keyring" | "autostart" | "network" | "server" | "token" | "stream" | "clock" | "quarantine" | "policy";

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

/** The window's commands, one list with the Rust side (crates/desktop/src/commands.rs). */
export interface Commands {
  /** A page of the list: the tab and chip, unread only or not, after a cursor (NC-R9). */
  page(scope: Scope, unreadOnly: boolean, after: Cursor | null, limit: number): Promise<Page>;
  /** Unread counts per tab and category; their total is the badge (NC-R14). */
  counts(): Promise<Counts>;
  /** The connection as the window shows it (MW-2). */
  status(): Promise<Status>;
  /** "Why no toast?" for an item this run has seen. */
  why(id: string): Promise<Reason | null>;
  /** Why notifications could not be shown (the count is in `counts`). */
  quarantine(): Promise<Quarantine>;
  /** Marks one item read (NC-R8). */
  markRead(id: string): Promise<void>;
  /** Marks one item unread again, on every device (ORG-7). */
  markUnread(id: string): Promise<void>;
  /** Opens the item's page (only an allowed host) and marks it read (NC-R7). */
  openItem(id: string): Promise<void>;
  /** Marks exactly the tab and chip read (NC-R6); undoable for a few seconds. */
  markAllRead(scope: Scope): Promise<MarkAllResult>;
  /** Takes a mark-all back; false when it is too late. */
  undo(token: string): Promise<boolean>;
  /** Snoozes an unread item until then: it leaves the list and comes back unread, with a
   * fresh toast. False when it was read already. */
  snooze(id: string, until: string): Promise<boolean>;
  /** Brings a snoozed item back now. */
  unsnooze(id: string): Promise<boolean>;
  /** The "Snoozed" view: what waits, soonest first. */
  snoozed(): Promise<Array<SnoozedItem>>;
  /** The snooze menu's times, where the agent is. */
  snoozeTimes(): Promise<SnoozeTimes>;
  /** Searches the history, within the scope or everywhere (null), newest first; a page
   * at a time (`before`: the previous page's `next`). */
  search(text: string, scope: Scope | null, unreadOnly: boolean, before: string | null): Promise<SearchResult>;
  /** Tabs that may have lost items while the agent was away (NC-R5), until dismissed. */
  gaps(): Promise<Array<Tab>>;
  /** Dismisses a tab's gap marker. */
  dismissGap(tab: Tab): Promise<void>;
  /** Whether toasts are held now (quiet hours, a pause), and until when. */
  quiet(): Promise<Quiet | null>;
  /** Ends a pause, or the quiet hours running now. */
  resume(): Promise<void>;
  /** The settings as the window shows them (secrets only as "kept where"). */
  settings(): Promise<Settings>;
  /** Saves a change; secrets go to the keyring. */
  saveSettings(changes: SettingsChanges): Promise<Settings>;
  /** ORG-1: signs in through the organisation's identity provider in the system browser;
   * answers when the browser comes back (a second call replaces a sign-in still waiting). */
  signIn(): Promise<AccountView>;
  /** The agent's answer to a clicked sign-in link: yes points the app at its server and
   * signs in there; no forgets it. */
  answerSignInLink(accept: boolean): Promise<AccountView>;
  /** Signs this device out: the organisation's server and the keyring forget it. */
  signOut(): Promise<void>;
  /** Settings → Diagnose: `lonceng doctor`'s report, in the agent's language. */
  diagnose(): Promise<DoctorReport>;
  /** Saves the Diagnose report, the week's logs and the settings in one zip for IT
   * (redacted); returns where. */
  saveReport(): Promise<string>;
  /** A signed update found at the organisation's manifest, if any. */
  updateOffer(): Promise<UpdateOffer | null>;
  /** The agent's consent: installs the offered update (the app restarts into it). */
  installUpdate(): Promise<void>;
  /** Keeps the window open when it loses focus. */
  setPinned(on: boolean): Promise<void>;
  /** The list is on screen; on the first load, how long the page itself took. */
  painted(page: PageTiming | null): Promise<void>;
}

/** Each command's parameters, in order. */
export const COMMAND_PARAMS: { readonly [C in keyof Commands]: readonly string[] } = {
  page: ['scope', 'unreadOnly', 'after', 'limit'],
  counts: [],
  status: [],
  why: ['id'],
  quarantine: [],
  markRead: ['id'],
  markUnread: ['id'],
  openItem: ['id'],
  markAllRead: ['scope'],
  undo: ['token'],
  snooze: ['id', 'until'],
  unsnooze: ['id'],
  snoozed: [],
  snoozeTimes: [],
  search: ['text', 'scope', 'unreadOnly', 'before'],
  gaps: [],
  dismissGap: ['tab'],
  quiet: [],
  resume: [],
  settings: [],
  saveSettings: ['changes'],
  signIn: [],
  answerSignInLink: ['accept'],
  signOut: [],
  diagnose: [],
  saveReport: [],
  updateOffer: [],
  installUpdate: [],
  setPinned: ['on'],
  painted: ['page'],
};

/** Sends a command over IPC (Tauri's `invoke`). */
export type Invoke = (command: string, args: Record<string, unknown>) => Promise<unknown>;

/** The commands, each sent by its name with its parameters by name. */
export function invokeCommands(invoke: Invoke): Commands {
  return {
    page: (scope, unreadOnly, after, limit) => invoke('page', { scope, unreadOnly, after, limit }) as Promise<Page>,
    counts: () => invoke('counts', {}) as Promise<Counts>,
    status: () => invoke('status', {}) as Promise<Status>,
    why: (id) => invoke('why', { id }) as Promise<Reason | null>,
    quarantine: () => invoke('quarantine', {}) as Promise<Quarantine>,
    markRead: (id) => invoke('mark_read', { id }) as Promise<void>,
    markUnread: (id) => invoke('mark_unread', { id }) as Promise<void>,
    openItem: (id) => invoke('open_item', { id }) as Promise<void>,
    markAllRead: (scope) => invoke('mark_all_read', { scope }) as Promise<MarkAllResult>,
    undo: (token) => invoke('undo', { token }) as Promise<boolean>,
    snooze: (id, until) => invoke('snooze', { id, until }) as Promise<boolean>,
    unsnooze: (id) => invoke('unsnooze', { id }) as Promise<boolean>,
    snoozed: () => invoke('snoozed', {}) as Promise<Array<SnoozedItem>>,
    snoozeTimes: () => invoke('snooze_times', {}) as Promise<SnoozeTimes>,
    search: (text, scope, unreadOnly, before) => invoke('search', { text, scope, unreadOnly, before }) as Promise<SearchResult>,
    gaps: () => invoke('gaps', {}) as Promise<Array<Tab>>,
    dismissGap: (tab) => invoke('dismiss_gap', { tab }) as Promise<void>,
    quiet: () => invoke('quiet', {}) as Promise<Quiet | null>,
    resume: () => invoke('resume', {}) as Promise<void>,
    settings: () => invoke('settings', {}) as Promise<Settings>,
    saveSettings: (changes) => invoke('save_settings', { changes }) as Promise<Settings>,
    signIn: () => invoke('sign_in', {}) as Promise<AccountView>,
    answerSignInLink: (accept) => invoke('answer_sign_in_link', { accept }) as Promise<AccountView>,
    signOut: () => invoke('sign_out', {}) as Promise<void>,
    diagnose: () => invoke('diagnose', {}) as Promise<DoctorReport>,
    saveReport: () => invoke('save_report', {}) as Promise<string>,
    updateOffer: () => invoke('update_offer', {}) as Promise<UpdateOffer | null>,
    installUpdate: () => invoke('install_update', {}) as Promise<void>,
    setPinned: (on) => invoke('set_pinned', { on }) as Promise<void>,
    painted: (page) => invoke('painted', { page }) as Promise<void>,
  };
}
