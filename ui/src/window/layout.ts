// The bell window's frame: every region the parts draw into, empty, in its place. The parts find
// them by id and wire their own controls.

import type { Lang } from '../backend';
import { h, pinIcon } from '../dom';
import { t } from '../i18n';
import type { State } from './state';

export function layout(s: State, lang: Lang): HTMLElement[] {
  return [
    // The window has no frame (a tray flyout): its header moves it.
    h('header', { class: 'top', 'data-tauri-drag-region': true },
      h('h1', { 'data-tauri-drag-region': true }, t(lang, 'bell-title')),
      h('span', { class: 'status', id: 'status', role: 'status', 'aria-live': 'polite' }),
      h('button', { class: 'icon', id: 'pin', 'aria-label': t(lang, 'pin-window'), title: t(lang, 'pin-window'), 'aria-pressed': String(s.pinned) }, pinIcon()),
      h('button', { class: 'icon', id: 'open-settings', 'aria-label': t(lang, 'tray-settings'), title: t(lang, 'tray-settings') }, '⚙'),
    ),
    h('div', { class: 'banner', id: 'banner', role: 'note', hidden: true }),
    h('div', { class: 'banner update', id: 'update', role: 'note', hidden: true }),
    h('div', { class: 'banner quiet', id: 'quiet', role: 'note', hidden: true }),
    h('div', { class: 'search' },
      h('input', {
        type: 'search', id: 'search', value: s.search, placeholder: t(lang, 'search-placeholder'),
        'aria-label': t(lang, 'search-label'), autocomplete: 'off', spellcheck: 'false',
      }),
      h('label', { class: 'toggle' },
        h('input', { type: 'checkbox', id: 'search-everywhere', checked: s.everywhere }),
        t(lang, 'search-everywhere'),
      ),
      // How many match: the list shows the newest first and more as the agent scrolls.
      h('span', { class: 'search-count', id: 'search-count', role: 'status', 'aria-live': 'polite', hidden: true }),
    ),
    h('div', { class: 'tabs', role: 'tablist', id: 'tabs', 'aria-label': t(lang, 'bell-title') }),
    h('div', { class: 'chips', role: 'group', id: 'chips' }),
    h('div', { class: 'toolbar' },
      // NC-R9: "show unread only", on every tab.
      h('label', { class: 'toggle' },
        h('input', { type: 'checkbox', id: 'unread-only', checked: s.unreadOnly }),
        t(lang, 'show-unread-only'),
      ),
      h('button', { id: 'snoozed-toggle', class: 'link', 'aria-pressed': String(s.showSnoozed), 'aria-controls': 'snoozed' }),
      h('button', { id: 'mark-all', class: 'link' }),
    ),
    // NC-R5: the tab may have lost items while the agent was away.
    h('div', { class: 'banner gap', id: 'gap', role: 'note', hidden: true }),
    // A region, not a list: the section headings sit between the lists of items (a list may hold
    // only list items).
    h('div', { class: 'list', id: 'list', role: 'region', tabindex: '0', 'aria-label': t(lang, 'bell-title') },
      h('div', { class: 'spacer', id: 'spacer' }),
    ),
    // Screen readers: new items and unread counts, said once (the rows in view are not all there is).
    h('div', { class: 'sr-only', id: 'announce', role: 'status', 'aria-live': 'polite' }),
    h('section', { class: 'snoozed', id: 'snoozed', hidden: !s.showSnoozed, 'aria-label': t(lang, 'snoozed-view') }),
    h('div', { class: 'empty', id: 'empty', hidden: true }),
    h('div', { class: 'snooze-menu', id: 'snooze-menu', role: 'dialog', 'aria-label': t(lang, 'snooze'), hidden: true }),
    h('div', { class: 'quarantine', id: 'quarantine', hidden: true }),
    h('div', { class: 'snackbar', id: 'snackbar', role: 'status', 'aria-live': 'polite', hidden: true }),
    h('section', { class: 'settings', id: 'settings', hidden: !s.showSettings, 'aria-label': t(lang, 'tray-settings') }),
  ];
}
