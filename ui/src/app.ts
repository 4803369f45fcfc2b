// The bell window: it owns the state and the backend's events, lays the window out, and puts the
// parts together (window/*: the list, the toolbar and search, snoozing, the banners, the snackbar,
// settings). Every string that comes from a notification is set with textContent: rendered text is
// data and never becomes markup (and the CSP forbids inline script and style anyway).

import type { Backend, BackendEvent, Counts, PageTiming, Settings } from './backend';
import { Announcer } from './window/announce';
import { Banners } from './window/banners';
import { onKey } from './window/keys';
import { layout } from './window/layout';
import { List, type Listing } from './window/list';
import { renderShortcutProblem } from './settings-panel';
import { SettingsSection } from './window/settings';
import { Snackbar } from './window/snackbar';
import { Snooze } from './window/snooze';
import { initialState, type Ctx } from './window/state';
import { Toolbar } from './window/toolbar';

export class BellWindow {
  private ctx: Ctx;
  private list: List;
  private toolbar: Toolbar;
  private snooze: Snooze;
  private banners: Banners;
  private announcer: Announcer;
  private settings: SettingsSection;
  private refreshTimer = 0;
  /** Which refresh (of the list, of the aside) is the newest: an older answer arriving late must
   * not undo it. */
  private listAsked = 0;
  private asideAsked = 0;

  constructor(private root: HTMLElement, private backend: Backend, now: () => Date = () => new Date()) {
    const s = initialState();
    const lang = () => s.settings?.lang ?? 'en';
    this.ctx = {
      s, root, backend, now,
      get lang() { return lang(); },
      snackbar: new Snackbar(root, lang),
      reload: (keepScroll) => this.reload(keepScroll),
      refreshAside: () => this.refreshAside(),
      renderAside: () => this.renderAside(),
    };
    this.list = new List(this.ctx, { snooze: (item, from) => void this.snooze.open(item, from) });
    this.toolbar = new Toolbar(this.ctx);
    this.snooze = new Snooze(this.ctx);
    this.banners = new Banners(this.ctx);
    this.announcer = new Announcer(this.ctx);
    this.settings = new SettingsSection(this.ctx);
  }

  private get s() {
    return this.ctx.s;
  }

  async start(): Promise<void> {
    const scriptMs = performance.now();
    // Everything the first paint needs is asked for at once (the desktop app hands it over with the
    // document), and the window is laid out once, with its list.
    const [[page, counts], settings, status] = await Promise.all([
      this.list.fetch(false), this.backend.settings(), this.backend.status(),
    ]);
    const dataMs = performance.now();
    this.s.settings = settings;
    this.s.status = status;
    this.take(page, counts);
    this.backend.subscribe((e) => this.heard(e));
    document.addEventListener('keydown', (e) => onKey(e, this.list.el, {
      tab: (tab) => this.toolbar.selectTab(tab),
      move: (delta) => this.list.move(delta),
      open: () => this.list.openSelected(),
      markRead: () => this.list.markSelectedRead(),
      markUnread: () => this.list.markSelectedUnread(),
      toggleUnread: () => this.toolbar.toggleUnread(),
    }));
    this.renderAll();
    this.announcer.announce();
    void this.banners.refreshUpdate();
    this.reportPainted({ script_ms: Math.round(scriptMs), data_ms: Math.round(dataMs) });
    // The first paint may have come from what was read as the window was built: what changed
    // before the window heard its events is read again now (the list with what sits beside it).
    void this.reload(true);
    this.heard('status');
    void this.backend.settings().then((st) => {
      if (JSON.stringify(st) !== JSON.stringify(this.s.settings)) this.applySettings(st);
    });
  }

  /** An event from the backend. */
  private heard(e: BackendEvent) {
    if (e === 'changed') this.scheduleRefresh();
    if (e === 'open-settings' && !this.s.showSettings) this.settings.toggle();
    // Shown again while it lingered hidden: the list is current (changes kept arriving).
    if (e === 'shown') this.reportPainted(null);
    if (e === 'update') void this.banners.refreshUpdate();
    if (e === 'status') void this.backend.status().then((st) => { this.s.status = st; this.renderChrome(); });
    if (e === 'settings') {
      void this.refreshAside();
      void this.backend.settings().then((st) => this.applySettings(st));
    }
  }

  private applySettings(st: Settings) {
    const reshape = st.lang !== this.s.settings?.lang || st.demo !== this.s.settings?.demo;
    this.s.settings = st;
    // A new language re-renders everything at once (NC-R11), as does leaving demo mode (it
    // enables fields). Other changes must not wipe what the agent is typing in an open form.
    if (reshape || !this.s.showSettings) this.renderAll();
    else { this.renderChrome(); this.list.render(); renderShortcutProblem(this.root, st, this.ctx.lang); }
  }

  /** Tells the backend once the list is on screen: the frame after the next has drawn it. On the
   * first load, with the page's own times since its load began, up to its first frame laid out and
   * painted: the rest of the click-to-paint time is WebKit starting. */
  private reportPainted(page: Omit<PageTiming, 'page_ms'> | null) {
    requestAnimationFrame(() => {
      // A task queued while a frame is being drawn runs once it is laid out and painted.
      const drawn = new Promise<number>((r) => window.setTimeout(() => r(performance.now())));
      requestAnimationFrame(() => void drawn.then((at) => {
        void this.backend.painted(page && { ...page, page_ms: Math.round(at) });
        this.list.painted();
      }));
    });
  }

  /** Bursts of changes (a catch-up after an outage) become one refresh. */
  private scheduleRefresh() {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => void this.reload(true), 80);
  }

  private async reload(keepScroll = false) {
    const fetched = this.list.fetch(keepScroll);
    const s = this.s;
    const scope = { tab: s.tab, category: s.category, search: s.search, everywhere: s.everywhere };
    const asked = ++this.listAsked;
    void this.refreshAside();
    const [page, counts] = await fetched;
    // A newer request may have changed the scope (or the search) meanwhile, or answered already.
    if (asked !== this.listAsked || scope.tab !== s.tab || scope.category !== s.category
      || scope.search !== s.search || scope.everywhere !== s.everywhere) return;
    this.take(page, counts);
    if (!keepScroll && this.list.el) this.list.el.scrollTop = 0;
    this.announcer.announce();
    this.renderChrome();
    this.banners.renderUpdate();
    this.list.render();
  }

  /** A page of the list (or of the search) and the counts, into the state. */
  private take(page: Listing, counts: Counts) {
    const s = this.s;
    s.items = page.items;
    s.next = page.next;
    s.searchTotal = page.total;
    s.counts = counts;
    s.selected = Math.min(s.selected, Math.max(0, s.items.length - 1));
  }

  /** What sits beside the list: the snoozed items, the tabs' gap markers, quiet hours. */
  private async refreshAside() {
    const asked = ++this.asideAsked;
    const [snoozed, gaps, quiet] = await Promise.all([
      this.backend.snoozed().catch(() => this.s.snoozed),
      this.backend.gaps().catch(() => this.s.gaps),
      this.backend.quiet().catch(() => this.s.quiet),
    ]);
    if (asked !== this.asideAsked) return;
    Object.assign(this.s, { snoozed, gaps, quiet });
    this.renderAside();
  }

  /** Lays the whole window out again (at start, and when the language changes). */
  private renderAll() {
    const lang = this.ctx.lang;
    document.documentElement.lang = lang;
    this.root.replaceChildren(...layout(this.s, lang));
    this.list.mount();
    this.toolbar.mount();
    this.snooze.mount();
    this.settings.mount();
    this.root.querySelector('#pin')?.addEventListener('click', (e) => {
      this.s.pinned = !this.s.pinned;
      (e.currentTarget as HTMLElement).setAttribute('aria-pressed', String(this.s.pinned));
      void this.backend.setPinned(this.s.pinned);
    });
    this.renderChrome();
    this.list.render();
    this.renderAside();
    // The form is built when opened: the first paint of the list does not wait for it.
    if (this.s.showSettings) this.settings.render();
  }

  /** What follows the counts and the status: the tabs, chips and mark-all, and the banners. */
  private renderChrome() {
    this.banners.renderQuarantine();
    this.toolbar.render();
    this.banners.renderStatus();
  }

  private renderAside() {
    this.snooze.render();
    // The Snoozed view takes the list's place.
    if (this.list.el) this.list.el.hidden = this.s.showSnoozed;
    this.banners.renderGap();
    this.banners.renderQuiet();
  }
}
