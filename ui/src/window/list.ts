// The list: its pages (or what the search finds), the rows drawn for the viewport only (a virtual
// list), the selected row and the actions on a row.

import type { Counts, Cursor, Item, Lang } from '../backend';
import { clockIcon, h } from '../dom';
import { render, t } from '../i18n';
import { highlight, offsets, rows, searchTerms, visible, when, type Row } from '../view';
import { scopeUnread, type Ctx } from './state';

const PAGE = 200;

/** What the list shows: a page of the scope, or of what the search finds (with how many match). */
export interface Listing { items: Item[]; next: Cursor | string | null; total: number | null }

export interface ListEvents {
  /** The row's snooze button was pressed. */
  snooze(item: Item, from: HTMLElement): void;
}

export class List {
  /** The scrolling list (#list); its spacer holds the rows drawn. */
  el!: HTMLDivElement;
  private spacer!: HTMLDivElement;
  private rowsCache: Row[] = [];
  private offs: number[] = [0];
  /** Not laid out since it was mounted: its scroll position and height are not asked for, since
   * asking would lay the window out once before its rows are in and once more with them. */
  private fresh = false;
  /** Until the window's first frame is painted, only the rows it can show are drawn (`painted`). */
  private firstFrame = true;

  constructor(private ctx: Ctx, private on: ListEvents) {}

  /** Takes the list's elements after the window was laid out again. */
  mount() {
    this.el = this.ctx.root.querySelector('#list') as HTMLDivElement;
    this.spacer = this.ctx.root.querySelector('#spacer') as HTMLDivElement;
    this.fresh = true;
    this.el.addEventListener('scroll', () => this.renderRows());
  }

  /** The current scope's first page (or as much as is shown), or what the search finds; and the
   * counts. */
  fetch(keepScroll: boolean): Promise<[Listing, Counts]> {
    const { s, backend } = this.ctx;
    const scope = { tab: s.tab, category: s.category };
    if (s.search.trim()) {
      const found = backend.search(s.search, s.everywhere ? null : scope, s.unreadOnly, null)
        .then((r) => ({ items: r.items, next: r.next, total: r.total }));
      return Promise.all([found, backend.counts()]);
    }
    const want = Math.max(PAGE, keepScroll ? Math.min(s.items.length, 500) : PAGE);
    const page = backend.page(scope, s.unreadOnly, null, want).then((p) => ({ ...p, total: null }));
    return Promise.all([page, backend.counts()]);
  }

  /** The next page, of the list or of the search, as the agent scrolls near the end. */
  private async loadMore() {
    const s = this.ctx.s;
    const next = s.next;
    if (s.loading || !next) return;
    s.loading = true;
    const { search, everywhere } = s;
    const scope = { tab: s.tab, category: s.category };
    const page = typeof next === 'string'
      ? await this.ctx.backend.search(search, everywhere ? null : scope, s.unreadOnly, next)
      : await this.ctx.backend.page(scope, s.unreadOnly, next, PAGE);
    s.loading = false;
    // The agent changed what is listed meanwhile: this page belongs to the old list.
    if (s.next !== next || s.search !== search) return;
    s.items = s.items.concat(page.items);
    s.next = page.next;
    this.render();
  }

  render() {
    const { s, lang } = this.ctx;
    this.rowsCache = rows(s.items, this.ctx.now());
    this.offs = offsets(this.rowsCache);
    this.spacer.style.height = `${this.offs[this.offs.length - 1]}px`;
    const empty = this.ctx.root.querySelector('#empty') as HTMLElement;
    empty.hidden = s.items.length > 0;
    // In the direct CRM mode Inbox can never fill: say why instead of "nothing yet".
    const crmInbox = s.tab === 'inbox' && s.settings?.source === 'crm' && !s.settings.demo;
    const count = this.ctx.root.querySelector('#search-count') as HTMLElement | null;
    if (count) {
      count.hidden = s.searchTotal === null;
      count.textContent = s.searchTotal === null ? '' : t(lang, 'search-results', { count: s.searchTotal });
    }
    empty.textContent = s.search.trim() ? t(lang, 'search-none', { query: s.search.trim() })
      : crmInbox ? t(lang, 'empty-inbox-crm')
      : s.unreadOnly ? t(lang, 'empty-unread') : s.category ? t(lang, 'empty-filter') : t(lang, 'empty-tab');
    this.renderRows();
  }

  /** The window's first frame is painted: the rows either side of those in view, for scrolling. */
  painted() {
    if (!this.firstFrame) return;
    this.firstFrame = false;
    this.renderRows();
  }

  /** Draws the rows in view, and a few either side for scrolling. */
  private renderRows() {
    // Freshly mounted, the list is at its top and no taller than the window.
    const [top, height] = this.fresh ? [0, window.innerHeight] : [this.el.scrollTop, this.el.clientHeight || 400];
    this.fresh = false;
    const [from, to] = visible(this.offs, top, height, this.firstFrame ? 0 : undefined);
    const lang = this.ctx.lang;
    const now = this.ctx.now();
    const nodes: HTMLElement[] = [];
    let itemIndex = this.rowsCache.slice(0, from).filter((r) => r.kind === 'item').length;
    const setSize = this.setSize();
    // Items between two headings go in one list (unpositioned: rows stay placed by the spacer).
    let run: HTMLElement | null = null;
    for (let r = from; r < to; r++) {
      const row = this.rowsCache[r];
      let el: HTMLElement;
      if (row.kind === 'header') {
        el = h('div', { class: 'section', role: 'heading', 'aria-level': '2' }, t(lang, `section-${row.section}`));
        nodes.push(el);
        run = null;
      } else {
        el = this.itemRow(row.item, itemIndex, setSize, lang, now);
        itemIndex++;
        if (!run) {
          run = h('div', { role: 'list' });
          nodes.push(run);
        }
        run.append(el);
      }
      el.style.top = `${this.offs[r]}px`;
    }
    this.spacer.replaceChildren(...nodes);
    const last = this.offs[this.offs.length - 1];
    if (this.ctx.s.next && top + height > last - 1500) void this.loadMore();
  }

  /** aria-setsize of the rows: only some are drawn. The whole list when it is loaded, the scope's
   * unread count when only unread items are listed, else -1 (unknown: more pages may come). */
  private setSize(): number {
    const s = this.ctx.s;
    if (!s.next) return s.items.length;
    if (s.searchTotal !== null) return s.searchTotal;
    const unread = scopeUnread(s);
    return s.unreadOnly && unread >= s.items.length ? unread : -1;
  }

  private itemRow(item: Item, index: number, setSize: number, lang: Lang, now: Date): HTMLElement {
    const { s, backend } = this.ctx;
    const text = render(lang, item);
    const time = when(item.created_at, now, lang);
    const unread = !item.read_at;
    const selected = index === s.selected;
    const why = s.expandedWhy === item.id ? s.why.get(item.id) ?? '…' : null;
    const row = h('div', {
      class: `item${unread ? ' unread' : ''}${selected ? ' selected' : ''}`, role: 'listitem',
      id: `item-${index}`, 'data-id': item.id, 'aria-current': selected ? 'true' : undefined,
      'aria-setsize': String(setSize), 'aria-posinset': String(index + 1),
    },
      // Named by its content, so the name holds the visible text (WCAG 2.5.3).
      h('button', { class: 'open' },
        unread ? h('span', { class: 'sr-only' }, `${t(lang, 'unread-count', { count: 1 })}: `) : null,
        h('span', { class: 'dot', 'aria-hidden': 'true' }),
        h('span', { class: 'text' }, ...this.marked(text)),
        h('span', { class: 'time' }, time),
      ),
      h('div', { class: 'actions' },
        unread ? h('button', { class: 'icon mark', 'aria-label': t(lang, 'mark-read'), title: t(lang, 'mark-read') }, '✓') : null,
        unread ? h('button', { class: 'icon snooze', 'aria-label': t(lang, 'snooze'), title: t(lang, 'snooze'), 'aria-haspopup': 'dialog' }, clockIcon()) : null,
        // ORG-7: back to unread, to come back to it later (synced to every device).
        unread ? null : h('button', { class: 'icon unmark', 'aria-label': t(lang, 'mark-unread'), title: t(lang, 'mark-unread') }, '●'),
        h('button', { class: 'icon why', 'aria-label': t(lang, 'why-label'), title: t(lang, 'why-label'), 'aria-expanded': String(why !== null) }, '?'),
      ),
      why !== null ? h('div', { class: 'why-text' }, why) : null,
    );
    row.querySelector('.open')?.addEventListener('click', () => {
      s.selected = index;
      this.act(backend.openItem(item.id), item);
    });
    row.querySelector('.mark')?.addEventListener('click', (e) => {
      e.stopPropagation();
      this.act(backend.markRead(item.id));
    });
    row.querySelector('.unmark')?.addEventListener('click', (e) => {
      e.stopPropagation();
      this.act(backend.markUnread(item.id));
    });
    row.querySelector('.snooze')?.addEventListener('click', (e) => {
      e.stopPropagation();
      this.on.snooze(item, e.currentTarget as HTMLElement);
    });
    row.querySelector('.why')?.addEventListener('click', (e) => { e.stopPropagation(); void this.toggleWhy(item.id); });
    return row;
  }

  /** The text with the search's matches marked (as text: nothing from data becomes markup). */
  private marked(text: string): Array<Node | string> {
    const terms = searchTerms(this.ctx.s.search);
    if (!terms.words.length) return [text];
    return highlight(text, terms).map((p) => (p.hit ? h('mark', {}, p.text) : p.text));
  }

  private async toggleWhy(id: string) {
    const s = this.ctx.s;
    if (s.expandedWhy === id) {
      s.expandedWhy = null;
    } else {
      const reason = await this.ctx.backend.why(id);
      s.why.set(id, t(this.ctx.lang, reason ? `why-${reason.replace(/_/g, '-')}` : 'why-unknown'));
      s.expandedWhy = id;
    }
    this.renderRows();
  }

  /** An action on an item: the list shows its outcome, and a refusal is said (a link that is not a
   * Qontak page is not opened, yet the item is read). */
  private act(done: Promise<void>, item?: Item) {
    void done.catch((e: unknown) => this.ctx.snackbar.notice(e, item)).finally(() => this.ctx.reload(true));
  }

  /** Moves the selection by `delta` rows, keeping the selected row in view. */
  move(delta: number) {
    const s = this.ctx.s;
    if (!s.items.length) return;
    s.selected = Math.max(0, Math.min(s.items.length - 1, s.selected + delta));
    this.scrollToSelected();
    this.renderRows();
  }

  private get selectedItem(): Item | undefined {
    return this.ctx.s.items[this.ctx.s.selected];
  }

  /** Opens the selected item; false when there is none. */
  openSelected(): boolean {
    const item = this.selectedItem;
    if (item) this.act(this.ctx.backend.openItem(item.id), item);
    return item !== undefined;
  }

  markSelectedRead() {
    const item = this.selectedItem;
    if (item) this.act(this.ctx.backend.markRead(item.id));
  }

  markSelectedUnread() {
    const item = this.selectedItem;
    if (item) this.act(this.ctx.backend.markUnread(item.id));
  }

  private scrollToSelected() {
    let seen = -1;
    for (let r = 0; r < this.rowsCache.length; r++) {
      if (this.rowsCache[r].kind === 'item' && ++seen === this.ctx.s.selected) {
        const top = this.offs[r];
        const bottom = this.offs[r + 1];
        if (top < this.el.scrollTop) this.el.scrollTop = top;
        else if (bottom > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = bottom - this.el.clientHeight;
        return;
      }
    }
  }
}
