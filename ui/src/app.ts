// The bell window. Every string that comes from a notification is set with textContent: rendered
// text is data and never becomes markup (and the CSP forbids inline script and style anyway).

import {
  CATEGORIES, TABS, UNDO_WINDOW_MS, errorMessage,
  type AppError, type Backend, type Category, type Counts, type Cursor, type Item, type Lang, type Page, type Quiet, type Settings,
  type SnoozedItem, type Status, type Tab, type UpdateOffer,
} from './backend';
import { clockIcon, h, pinIcon } from './dom';
import { render, t } from './i18n';
import { renderSettingsPanel } from './settings-panel';
import { clock, dateTime, highlight, markAllLabel, offsets, rows, searchTerms, visible, when, type Row } from './view';

const PAGE = 200;

// The Undo bar stays exactly as long as the store keeps the mark-all back (one constant, from
// Rust); a click that arrives too late is told so.
const UNDO_MS = UNDO_WINDOW_MS;

interface State {
  tab: Tab;
  category: Category | null;
  unreadOnly: boolean;
  items: Item[];
  next: Cursor | null;
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
}

export class BellWindow {
  private s: State = {
    tab: 'general', category: null, unreadOnly: false, items: [], next: null, loading: false,
    counts: null, status: null, settings: null, selected: 0, expandedWhy: null, why: new Map(),
    showSettings: false, search: '', everywhere: false, showSnoozed: false, snoozed: [], gaps: [], quiet: null,
  };
  private searchTimer = 0;
  private list!: HTMLDivElement;
  private spacer!: HTMLDivElement;
  private rowsCache: Row[] = [];
  private offs: number[] = [0];
  private refreshTimer = 0;
  private pinned = false;
  private snackTimer = 0;

  constructor(private root: HTMLElement, private backend: Backend, private now: () => Date = () => new Date()) {}

  private get lang(): Lang {
    return this.s.settings?.lang ?? 'en';
  }

  async start(): Promise<void> {
    // Everything the first paint needs is asked for at once: the backend answers while the window
    // lays itself out (the first layout of a fresh web process is the slow part).
    const first = this.fetch(false);
    const [settings, status] = await Promise.all([this.backend.settings(), this.backend.status()]);
    this.s.settings = settings;
    this.s.status = status;
    this.backend.subscribe((e) => {
      if (e === 'changed') this.scheduleRefresh();
      if (e === 'open-settings' && !this.s.showSettings) this.toggleSettings();
      // Shown again while it lingered hidden: the list is current (changes kept arriving).
      if (e === 'shown') this.reportPainted(false);
      if (e === 'update') void this.refreshUpdate();
      if (e === 'status') void this.backend.status().then((st) => { this.s.status = st; this.renderChrome(); });
      if (e === 'settings') {
        void this.refreshAside();
        void this.backend.settings().then((st) => {
          const reshape = st.lang !== this.s.settings?.lang || st.demo !== this.s.settings?.demo;
          this.s.settings = st;
          // A new language re-renders everything at once (NC-R11), as does leaving demo mode (it
          // enables fields). Other changes must not wipe what the agent is typing in an open form.
          if (reshape || !this.s.showSettings) this.renderAll();
          else { this.renderChrome(); this.renderList(); }
        });
      }
    });
    document.addEventListener('keydown', (e) => this.onKey(e));
    this.renderAll();
    void this.refreshUpdate();
        await this.reload(false, first, false);
    this.reportPainted(true);
    // What sits beside the list waits for the list: the first paint is what the click waits on.
    void this.refreshAside();
  }

  /** Tells the backend once the list is on screen: the frame after the next has drawn it. */
  private reportPainted(firstLoad: boolean) {
    requestAnimationFrame(() => requestAnimationFrame(() => this.backend.painted(firstLoad)));
  }

  /** Bursts of changes (a catch-up after an outage) become one refresh. */
  private scheduleRefresh() {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => void this.reload(true), 80);
  }

  /** The current scope's first page (or as much as is shown), or what the search finds; and the
   * counts. */
  private fetch(keepScroll: boolean): Promise<[Page, Counts]> {
    const scope = { tab: this.s.tab, category: this.s.category };
    if (this.s.search.trim()) {
      const found = this.backend.search(this.s.search, this.s.everywhere ? null : scope, this.s.unreadOnly)
        .then((r) => ({ items: r.items, next: null }));
      return Promise.all([found, this.backend.counts()]);
    }
    const want = Math.max(PAGE, keepScroll ? Math.min(this.s.items.length, 500) : PAGE);
    return Promise.all([this.backend.page(scope, this.s.unreadOnly, null, want), this.backend.counts()]);
  }

    private async reload(keepScroll = false, fetched = this.fetch(keepScroll), aside = true) {
    const scope = { tab: this.s.tab, category: this.s.category, search: this.s.search, everywhere: this.s.everywhere };
    if (aside) void this.refreshAside();
    const [page, counts] = await fetched;
    // A newer request may have changed the scope (or the search) meanwhile.
    if (scope.tab !== this.s.tab || scope.category !== this.s.category || scope.search !== this.s.search
      || scope.everywhere !== this.s.everywhere) return;
    this.s.items = page.items;
    this.s.next = page.next;
    this.s.counts = counts;
    this.s.selected = Math.min(this.s.selected, Math.max(0, this.s.items.length - 1));
    if (!keepScroll && this.list) this.list.scrollTop = 0;
    this.announce();
    this.renderChrome();
    this.renderUpdate();
    this.renderList();
  }

  /** What sits beside the list: the snoozed items, the tabs' gap markers, quiet hours. */
  private async refreshAside() {
    const [snoozed, gaps, quiet] = await Promise.all([
      this.backend.snoozed().catch(() => this.s.snoozed),
      this.backend.gaps().catch(() => this.s.gaps),
      this.backend.quiet().catch(() => this.s.quiet),
    ]);
    Object.assign(this.s, { snoozed, gaps, quiet });
    this.renderAside();
  }

  private async loadMore() {
    if (this.s.loading || !this.s.next) return;
    this.s.loading = true;
    const page = await this.backend.page({ tab: this.s.tab, category: this.s.category }, this.s.unreadOnly, this.s.next, PAGE);
    this.s.loading = false;
    this.s.items = this.s.items.concat(page.items);
    this.s.next = page.next;
    this.renderList();
  }

  // ---- rendering ----

  private renderAll() {
    const lang = this.lang;
    document.documentElement.lang = lang;
    this.root.replaceChildren(
      // The window has no frame (a tray flyout): its header moves it.
      h('header', { class: 'top', 'data-tauri-drag-region': true },
        h('h1', { 'data-tauri-drag-region': true }, t(lang, 'bell-title')),
        h('span', { class: 'status', id: 'status', role: 'status', 'aria-live': 'polite' }),
        h('button', { class: 'icon', id: 'pin', 'aria-label': t(lang, 'pin-window'), title: t(lang, 'pin-window'), 'aria-pressed': String(this.pinned) }, pinIcon()),
        h('button', { class: 'icon', id: 'open-settings', 'aria-label': t(lang, 'tray-settings'), title: t(lang, 'tray-settings') }, '⚙'),
      ),
      h('div', { class: 'banner', id: 'banner', role: 'note', hidden: true }),
      h('div', { class: 'banner update', id: 'update', role: 'note', hidden: true }),
      h('div', { class: 'banner quiet', id: 'quiet', role: 'note', hidden: true }),
      h('div', { class: 'search' },
        h('input', {
          type: 'search', id: 'search', value: this.s.search, placeholder: t(lang, 'search-placeholder'),
          'aria-label': t(lang, 'search-label'), autocomplete: 'off', spellcheck: 'false',
        }),
        h('label', { class: 'toggle' },
          h('input', { type: 'checkbox', id: 'search-everywhere', checked: this.s.everywhere }),
          t(lang, 'search-everywhere'),
        ),
      ),
      h('div', { class: 'tabs', role: 'tablist', id: 'tabs', 'aria-label': t(lang, 'bell-title') }),
      h('div', { class: 'chips', role: 'group', id: 'chips' }),
      h('div', { class: 'toolbar' },
        // NC-R9: "show unread only", on every tab.
        h('label', { class: 'toggle' },
          h('input', { type: 'checkbox', id: 'unread-only', checked: this.s.unreadOnly }),
          t(lang, 'show-unread-only'),
        ),
        h('button', { id: 'snoozed-toggle', class: 'link', 'aria-pressed': String(this.s.showSnoozed), 'aria-controls': 'snoozed' }),
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
      h('section', { class: 'snoozed', id: 'snoozed', hidden: !this.s.showSnoozed, 'aria-label': t(lang, 'snoozed-view') }),
      h('div', { class: 'empty', id: 'empty', hidden: true }),
      h('div', { class: 'snooze-menu', id: 'snooze-menu', role: 'dialog', 'aria-label': t(lang, 'snooze'), hidden: true }),
      h('div', { class: 'quarantine', id: 'quarantine', hidden: true }),
      h('div', { class: 'snackbar', id: 'snackbar', role: 'status', 'aria-live': 'polite', hidden: true }),
      h('section', { class: 'settings', id: 'settings', hidden: !this.s.showSettings, 'aria-label': t(lang, 'tray-settings') }),
    );
    this.list = this.root.querySelector('#list') as HTMLDivElement;
    this.spacer = this.root.querySelector('#spacer') as HTMLDivElement;
    this.list.addEventListener('scroll', () => this.renderRows());
    (this.root.querySelector('#unread-only') as HTMLInputElement).addEventListener('change', (e) => {
      this.s.unreadOnly = (e.target as HTMLInputElement).checked;
      void this.reload();
    });
    this.root.querySelector('#mark-all')?.addEventListener('click', () => void this.markAll());
    const search = this.root.querySelector('#search') as HTMLInputElement;
    search.addEventListener('input', () => {
      // Typing is not a query per key: the list follows a pause in it.
      window.clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => {
        this.s.search = search.value;
        this.s.selected = 0;
        this.renderChrome();
        void this.reload();
      }, 120);
    });
    (this.root.querySelector('#search-everywhere') as HTMLInputElement).addEventListener('change', (e) => {
      this.s.everywhere = (e.target as HTMLInputElement).checked;
      if (this.s.search.trim()) void this.reload();
    });
    this.root.querySelector('#snoozed-toggle')?.addEventListener('click', () => {
      this.s.showSnoozed = !this.s.showSnoozed;
      this.renderAside();
    });
    this.root.querySelector('#open-settings')?.addEventListener('click', () => this.toggleSettings());
    this.root.querySelector('#pin')?.addEventListener('click', (e) => {
      this.pinned = !this.pinned;
      (e.currentTarget as HTMLElement).setAttribute('aria-pressed', String(this.pinned));
      void this.backend.setPinned(this.pinned);
    });
    this.renderChrome();
    this.renderList();
    this.renderAside();
    // The form is built when opened: the first paint of the list does not wait for it.
    if (this.s.showSettings) this.renderSettings();
  }

  /** What could not be shown, said quietly, with the reasons one click away. */
  private renderQuarantine() {
    const el = this.root.querySelector('#quarantine') as HTMLElement | null;
    const n = this.s.counts?.quarantined ?? 0;
    // Drawn again only when it changes (or the language does): an open list of reasons stays open.
    const drawn = `${n}|${this.lang}`;
    if (!el || el.dataset.drawn === drawn) return;
    el.dataset.drawn = drawn;
    el.hidden = n === 0;
    if (!n) return;
    const lang = this.lang;
    const reasons = h('ul', { class: 'reasons', id: 'quarantine-reasons', hidden: true });
    const why = h('button', { class: 'link', id: 'quarantine-why', 'aria-expanded': 'false' }, t(lang, 'quarantined-why'));
    why.addEventListener('click', async () => {
      const open = reasons.hidden;
      why.setAttribute('aria-expanded', String(open));
      reasons.hidden = !open;
      if (open) {
        const q = await this.backend.quarantine();
        reasons.replaceChildren(...q.latest.map((r) => h('li', {}, `${dateTime(lang, r.received_at)} · ${r.reason}`)));
      }
    });
    el.replaceChildren(h('span', {}, t(lang, 'quarantined-count', { count: n })), ' ', why, reasons);
  }

  private update: UpdateOffer | null = null;

  private async refreshUpdate() {
    this.update = await this.backend.updateOffer().catch(() => null);
    this.renderUpdate();
  }

  /** A signed update on offer: installed only when the agent presses the button. */
  private renderUpdate() {
    const el = this.root.querySelector('#update') as HTMLElement | null;
    if (!el) return;
    const u = this.update;
    el.hidden = !u;
    if (!u) { el.replaceChildren(); return; }
    const lang = this.lang;
    const button = h('button', { id: 'install-update', class: 'link' }, t(lang, 'update-install'));
    button.addEventListener('click', () => {
      (button as HTMLButtonElement).disabled = true;
      void this.backend.installUpdate().catch((e: unknown) => { (button as HTMLButtonElement).disabled = false; this.notice(e); });
    });
    el.replaceChildren(
      h('span', {}, t(lang, 'update-available', { version: u.version })),
      ...(u.error ? [h('small', { class: 'update-error' }, t(lang, 'update-failed', { error: u.error }))] : []),
      button,
    );
  }

  private renderChrome() {
    const lang = this.lang;
    const counts = this.s.counts;
    this.renderQuarantine();
    const tabs = this.root.querySelector('#tabs');
    tabs?.replaceChildren(
      ...TABS.map((tab, i) => {
        const n = counts?.tabs[tab] ?? 0;
        const b = h('button', {
          role: 'tab', id: `tab-${tab}`, 'aria-selected': String(tab === this.s.tab),
          'aria-controls': 'list', tabindex: tab === this.s.tab ? '0' : '-1',
          title: `${t(lang, `tab-${tab}`)} (${i + 1})`,
        }, t(lang, `tab-${tab}`), n ? h('span', { class: 'count', 'aria-label': t(lang, 'unread-count', { count: n }) }, String(n)) : null);
        b.addEventListener('click', () => this.selectTab(tab));
        return b;
      }),
    );
    const chips = this.root.querySelector('#chips');
    chips?.setAttribute('aria-label', t(lang, 'category-all'));
    chips?.replaceChildren(
      ...[null, ...CATEGORIES[this.s.tab]].map((c) => {
        const n = c ? counts?.categories[c] ?? 0 : 0;
        const b = h('button', { class: 'chip', 'aria-pressed': String(c === this.s.category), 'data-category': c ?? 'all' },
          t(lang, c ? `category-${c}` : 'category-all'), n ? h('span', { class: 'count' }, String(n)) : null);
        b.addEventListener('click', () => { this.s.category = c; this.renderChrome(); void this.reload(); });
        return b;
      }),
    );
    const scopeCount = this.scopeUnread();
    const markAll = this.root.querySelector('#mark-all') as HTMLButtonElement | null;
    if (markAll) {
      markAll.textContent = scopeCount ? markAllLabel(lang, scopeCount, this.s.tab, this.s.category) : t(lang, 'mark-all-read');
      markAll.disabled = scopeCount === 0;
      // Search results are not the scope it would mark.
      markAll.hidden = this.s.search.trim() !== '';
    }
    this.renderStatus();
  }

  /** Unread items in the active tab and chip. */
  private scopeUnread(): number {
    const counts = this.s.counts;
    return this.s.category ? counts?.categories[this.s.category] ?? 0 : counts?.tabs[this.s.tab] ?? 0;
  }

  /** What the live region last reported from: the unread total, and the newest item of the scope. */
  private heard: { total: number; scope: string; newest: Item | undefined } | null = null;

  /** Says what a refresh brought: new unread items of the list in view, else a changed unread total.
   * Quiet on the first load, on scope changes (the list in view is not news) and on redraws. */
  private announce() {
    const counts = this.s.counts;
    const el = this.root.querySelector('#announce');
    if (!counts || !el) return;
        // What is listed: a search (in a tab or in all) is another list, not news.
    const scope = `${this.s.tab}|${this.s.category}|${this.s.unreadOnly}|${this.s.search}|${this.s.everywhere}`;
    const before = this.heard;
    const same = before?.scope === scope;
    const last = same ? before.newest : undefined;
    const newer = (i: Item) => !last || i.created_at > last.created_at || (i.created_at === last.created_at && i.id > last.id);
    // The newest item seen only moves forward: items coming back (an undo) are not new.
    const top = this.s.items[0];
    this.heard = { total: counts.total, scope, newest: top && newer(top) ? top : last };
    if (!before) return;
    const fresh = same ? this.s.items.filter((i) => !i.read_at && newer(i)).length : 0;
    const lang = this.lang;
    if (fresh) el.textContent = t(lang, 'sr-new-notifications', { count: fresh, unread: counts.total });
    else if (counts.total !== before.total) el.textContent = t(lang, 'unread-count', { count: counts.total });
  }

  private renderStatus() {
    const lang = this.lang;
    const st = this.s.status;
    const el = this.root.querySelector('#status');
    const banner = this.root.querySelector('#banner') as HTMLElement | null;
    if (!el || !banner || !st) return;
    const time = (iso: string | null) => clock(lang, iso);
    let text: string;
    let cls: string;
    switch (st.state.state) {
      case 'connected': text = t(lang, 'status-connected'); cls = 'ok'; break;
      case 'connecting': text = t(lang, 'status-reconnecting'); cls = 'wait'; break;
      case 'reconnecting': text = t(lang, 'status-reconnecting-at', { time: time(st.state.next_attempt_at) }); cls = 'wait'; break;
      case 'maintenance': text = t(lang, 'status-maintenance-until', { time: time(st.state.until) }); cls = 'wait'; break;
      case 'offline': text = `${t(lang, 'status-offline')} ${st.state.reason}`; cls = 'off'; break;
    }
    el.textContent = st.state.state === 'connected' ? text : '●';
    el.className = `status ${cls}`;
    el.setAttribute('title', st.last_synced_at ? `${text} — ${t(lang, 'last-synced', { time: time(st.last_synced_at) })}` : text);
    // MW-1 / MW-2: the calm banner: the current state, or the next announced window.
    const upcoming = st.maintenance?.windows.find((w) => new Date(w.ends_at) > this.now());
    const bannerText = st.state.state !== 'connected'
      ? text
      : upcoming
        ? t(lang, 'maintenance-announced', {
            start: dateTime(lang, upcoming.starts_at),
            end: time(upcoming.ends_at),
          })
        : '';
    banner.textContent = bannerText;
    banner.hidden = !bannerText;
  }

  private renderList() {
    this.rowsCache = rows(this.s.items, this.now());
    this.offs = offsets(this.rowsCache);
    this.spacer.style.height = `${this.offs[this.offs.length - 1]}px`;
    const empty = this.root.querySelector('#empty') as HTMLElement;
    const lang = this.lang;
    empty.hidden = this.s.items.length > 0;
    // In the direct CRM mode Inbox can never fill: say why instead of "nothing yet".
    const crmInbox = this.s.tab === 'inbox' && this.s.settings?.source === 'crm' && !this.s.settings.demo;
    empty.textContent = this.s.search.trim() ? t(lang, 'search-none', { query: this.s.search.trim() })
      : crmInbox ? t(lang, 'empty-inbox-crm')
      : this.s.unreadOnly ? t(lang, 'empty-unread') : this.s.category ? t(lang, 'empty-filter') : t(lang, 'empty-tab');
    this.renderRows();
  }

  private renderRows() {
    const [from, to] = visible(this.offs, this.list.scrollTop, this.list.clientHeight || 400);
    const lang = this.lang;
    const now = this.now();
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
    if (this.s.next && this.list.scrollTop + this.list.clientHeight > last - 1500) void this.loadMore();
  }

  /** aria-setsize of the rows: only some are drawn. The whole list when it is loaded, the scope's
   * unread count when only unread items are listed, else -1 (unknown: more pages may come). */
  private setSize(): number {
    if (!this.s.next) return this.s.items.length;
    const unread = this.scopeUnread();
    return this.s.unreadOnly && unread >= this.s.items.length ? unread : -1;
  }

  private itemRow(item: Item, index: number, setSize: number, lang: Lang, now: Date): HTMLElement {
    const text = render(lang, item);
    const time = when(item.created_at, now, lang);
    const unread = !item.read_at;
    const selected = index === this.s.selected;
    const why = this.s.expandedWhy === item.id ? this.s.why.get(item.id) ?? '…' : null;
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
        h('button', { class: 'icon why', 'aria-label': t(lang, 'why-label'), title: t(lang, 'why-label'), 'aria-expanded': String(why !== null) }, '?'),
      ),
      why !== null ? h('div', { class: 'why-text' }, why) : null,
    );
    row.querySelector('.open')?.addEventListener('click', () => {
      this.s.selected = index;
      this.act(this.backend.open(item.id), item);
    });
    row.querySelector('.mark')?.addEventListener('click', (e) => {
      e.stopPropagation();
      this.act(this.backend.markRead(item.id));
    });
    row.querySelector('.snooze')?.addEventListener('click', (e) => {
      e.stopPropagation();
      void this.openSnooze(item, e.currentTarget as HTMLElement);
    });
    row.querySelector('.why')?.addEventListener('click', (e) => { e.stopPropagation(); void this.toggleWhy(item.id); });
    return row;
  }

  /** The text with the search's matches marked (as text: nothing from data becomes markup). */
  private marked(text: string): Array<Node | string> {
        const terms = searchTerms(this.s.search);
    if (!terms.words.length) return [text];
    return highlight(text, terms).map((p) => (p.hit ? h('mark', {}, p.text) : p.text));
  }

  // ---- snooze, the snoozed view, gaps, quiet hours ----

  /** The snooze menu for `item`: an hour, this afternoon, tomorrow morning, or a time picked. */
  private async openSnooze(item: Item, from: HTMLElement) {
    const lang = this.lang;
    const menu = this.root.querySelector('#snooze-menu') as HTMLElement;
    const times = await this.backend.snoozeTimes();
    const close = () => { menu.hidden = true; menu.replaceChildren(); from.focus(); };
    const choose = (until: string) => {
      close();
            void this.backend.snooze(item.id, until).then(
        async (done) => {
          if (done) this.snack([h('span', {}, t(lang, 'snooze-done', { time: when(until, this.now(), lang) }))]);
          await this.reload(true);
          // Its row is gone: the list keeps the keyboard.
          this.list.focus();
        },
        (e: unknown) => this.notice(e, item),
      );
    };
    const option = (id: string, label: string, until: string) => {
      const b = h('button', { class: 'link', 'data-snooze': id }, label);
      b.addEventListener('click', () => choose(until));
      return b;
    };
    // A time picked in the device's time zone, at least a minute ahead.
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const pick = h('input', { type: 'datetime-local', id: 'snooze-at', min: local(new Date(this.now().getTime() + 60_000)), step: '60' });
    const apply = h('button', { class: 'secondary', id: 'snooze-apply' }, t(lang, 'snooze-apply'));
    apply.addEventListener('click', () => {
      const at = pick.value ? new Date(pick.value) : null;
      if (!at || Number.isNaN(at.getTime()) || at <= this.now()) { this.snack([h('span', {}, t(lang, 'snooze-past'))]); return; }
      choose(at.toISOString());
    });
    menu.replaceChildren(
      h('strong', {}, t(lang, 'snooze')),
      option('hour', t(lang, 'snooze-hour'), times.hour),
      ...(times.afternoon ? [option('afternoon', t(lang, 'snooze-afternoon', { time: clock(lang, times.afternoon) }), times.afternoon)] : []),
      option('tomorrow', t(lang, 'snooze-tomorrow', { time: clock(lang, times.tomorrow) }), times.tomorrow),
      h('label', { class: 'field' }, t(lang, 'snooze-pick'), pick),
      apply,
    );
    menu.onkeydown = (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(); } };
    menu.hidden = false;
    (menu.querySelector('button') as HTMLElement | null)?.focus();
  }

  /** The snoozed view and its toggle, the tab's gap marker, and quiet hours. */
  private renderAside() {
    const lang = this.lang;
    const now = this.now();
    const toggle = this.root.querySelector('#snoozed-toggle') as HTMLButtonElement | null;
    const view = this.root.querySelector('#snoozed') as HTMLElement | null;
    if (!toggle || !view) return;
    const n = this.s.snoozed.length;
    toggle.hidden = n === 0 && !this.s.showSnoozed;
    toggle.textContent = n ? t(lang, 'snoozed-count', { count: n }) : t(lang, 'snoozed-view');
    toggle.setAttribute('aria-pressed', String(this.s.showSnoozed));
    view.hidden = !this.s.showSnoozed;
    this.list.hidden = this.s.showSnoozed;
    if (this.s.showSnoozed) {
      view.replaceChildren(
        h('h2', {}, t(lang, 'snoozed-view')),
        n ? h('ul', { class: 'snoozed-items' },
          ...this.s.snoozed.map((sn) => {
            const back = h('button', { class: 'link unsnooze', 'data-id': sn.item.id }, t(lang, 'snooze-cancel'));
            back.addEventListener('click', () => void this.backend.unsnooze(sn.item.id).then(() => this.reload(true)));
            return h('li', { 'data-id': sn.item.id },
              h('span', { class: 'text' }, render(lang, sn.item)),
              h('small', { class: 'until' }, t(lang, 'snoozed-until', { time: when(sn.until, now, lang) })),
              back,
            );
          }))
          : h('p', { class: 'note' }, t(lang, 'snoozed-empty')),
      );
    }
    const gap = this.root.querySelector('#gap') as HTMLElement | null;
    if (gap) {
      const tab = this.s.tab;
      gap.hidden = !this.s.gaps.includes(tab);
      if (!gap.hidden) {
        const dismiss = h('button', { class: 'link', id: 'gap-dismiss' }, t(lang, 'gap-dismiss'));
        dismiss.addEventListener('click', () => void this.backend.dismissGap(tab).then(() => this.refreshAside()));
        gap.replaceChildren(h('span', {}, t(lang, 'gap-expired', { tab })), dismiss);
      } else {
        gap.replaceChildren();
      }
    }
    const quiet = this.root.querySelector('#quiet') as HTMLElement | null;
    if (quiet) {
      const q = this.s.quiet;
      quiet.hidden = !q;
      if (q) {
        const resume = h('button', { class: 'link', id: 'resume' }, t(lang, 'tray-resume'));
        resume.addEventListener('click', () => void this.backend.resume().then(() => this.refreshAside()));
        const id = q.kind === 'paused' ? 'tray-paused-until' : 'tray-quiet-until';
        quiet.replaceChildren(h('span', {}, t(lang, id, { time: when(q.until, now, lang) })), resume);
      } else {
        quiet.replaceChildren();
      }
    }
  }

  private async toggleWhy(id: string) {
    if (this.s.expandedWhy === id) {
      this.s.expandedWhy = null;
    } else {
      const reason = await this.backend.why(id);
      this.s.why.set(id, t(this.lang, reason ? `why-${reason.replace(/_/g, '-')}` : 'why-unknown'));
      this.s.expandedWhy = id;
    }
    this.renderRows();
  }

  // ---- actions ----

  private selectTab(tab: Tab) {
    if (tab === this.s.tab) return;
    this.s.tab = tab;
    this.s.category = null;
    this.s.selected = 0;
    // The tab and its chips answer the click at once; the list follows when its page arrives.
    this.renderChrome();
    this.renderAside();
    void this.reload();
    (this.root.querySelector(`#tab-${tab}`) as HTMLElement | null)?.focus();
  }

  /** An action on an item: the list shows its outcome, and a refusal is said (a link that is not a
   * Qontak page is not opened, yet the item is read). */
  private act(done: Promise<void>, item?: Item) {
    void done.catch((e: unknown) => this.notice(e, item)).finally(() => this.reload(true));
  }

  /** Says briefly what went wrong, in the snackbar: for a refused link, where it goes (the host a
   * browser would visit, which the runtime judged). */
  private notice(e: unknown, item?: Item) {
    const kind = e && typeof e === 'object' && 'kind' in e ? (e as AppError).kind : null;
    let text = errorMessage(e);
    if (kind === 'refused' && item) {
      let host = item.url;
      try {
        host = new URL(item.url).hostname;
      } catch {
        // Not a URL at all: name it as it is.
      }
      text = t(this.lang, 'link-refused', { host });
    }
    this.snack([h('span', {}, text)]);
  }

  /** Shows the snackbar for a few seconds; a newer message replaces the one showing. */
  private snack(children: Node[]) {
    const snackbar = this.root.querySelector('#snackbar') as HTMLElement;
    window.clearTimeout(this.snackTimer);
    snackbar.replaceChildren(...children);
    snackbar.hidden = false;
    this.snackTimer = window.setTimeout(() => { snackbar.hidden = true; }, UNDO_MS);
  }

  /** NC-R6: the active tab and chip, nothing else; with undo. */
  private async markAll() {
    const lang = this.lang;
    const result = await this.backend.markAllRead({ tab: this.s.tab, category: this.s.category });
    // Show the result at once rather than when the change event comes round.
    await this.reload(true);
    if (!result.changed || !result.undo) return;
    const token = result.undo;
    const undoButton = h('button', { class: 'link', id: 'undo' }, t(lang, 'undo'));
    undoButton.addEventListener('click', async () => {
      const undone = await this.backend.undo(token);
      await this.reload(true);
      window.clearTimeout(this.snackTimer);
      (this.root.querySelector('#snackbar') as HTMLElement).hidden = true;
      if (!undone) this.snack([h('span', {}, t(lang, 'undo-too-late'))]);
    });
    this.snack([h('span', {}, t(lang, 'mark-all-read-done', { count: result.changed })), undoButton]);
  }

  private onKey(e: KeyboardEvent) {
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA') && (target as HTMLInputElement).type !== 'checkbox') return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const move = (delta: number) => {
      if (!this.s.items.length) return;
      this.s.selected = Math.max(0, Math.min(this.s.items.length - 1, this.s.selected + delta));
      this.scrollToSelected();
      this.renderRows();
    };
    switch (e.key) {
      case '1': case '2': case '3':
        this.selectTab(TABS[Number(e.key) - 1]);
        break;
      case 'j': case 'ArrowDown':
        move(1);
        break;
      case 'k': case 'ArrowUp':
        move(-1);
        break;
      case 'Enter': {
        const item = this.s.items[this.s.selected];
        if (item && (target === document.body || target === this.list)) this.act(this.backend.open(item.id), item);
        else return;
        break;
      }
      case 'e': {
        const item = this.s.items[this.s.selected];
        if (item) this.act(this.backend.markRead(item.id));
        break;
      }
      case 'u':
        this.s.unreadOnly = !this.s.unreadOnly;
        (this.root.querySelector('#unread-only') as HTMLInputElement).checked = this.s.unreadOnly;
        void this.reload();
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  private scrollToSelected() {
    let seen = -1;
    for (let r = 0; r < this.rowsCache.length; r++) {
      if (this.rowsCache[r].kind === 'item' && ++seen === this.s.selected) {
        const top = this.offs[r];
        const bottom = this.offs[r + 1];
        if (top < this.list.scrollTop) this.list.scrollTop = top;
        else if (bottom > this.list.scrollTop + this.list.clientHeight) this.list.scrollTop = bottom - this.list.clientHeight;
        return;
      }
    }
  }

  // ---- settings ----

  private toggleSettings() {
    this.s.showSettings = !this.s.showSettings;
    const el = this.root.querySelector('#settings') as HTMLElement;
    el.hidden = !this.s.showSettings;
    if (this.s.showSettings) {
      this.renderSettings();
      (el.querySelector('select, input') as HTMLElement | null)?.focus();
    }
  }

  private renderSettings() {
    const el = this.root.querySelector('#settings') as HTMLElement | null;
    const st = this.s.settings;
    if (!el || !st) return;
    renderSettingsPanel(el, st, this.lang, this.backend, {
      // The agent is done with the form: show what is now saved (e.g. where the token is kept).
      saved: (saved) => {
        this.s.settings = saved;
        this.renderSettings();
      },
      failed: (e) => this.notice(e),
    });
  }
}
