// The bell window reaches the rest of Lonceng only through this interface. The desktop app
// implements it over Tauri IPC (tauri-backend.ts); the web mock (mock-backend.ts) implements it in
// memory, so the window runs and is tested in a plain browser.

export type Tab = 'general' | 'inbox' | 'approval';
export type Category =
  | 'reminder' | 'mention' | 'assignment' | 'update' | 'download_upload'
  | 'chat_assignment' | 'resolved' | 'blocked_contact'
  | 'deals' | 'expenses';
export type Lang = 'en' | 'id';
export type Reason = 'toasted' | 'chat_focused' | 'muted' | 'paused' | 'already_read' | 'late';

export const TABS: Tab[] = ['general', 'inbox', 'approval'];
export const CATEGORIES: Record<Tab, Category[]> = {
  general: ['reminder', 'mention', 'assignment', 'update', 'download_upload'],
  inbox: ['chat_assignment', 'resolved', 'blocked_contact'],
  approval: ['deals', 'expenses'],
};

/** A notification as stored: kind + parameters, rendered in the window's language. */
export interface Item {
  id: string;
  tab: Tab;
  category: Category;
  kind: string;
  params: Record<string, string | number>;
  url: string;
  /** RFC 3339, UTC. */
  created_at: string;
  read_at: string | null;
}

export interface Cursor {
  created_at: string;
  id: string;
}

export interface Page {
  items: Item[];
  next: Cursor | null;
}

export interface Counts {
  total: number;
  tabs: Record<Tab, number>;
  categories: Record<Category, number>;
}

export interface Scope {
  tab: Tab;
  category: Category | null;
}

export interface MaintenanceWindow {
  id: number;
  starts_at: string;
  ends_at: string;
  message: string;
}

export interface MaintenanceStatus {
  active: boolean;
  until: string | null;
  windows: MaintenanceWindow[];
}

export type ConnState =
  | { state: 'connecting' }
  | { state: 'connected'; streaming: boolean }
  | { state: 'reconnecting'; next_attempt_at: string }
  | { state: 'maintenance'; until: string | null; next_attempt_at: string }
  | { state: 'offline'; reason: string; next_attempt_at: string };

export interface Status {
  state: ConnState;
  last_synced_at: string | null;
  maintenance: MaintenanceStatus | null;
}

export interface Settings {
  lang: Lang;
  muted: Category[];
  mute_chat: boolean;
  paused_until: string | null;
  /** The Lonceng server, or empty in demo mode. */
  server_url: string;
  /** Whether a sign-in token is stored (it is never sent to the window). */
  has_token: boolean;
  /** Where the token is kept: the OS keyring, or a file when no keyring service runs. */
  token_store: 'keyring' | 'file' | 'none';
  chat_window_patterns: string[];
  autostart: boolean;
  demo: boolean;
}

export interface MarkAllResult {
  changed: number;
  /** Pass to undo() within a few seconds to take it back; null when nothing changed. */
  undo: string | null;
}

export type BackendEvent = 'changed' | 'status' | 'settings' | 'open-settings' | 'shown';

export interface Backend {
  page(scope: Scope, unreadOnly: boolean, after: Cursor | null, limit: number): Promise<Page>;
  counts(): Promise<Counts>;
  status(): Promise<Status>;
  /** NC-R8. */
  markRead(id: string): Promise<void>;
  /** NC-R7: opens the related page and marks the item read. */
  open(id: string): Promise<void>;
  /** NC-R6: exactly the active tab and category filter. */
  markAllRead(scope: Scope): Promise<MarkAllResult>;
  undo(token: string): Promise<void>;
  /** "Why no toast?" for an item this run has seen. */
  why(id: string): Promise<Reason | null>;
  settings(): Promise<Settings>;
  saveSettings(changes: Partial<Settings> & { token?: string }): Promise<Settings>;
  /** The list is on screen, after the page's first load or after a reopen (the shell measures the
   * time from tray click to here). */
  painted(firstLoad: boolean): void;
  /** Keeps the window open when it loses focus. */
  setPinned(on: boolean): Promise<void>;
  subscribe(listener: (e: BackendEvent) => void): () => void;
}
