// The bell window's shared state, and what every part of the window is given. The parts never call
// each other: what only the whole window can do (reload the list, draw what sits beside it) they ask
// of it through the context.

import type { Backend, Category, Counts, Cursor, Item, Lang, Quiet, Settings, SnoozedItem, Status, Tab } from '../backend';
import type { Snackbar } from './snackbar';

export interface State {
  tab: Tab;
  category: Category | null;
  unreadOnly: boolean;
  items: Item[];
  /** Where the list goes on: a page's cursor, or a search's (a string); null at the end. */
  next: Cursor | string | null;
  /** How many items the search matches in all (null while not searching). */
  searchTotal: number | null;
  loading: boolean;
  counts: Counts | null;
  status: Status | null;
  settings: Settings | null;
  selected: number;
  expandedWhy: string | null;
  why: Map<string, string>;
  showSettings: boolean;
  /** The search box's text: while not empty, the list shows what it finds. */
  search: string;
  /** Search every tab rather than the active tab and chip. */
  everywhere: boolean;
  /** The "Snoozed" view is shown instead of the list. */
  showSnoozed: boolean;
  snoozed: SnoozedItem[];
  gaps: Tab[];
  quiet: Quiet | null;
  /** The window stays open when it loses focus. */
  pinned: boolean;
}

export function initialState(): State {
  return {
    tab: 'general', category: null, unreadOnly: false, items: [], next: null, searchTotal: null, loading: false,
    counts: null, status: null, settings: null, selected: 0, expandedWhy: null, why: new Map(),
    showSettings: false, search: '', everywhere: false, showSnoozed: false, snoozed: [], gaps: [], quiet: null,
    pinned: false,
  };
}

export interface Ctx {
  readonly s: State;
  /** Where the window draws; the parts find their elements in it by id. */
  readonly root: HTMLElement;
  readonly backend: Backend;
  readonly now: () => Date;
  /** The agent's language (English until the settings have come). */
  readonly lang: Lang;
  readonly snackbar: Snackbar;
  /** The list (or the search) and the counts fetched again, and everything drawn from them. */
  reload(keepScroll?: boolean): Promise<void>;
  /** What sits beside the list fetched again (snoozed items, gaps, quiet hours), and drawn. */
  refreshAside(): Promise<void>;
  /** What sits beside the list drawn again: the Snoozed view, the tab's gap marker, quiet hours. */
  renderAside(): void;
}

/** Unread items in the active tab and chip. */
export function scopeUnread(s: State): number {
  return s.category ? s.counts?.categories[s.category] ?? 0 : s.counts?.tabs[s.tab] ?? 0;
}
