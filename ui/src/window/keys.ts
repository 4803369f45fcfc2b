// The window's keyboard shortcuts: 1/2/3 switch tabs, j/k and the arrows move the selection, Enter
// opens the selected item, e marks it read, U (shift+u) marks it unread again, u switches "show
// unread only".

import { TABS, type Tab } from '../backend';

export interface Shortcuts {
  tab(tab: Tab): void;
  move(delta: number): void;
  /** Opens the selected item; false when there is none. */
  open(): boolean;
  markRead(): void;
  markUnread(): void;
  toggleUnread(): void;
}

/** Handles a key pressed anywhere in the window; `list` is the list element (Enter opens only from
 * it or from nowhere in particular, not from a focused button). */
export function onKey(e: KeyboardEvent, list: HTMLElement, on: Shortcuts) {
  const target = e.target as HTMLElement | null;
  // Typing in a field is not a shortcut.
  if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') && (target as HTMLInputElement).type !== 'checkbox') return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  switch (e.key) {
    case '1': case '2': case '3':
      on.tab(TABS[Number(e.key) - 1]);
      break;
    case 'j': case 'ArrowDown':
      on.move(1);
      break;
    case 'k': case 'ArrowUp':
      on.move(-1);
      break;
    case 'Enter':
      if ((target !== document.body && target !== list) || !on.open()) return;
      break;
    case 'e':
      on.markRead();
      break;
    case 'u':
      on.toggleUnread();
      break;
    case 'U':
      on.markUnread();
      break;
    default:
      return;
  }
  e.preventDefault();
}
