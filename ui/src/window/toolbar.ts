// What chooses the list: the search box, the tabs and their counts, the category chips, "show
// unread only", and mark all read (with its Undo).

import { CATEGORIES, TABS, type Tab } from '../backend';
import { h } from '../dom';
import { t } from '../i18n';
import { markAllLabel } from '../view';
import { scopeUnread, type Ctx } from './state';

export class Toolbar {
  private searchTimer = 0;

  constructor(private ctx: Ctx) {}

  /** Wires the controls after the window was laid out again. */
  mount() {
    const { s, root } = this.ctx;
    (root.querySelector('#unread-only') as HTMLInputElement).addEventListener('change', (e) => {
      s.unreadOnly = (e.target as HTMLInputElement).checked;
      void this.ctx.reload();
    });
    root.querySelector('#mark-all')?.addEventListener('click', () => void this.markAll());
    const search = root.querySelector('#search') as HTMLInputElement;
    search.addEventListener('input', () => {
      // Typing is not a query per key: the list follows a pause in it.
      window.clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => {
        s.search = search.value;
        s.selected = 0;
        this.render();
        void this.ctx.reload();
      }, 120);
    });
    (root.querySelector('#search-everywhere') as HTMLInputElement).addEventListener('change', (e) => {
      s.everywhere = (e.target as HTMLInputElement).checked;
      if (s.search.trim()) void this.ctx.reload();
    });
  }

  /** The tabs with their unread counts, the active tab's chips, and the mark-all button. */
  render() {
    const { s, root, lang } = this.ctx;
    const counts = s.counts;
    const tabs = root.querySelector('#tabs');
    tabs?.replaceChildren(
      ...TABS.map((tab, i) => {
        const n = counts?.tabs[tab] ?? 0;
        const b = h('button', {
          role: 'tab', id: `tab-${tab}`, 'aria-selected': String(tab === s.tab),
          'aria-controls': 'list', tabindex: tab === s.tab ? '0' : '-1',
          title: `${t(lang, `tab-${tab}`)} (${i + 1})`,
        }, t(lang, `tab-${tab}`), n ? h('span', { class: 'count', 'aria-label': t(lang, 'unread-count', { count: n }) }, String(n)) : null);
        b.addEventListener('click', () => this.selectTab(tab));
        return b;
      }),
    );
    const chips = root.querySelector('#chips');
    chips?.setAttribute('aria-label', t(lang, 'category-all'));
    chips?.replaceChildren(
      ...[null, ...CATEGORIES[s.tab]].map((c) => {
        const n = c ? counts?.categories[c] ?? 0 : 0;
        const b = h('button', { class: 'chip', 'aria-pressed': String(c === s.category), 'data-category': c ?? 'all' },
          t(lang, c ? `category-${c}` : 'category-all'), n ? h('span', { class: 'count' }, String(n)) : null);
        b.addEventListener('click', () => { s.category = c; this.render(); void this.ctx.reload(); });
        return b;
      }),
    );
    const scopeCount = scopeUnread(s);
    const markAll = root.querySelector('#mark-all') as HTMLButtonElement | null;
    if (markAll) {
      markAll.textContent = scopeCount ? markAllLabel(lang, scopeCount, s.tab, s.category) : t(lang, 'mark-all-read');
      markAll.disabled = scopeCount === 0;
      // Search results are not the scope it would mark.
      markAll.hidden = s.search.trim() !== '';
    }
  }

  selectTab(tab: Tab) {
    const s = this.ctx.s;
    if (tab === s.tab) return;
    s.tab = tab;
    s.category = null;
    s.selected = 0;
    // The tab and its chips answer the click at once; the list follows when its page arrives.
    this.render();
    this.ctx.renderAside();
    void this.ctx.reload();
    (this.ctx.root.querySelector(`#tab-${tab}`) as HTMLElement | null)?.focus();
  }

  /** "Show unread only" switched from the keyboard. */
  toggleUnread() {
    const s = this.ctx.s;
    s.unreadOnly = !s.unreadOnly;
    (this.ctx.root.querySelector('#unread-only') as HTMLInputElement).checked = s.unreadOnly;
    void this.ctx.reload();
  }

  /** NC-R6: the active tab and chip, nothing else; with undo. */
  private async markAll() {
    const { s, backend, snackbar, lang } = this.ctx;
    const result = await backend.markAllRead({ tab: s.tab, category: s.category });
    // Show the result at once rather than when the change event comes round.
    await this.ctx.reload(true);
    if (!result.changed || !result.undo) return;
    const token = result.undo;
    const undoButton = h('button', { class: 'link', id: 'undo' }, t(lang, 'undo'));
    undoButton.addEventListener('click', async () => {
      const undone = await backend.undo(token);
      await this.ctx.reload(true);
      snackbar.hide();
      if (!undone) snackbar.show([h('span', {}, t(lang, 'undo-too-late'))]);
    });
    snackbar.show([h('span', {}, t(lang, 'mark-all-read-done', { count: result.changed })), undoButton]);
  }
}
