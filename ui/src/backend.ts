// The bell window reaches the rest of Lonceng only through this interface. The desktop app
// implements it over Tauri IPC (tauri-backend.ts); the web mock (mock-backend.ts) implements it in
// memory, so the window runs and is tested in a plain browser. Both follow one behaviour contract
// (tests/contract/backend.json), which the real runtime runs too.
//
// The data types, the tabs, the categories and the kind → message map are generated from the Rust
// types (generated/contract.ts): nothing here restates them.

import type {
  BackendEvent, Counts, Cursor, DoctorReport, MarkAllResult, Page, Quarantine, Quiet, Reason, Scope, SearchResult, Settings,
  SettingsChanges, SnoozedItem, SnoozeTimes, Status, Tab, UpdateOffer,
} from './generated/contract';

export type * from './generated/contract';
export { BACKEND_EVENTS, CATEGORIES, KIND_MESSAGES, TABS, UNDO_WINDOW_MS } from './generated/contract';

/** What a command rejects with: the one IPC error of the runtime (`AppError`). */
export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export interface Backend {
  page(scope: Scope, unreadOnly: boolean, after: Cursor | null, limit: number): Promise<Page>;
  counts(): Promise<Counts>;
  status(): Promise<Status>;
  /** NC-R8. */
  markRead(id: string): Promise<void>;
  /** NC-R7: opens the related page (only a Qontak page) and marks the item read. */
  open(id: string): Promise<void>;
  /** NC-R6: exactly the active tab and category filter. */
  markAllRead(scope: Scope): Promise<MarkAllResult>;
  /** Takes a mark-all back within a few seconds; false when it is too late. */
  undo(token: string): Promise<boolean>;
  /** Snoozes an unread item until `until` (ISO, UTC): it leaves the lists and comes back then,
   * unread, with a fresh toast. False when the item was read already. */
  snooze(id: string, until: string): Promise<boolean>;
  /** Brings a snoozed item back now. */
  unsnooze(id: string): Promise<boolean>;
  /** The "Snoozed" view: what waits, soonest first. */
  snoozed(): Promise<SnoozedItem[]>;
  /** The snooze menu's times, where the agent is. */
  snoozeTimes(): Promise<SnoozeTimes>;
  /** Searches the history, within `scope` or everywhere (null), newest first. */
  search(text: string, scope: Scope | null, unreadOnly: boolean): Promise<SearchResult>;
  /** Tabs that may have lost items while the agent was away (NC-R5), until dismissed. */
  gaps(): Promise<Tab[]>;
  dismissGap(tab: Tab): Promise<void>;
  /** Whether toasts are held now (quiet hours, a pause), and until when. */
  quiet(): Promise<Quiet | null>;
  /** Ends a pause, or the quiet hours running now. */
  resume(): Promise<void>;
  /** "Why no toast?" for an item this run has seen. */
  why(id: string): Promise<Reason | null>;
  /** Why notifications could not be shown (the count is in `counts()`). */
  quarantine(): Promise<Quarantine>;
  settings(): Promise<Settings>;
  saveSettings(changes: SettingsChanges): Promise<Settings>;
  /** Settings → Diagnose: `lonceng doctor`'s report, rendered in the agent's language. */
  diagnose(): Promise<DoctorReport>;
  /** A signed update found at the organisation's manifest, if any. */
  updateOffer(): Promise<UpdateOffer | null>;
  /** The agent's consent: installs the offered update (the app restarts into it). */
  installUpdate(): Promise<void>;
  /** The list is on screen, after the page's first load or after a reopen (the shell measures the
   * time from tray click to here). */
  painted(firstLoad: boolean): void;
  /** Keeps the window open when it loses focus. */
  setPinned(on: boolean): Promise<void>;
  subscribe(listener: (e: BackendEvent) => void): () => void;
}
