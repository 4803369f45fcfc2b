// An in-memory Backend for running the window in a plain browser (development, browser tests).
// It follows the behaviour contract the real runtime follows (tests/contract/backend.json, run by
// ui/tests/contract.test.ts): newest first, scoped mark-all (NC-R6) with undo, open marks read
// (NC-R7) and opens only Qontak pages, errors as the runtime's `AppError`. Tests drive it through
// `window.lonceng`.

import {
  CATEGORIES, TABS,
  type AppError, type Backend, type BackendEvent, type Category, type Counts, type Cursor, type Item,
  type DoctorCheck, type DoctorLevel, type DoctorReport,
  type MarkAllResult, type Page, type Quarantine, type Quarantined, type Quiet, type Reason, type Scope, type SearchResult,
  type AccountView, type Settings, type SettingsChanges, type SnoozedItem, type SnoozeTimes, type Status, type UpdateOffer, type PageTiming,
  type Tab,
} from './backend';
import { render, stripBidiControls, t } from './i18n';
import { fold, matches, searchTerms } from './view';

const PEOPLE = ['Budi Santoso', 'Sari Wulandari', 'Dewi Lestari', 'Andi Pratama', 'Michael Tan', 'Rina Kusuma'];
const CONTACTS = ['Siti Rahmawati', 'Jessica Wong', 'Agus Setiawan', 'Putri Anggraini', 'David Chen', 'Made Wirawan'];
const DEALS = ['PT Sinar Jaya renewal', 'Toko Makmur — 40 units', 'Koperasi Maju annual plan', 'Klinik Sehat onboarding'];

/** A plausible item of `category`, deterministic in `n`. */
export function sample(n: number, category: Category, createdAt: Date): Item {
  const who = PEOPLE[n % PEOPLE.length];
  const contact = CONTACTS[n % CONTACTS.length];
  const deal = DEALS[n % DEALS.length];
  const base = {
    id: `mock-${n}`, category, created_at: createdAt.toISOString(), read_at: null,
    actor_id: `agent-${n % PEOPLE.length}`, recipient_id: 'agent-sari',
  };
  const tab = (Object.keys(CATEGORIES) as Tab[]).find((t) => CATEGORIES[t].includes(category)) as Tab;
  const kinds: Record<Category, [string, Record<string, string | number>, string]> = {
    reminder: ['reminder', { object_type: 'task', object_name: `Call back ${contact}` }, 'https://app.qontak.com/crm/tasks/'],
    mention: ['mention', { actor: who, target: 'deal', object_name: deal }, 'https://app.qontak.com/crm/deals/'],
    assignment: ['deal_owner_assigned', { actor: who, deal_name: deal }, 'https://app.qontak.com/crm/deals/'],
    update: ['task_status_changed', { actor: who, task_name: `Follow up ${contact}`, status: 'In progress' }, 'https://app.qontak.com/crm/tasks/'],
    download_upload: ['export_ready', { object_type: 'deals', count: 100 + n }, 'https://app.qontak.com/crm/exports/'],
    chat_assignment: ['conversation_assigned', { actor: who, contact_name: contact, channel: 'whatsapp' }, 'https://chat.qontak.com/inbox/'],
    resolved: ['conversation_resolved', { actor: who, contact_name: contact, channel: 'instagram' }, 'https://chat.qontak.com/inbox/'],
    blocked_contact: ['contact_blocked', { actor: who, contact_name: contact }, 'https://chat.qontak.com/contacts/'],
    deals: ['deal_approval_requested', { actor: who, deal_name: deal, amount: 'Rp 12.500.000' }, 'https://app.qontak.com/crm/deals/'],
    expenses: ['expense_approval_requested', { actor: who, expense_name: 'Client dinner Surabaya', amount: 'Rp 1.250.000' }, 'https://app.qontak.com/crm/expenses/'],
  };
  const [kind, params, url] = kinds[category];
  return { ...base, tab, kind, params, url: `${url}${n}` };
}

/** `count` items over the last `days` days, every category, a third of them read. */
export function seed(count: number, now: Date, days = 6): Item[] {
  const all = Object.values(CATEGORIES).flat();
  const items: Item[] = [];
  for (let n = 0; n < count; n++) {
    const at = new Date(now.getTime() - Math.floor(((n * 7919) % (days * 1440)) * 60_000) - n * 1000);
    const item = sample(n, all[n % all.length], at);
    if (n % 3 === 2) item.read_at = at.toISOString();
    items.push(item);
  }
  return items;
}

const newestFirst = (a: Item, b: Item) =>
  a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1;

const fail = (kind: AppError['kind'], message: string): AppError => ({ kind, message });

/** An instant as the runtime sends it (RFC 3339 in UTC, fractions only when there are any). */
const wire = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** As the runtime's settings check: an address is empty or an absolute http(s) URL. */
function checkAddress(url: string | null | undefined): void {
  if (!url) return;
  let ok = false;
  try {
    const u = new URL(url);
    ok = (u.protocol === 'https:' || u.protocol === 'http:') && !/\s/.test(url);
  } catch {
    ok = false;
  }
  if (!ok) throw fail('invalid', `'${url}' is not an http(s) address`);
}

/** The runtime's link policy, for the mock: http(s) pages on Qontak's and Mekari's hosts only. */
const ALLOWED_HOSTS = ['qontak.com', 'mekari.com', 'mekari.io'];
function allowed(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) return false;
  const host = u.hostname.replace(/\.$/, '');
  // IP literals are never Qontak pages.
  if (host.startsWith('[') || /^\d+(\.\d+){3}$/.test(host)) return false;
  return ALLOWED_HOSTS.some((h) => host === h || host.endsWith(`.${h}`));
}

function checkScope(scope: Scope): void {
  if (scope.category && !CATEGORIES[scope.tab].includes(scope.category)) {
    throw fail('invalid', `category '${scope.category}' is not in tab '${scope.tab}'`);
  }
}

export class MockBackend implements Backend {
  items: Item[];
  opened: string[] = [];
  reasons = new Map<string, Reason>();
  status_: Status = { state: { state: 'connected', streaming: true }, last_synced_at: new Date().toISOString(), maintenance: null };
  settings_: Settings = {
    lang: 'en', muted: [], mute_chat: false, muted_channels: [], muted_conversations: {}, paused_until: null, source: 'server', server_url: '', has_token: false,
    token_store: 'none', crm_base_url: 'https://api.mekari.com', crm_client_id: '', crm_sso_user_id: '',
    has_crm_secret: false, crm_secret_store: 'none', chat_window_patterns: ['qontak chat', 'chat.qontak.com'],
    autostart: true, demo: true, autostart_managed: false, update_url: '', shortcut: 'Ctrl+Alt+N', shortcut_problem: null, proxy: '',
    quiet_hours: { enabled: false, days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: 1320, end: 420, breakthrough: [] },
    quiet_skipped_until: null, sound: { on: true, silent: [] }, message_text: 'not_while_locked', approvals_break_dnd: false, locked: [],
    account: { signed_in_as: null, signed_out: null, signing_in: false, offered_server: null, method: null, sign_in_offered: false },
  };
  /** Snoozed items: id → when they come back. */
  snoozes = new Map<string, string>();
  gaps_: Tab[] = [];
  quiet_: Quiet | null = null;
  private listeners = new Set<(e: BackendEvent) => void>();
  private undos = new Map<string, string[]>();
  private undoSeq = 0;

  /** What could not be shown, newest last (as it arrived). */
  quarantined: Quarantined[];

  /** `now`: the clock (the contract cases run at a fixed time). */
  constructor(items: Item[], quarantined: Quarantined[] = [], private now: () => Date = () => new Date()) {
    this.items = [...items].sort(newestFirst);
    this.quarantined = quarantined;
  }

  private emit(e: BackendEvent) {
    for (const l of this.listeners) l(e);
  }

  async page(scope: Scope, unreadOnly: boolean, after: Cursor | null, limit: number): Promise<Page> {
    checkScope(scope);
    const inScope = this.items.filter(
      (i) => i.tab === scope.tab && (!scope.category || i.category === scope.category) && (!unreadOnly || !i.read_at)
        && !this.snoozes.has(i.id),
    );
    const start = after
      ? inScope.findIndex((i) => i.created_at < after.created_at || (i.created_at === after.created_at && i.id < after.id))
      : 0;
    const items = start < 0 ? [] : inScope.slice(start, start + limit);
    const last = items[items.length - 1];
    return { items, next: items.length === limit && last ? { created_at: last.created_at, id: last.id } : null };
  }

  async counts(): Promise<Counts> {
    const tabs = Object.fromEntries(TABS.map((t) => [t, 0])) as Record<Tab, number>;
    const categories = Object.fromEntries(Object.values(CATEGORIES).flat().map((c) => [c, 0])) as Record<Category, number>;
    let total = 0;
    for (const i of this.items) {
      if (i.read_at || this.snoozes.has(i.id)) continue;
      tabs[i.tab]++;
      categories[i.category]++;
      total++;
    }
    return { total, tabs, categories, quarantined: this.quarantined.length };
  }

  async quarantine(): Promise<Quarantine> {
    return { count: this.quarantined.length, latest: [...this.quarantined].reverse().slice(0, 20) };
  }

  async status(): Promise<Status> {
    return this.status_;
  }

  async markRead(id: string): Promise<void> {
    const item = this.items.find((i) => i.id === id);
    if (!item) throw fail('not_found', `no notification '${id}'`);
    if (!item.read_at) {
      item.read_at = wire(this.now());
      this.emit('changed');
    }
  }

  async markUnread(id: string): Promise<void> {
    const item = this.items.find((i) => i.id === id);
    if (!item) throw fail('not_found', `no notification '${id}'`);
    if (item.read_at) {
      item.read_at = null;
      this.emit('changed');
    }
  }

  async openItem(id: string): Promise<void> {
    const item = this.items.find((i) => i.id === id);
    if (!item) throw fail('not_found', `no notification '${id}'`);
    const ok = allowed(item.url);
    if (ok) this.opened.push(item.url);
    // The agent saw it either way.
    await this.markRead(id);
    if (!ok) throw fail('refused', `${item.url} is not a Qontak page; not opened`);
  }

  async markAllRead(scope: Scope): Promise<MarkAllResult> {
    checkScope(scope);
    const now = wire(this.now());
    const changed = this.items.filter(
      (i) => !i.read_at && i.tab === scope.tab && (!scope.category || i.category === scope.category),
    );
    for (const i of changed) i.read_at = now;
    if (!changed.length) return { changed: 0, undo: null };
    const token = `undo-${++this.undoSeq}`;
    this.undos.set(token, changed.map((i) => i.id));
    this.emit('changed');
    return { changed: changed.length, undo: token };
  }

  async undo(token: string): Promise<boolean> {
    const ids = this.undos.get(token);
    if (!ids) return false;
    this.undos.delete(token);
    for (const i of this.items) if (ids.includes(i.id)) i.read_at = null;
    this.emit('changed');
    return true;
  }

  async snooze(id: string, until: string): Promise<boolean> {
    const item = this.items.find((i) => i.id === id);
    if (!item) throw fail('not_found', `no notification '${id}'`);
    if (!(new Date(until).getTime() > this.now().getTime())) throw fail('invalid', 'a snooze ends in the future');
    if (item.read_at) return false;
    this.snoozes.set(id, until);
    this.emit('changed');
    return true;
  }

  async unsnooze(id: string): Promise<boolean> {
    const was = this.snoozes.delete(id);
    if (was) this.emit('changed');
    return was;
  }

  async snoozed(): Promise<SnoozedItem[]> {
    // Read meanwhile (elsewhere): forgotten (NC-R13).
    for (const [id] of this.snoozes) if (this.items.find((i) => i.id === id)?.read_at) this.snoozes.delete(id);
    return [...this.snoozes]
      .flatMap(([id, until]) => {
        const item = this.items.find((i) => i.id === id);
        return item ? [{ item, until }] : [];
      })
      .sort((a, b) => (a.until < b.until ? -1 : a.until > b.until ? 1 : a.item.id < b.item.id ? -1 : 1));
  }

  async snoozeTimes(): Promise<SnoozeTimes> {
    const now = this.now();
    const at = (days: number, hour: number) => {
      const d = new Date(now);
      d.setDate(d.getDate() + days);
      d.setHours(hour, 0, 0, 0);
      return wire(d);
    };
    return {
      hour: wire(new Date(now.getTime() + 3_600_000)),
      afternoon: now.getHours() < 12 ? at(0, 13) : null,
      tomorrow: at(1, 8),
    };
  }

  /** Test hook: the snooze of `id` ends now (the runtime's timer does this at its time). */
  wake(id: string) {
    if (this.snoozes.delete(id)) this.emit('changed');
  }

  async search(text: string, scope: Scope | null, unreadOnly: boolean, before: string | null): Promise<SearchResult> {
    if (scope) checkScope(scope);
    if (before !== null && !/^\d+$/.test(before)) throw fail('invalid', `not a search cursor: ${before}`);
    // As the runtime's index: every word of the query a word of the text in either language or
    // of a parameter (the last one the start of a word while it is typed), accents and case aside.
    const words = (s: string) => fold(s).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    const terms = searchTerms(text);
    if (!terms.words.length) return { items: [], next: null, total: before ? null : 0 };
    const items = this.items.filter((i) => {
      if (scope && (i.tab !== scope.tab || (scope.category && i.category !== scope.category))) return false;
            if (unreadOnly && i.read_at) return false;
      if (this.snoozes.has(i.id) && !i.read_at) return false;
      const hay = words([
        ...Object.values(i.params).map(String),
        stripBidiControls(render('en', i)),
        stripBidiControls(render('id', i)),
      ].join(' '));
            return terms.words.every((_, n) => hay.some((w) => matches(w, { words: [terms.words[n]], prefixLast: terms.prefixLast && n === terms.words.length - 1 })));
    });
    // A page of 200 at a time; the cursor is where the next page starts.
    const from = before ? Number(before) : 0;
    const end = from + 200;
    return { items: items.slice(from, end), next: end < items.length ? String(end) : null, total: before ? null : items.length };
  }

  async gaps(): Promise<Tab[]> {
    return [...this.gaps_];
  }

  async dismissGap(tab: Tab): Promise<void> {
    this.gaps_ = this.gaps_.filter((g) => g !== tab);
    this.emit('changed');
  }

  async quiet(): Promise<Quiet | null> {
    return this.quiet_;
  }

  async resume(): Promise<void> {
    this.quiet_ = null;
    this.emit('settings');
  }

  /** Test hooks: a gap in `tab`; toasts held until `until`. */
  setGap(tab: Tab) {
    this.gaps_.push(tab);
    this.emit('changed');
  }

  setQuiet(q: Quiet | null) {
    this.quiet_ = q;
    this.emit('settings');
  }

  async why(id: string): Promise<Reason | null> {
    return this.reasons.get(id) ?? null;
  }

  async settings(): Promise<Settings> {
    return { ...this.settings_ };
  }

  /** The browser round trip is the real app's: the mock is signed in at once. */
  async signIn(): Promise<AccountView> {
    if (this.settings_.demo) throw fail('invalid', 'the demo is signed in already');
    if (!this.settings_.server_url) throw fail('invalid', "enter your organisation's server address first");
    this.settings_.account = { signed_in_as: 'sari@example.co.id', signed_out: null, signing_in: false, offered_server: null, method: null, sign_in_offered: false };
    this.emit('settings');
    return { ...this.settings_.account };
  }

  async signOut(): Promise<void> {
    const offered = !this.settings_.demo && !!this.settings_.server_url && !this.settings_.has_token;
    this.settings_.account = { signed_in_as: null, signed_out: null, signing_in: false, offered_server: null, method: null, sign_in_offered: offered };
    this.emit('settings');
  }

  /** A clicked sign-in link, answered: yes points at its server and signs in there. */
  async answerSignInLink(accept: boolean): Promise<AccountView> {
    const server = this.settings_.account.offered_server;
    this.settings_.account = { ...this.settings_.account, offered_server: null };
    this.emit('settings');
    if (!server || !accept) return { ...this.settings_.account };
    await this.saveSettings({ source: 'server', server_url: server });
    return this.signIn();
  }

  async saveSettings(changes: SettingsChanges): Promise<Settings> {
    for (const url of [changes.server_url, changes.crm_base_url, changes.update_url]) checkAddress(url);
    const { token, crm_client_secret, ...rest } = changes;
    this.settings_ = { ...this.settings_, ...rest };
    if (token !== undefined) {
      this.settings_.has_token = token.length > 0;
      this.settings_.token_store = token.length > 0 ? 'keyring' : 'none';
    }
    // Secrets go to the keyring: the settings only say that one is kept.
    if (crm_client_secret) {
      this.settings_.has_crm_secret = true;
      this.settings_.crm_secret_store = 'keyring';
    }
    this.emit('settings');
    return this.settings();
  }

  /** What Diagnose finds in the browser: a demo desktop with no keyring (a warning). */
  /** Test hook: how many reports were saved. */
  reports = 0;

  async saveReport(): Promise<string> {
    this.reports += 1;
    return `/home/agent/.local/share/id.lonceng.desktop/reports/lonceng-report-${this.reports}.zip`;
  }

  async diagnose(): Promise<DoctorReport> {
    const lang = this.settings_.lang;
    const line = (check: DoctorCheck, id: string, level: DoctorLevel, text: string, args: Record<string, string | number> = {}, advice?: string) => ({
      check, level, title: t(lang, `doctor-check-${id}`), text: t(lang, text, args), advice: advice ? t(lang, advice, args) : null,
    });
    const lines = [
      line('notifications', 'notifications', 'ok', 'doctor-notifications-ok', { name: 'browser', version: '1', caps: 'actions' }),
      line('tray', 'tray', 'ok', 'doctor-tray-ok'),
      line('display', 'display', 'ok', 'doctor-display-x11'),
      line('screen_lock', 'lock', 'ok', 'doctor-lock-ok', { source: 'org.freedesktop.ScreenSaver' }),
      line('keyring', 'keyring', 'warning', 'doctor-keyring-missing', {}, 'doctor-keyring-missing-fix'),
      line('autostart', 'autostart', 'ok', 'doctor-autostart-unmanaged'),
      line('network', 'network', 'ok', 'doctor-network-ok', { proxy: 'none', trust: "the system's certificates" }),
      line('server', 'server', 'ok', 'doctor-server-demo', { url: 'mock://' }),
      line('token', 'token', 'ok', 'doctor-token-ok', { user: 'agent-sari' }),
      line('stream', 'stream', 'ok', 'doctor-stream-ok'),
      line('clock', 'clock', 'ok', 'doctor-clock-ok', { seconds: 30 }),
      line('quarantine', 'quarantine', this.quarantined.length ? 'warning' : 'ok',
        this.quarantined.length ? 'doctor-quarantine-some' : 'doctor-quarantine-ok', { count: this.quarantined.length },
        this.quarantined.length ? 'doctor-quarantine-some-fix' : undefined),
      line('policy', 'policy', 'ok', 'doctor-policy-none'),
    ];
    const rank: DoctorLevel[] = ['ok', 'warning', 'problem'];
    const level = lines.reduce<DoctorLevel>((worst, l) => (rank.indexOf(l.level) > rank.indexOf(worst) ? l.level : worst), 'ok');
    return { level, lines };
  }

  update_: UpdateOffer | null = null;
  installed: string | null = null;

  async updateOffer(): Promise<UpdateOffer | null> {
    return this.update_;
  }

  async installUpdate(): Promise<void> {
    if (!this.update_) throw { kind: 'invalid', message: 'no update is on offer' } satisfies AppError;
    this.installed = this.update_.version;
  }

  /** Test hook: the manifest offers `version`. */
  offerUpdate(version: string | null) {
    this.update_ = version ? { version, notes: null, error: null } : null;
    this.emit('update');
  }

  pinned = false;
  paintedAt: number | null = null;

  async painted(_page: PageTiming | null): Promise<void> {
    this.paintedAt ??= performance.now();
  }

  async setPinned(on: boolean): Promise<void> {
    this.pinned = on;
  }

  subscribe(listener: (e: BackendEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Test hooks.
  push(item: Item) {
    this.items.push(item);
    this.items.sort(newestFirst);
    this.emit('changed');
  }

  keepAside(reason: string) {
    this.quarantined.push({ received_at: wire(this.now()), reason });
    this.emit('changed');
  }

  setStatus(s: Status) {
    this.status_ = s;
    this.emit('status');
  }
}
