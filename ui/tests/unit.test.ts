import { describe, expect, it } from 'vitest';
import { FluentBundle, FluentResource } from '@fluent/bundle';
import enSource from '../../crates/domain/locales/en/lonceng.ftl?raw';
import idSource from '../../crates/domain/locales/id/lonceng.ftl?raw';
import i18nCases from '../../tests/contract/i18n.json';
import { KIND_MESSAGES, type Lang } from '../src/backend';
import { render, t } from '../src/i18n';
import { withFirstPaint } from '../src/first-paint';
import { MockBackend, sample, seed } from '../src/mock-backend';
import { markAllLabel, offsets, rows, section, visible, when, HEADER_HEIGHT, ITEM_HEIGHT } from '../src/view';

/** Text as the agent sees it: without the (invisible) isolation marks around parameters. */
const seen = (s: string) => s.replace(/[\u2068\u2069]/g, '');

interface I18nCase {
  lang: Lang;
  kind?: string;
  params?: Record<string, string | number>;
  message?: string;
  args?: Record<string, string | number>;
  text: string;
  title?: string;
}

describe('i18n (NC-R11)', () => {
  it('renders the shared cases exactly as the Rust core does, in both languages, parameter text as text', () => {
    // tests/contract/i18n.json: crates/domain/src/i18n.rs renders the same cases.
    expect(i18nCases.cases.length).toBeGreaterThanOrEqual(10);
    for (const c of i18nCases.cases as I18nCase[]) {
      if (c.kind) {
        expect(render(c.lang, { kind: c.kind, params: c.params ?? {} }), JSON.stringify(c)).toBe(c.text);
        if (c.title) expect(t(c.lang, KIND_MESSAGES[c.kind], c.params, 'title'), JSON.stringify(c)).toBe(c.title);
      } else {
        expect(t(c.lang, c.message ?? '', c.args), JSON.stringify(c)).toBe(c.text);
      }
    }
  });

  it('says every message as the catalog parsed in the window would: the build-time parse is the same', () => {
    for (const [lang, source] of [['en', enSource], ['id', idSource]] as const) {
      // Every variable the catalog uses, numbers where plurals ask for them.
      const args = Object.fromEntries([...source.matchAll(/\$([a-z_]+)/g)].map(([, v]) => [v, /count|total|n$/.test(v) ? 3 : `‹${v}›`]));
      const raw = new FluentBundle(lang, { useIsolating: true });
      const resource = new FluentResource(source);
      expect(raw.addResource(resource)).toEqual([]);
      expect(resource.body.length).toBeGreaterThan(100);
      for (const entry of resource.body) {
        if (entry.id.startsWith('-')) continue;
        const msg = raw.getMessage(entry.id);
        const expected = msg?.value ? raw.formatPattern(msg.value, args, []) : entry.id;
        expect(t(lang, entry.id, args), `${lang} ${entry.id}`).toBe(expected);
        for (const attr of Object.keys(msg?.attributes ?? {})) {
          expect(t(lang, entry.id, args, attr)).toBe(raw.formatPattern(msg!.attributes[attr], args, []));
        }
      }
    }
  });

  it('names the scope of mark all read (NC-R6)', () => {
    expect(seen(markAllLabel('en', 7, 'inbox', 'chat_assignment'))).toBe('Mark 7 as read · Inbox · Assignment');
    expect(seen(markAllLabel('id', 3, 'general', null))).toBe('Tandai 3 sudah dibaca · Umum');
  });

  it('screen readers: says how many new notifications came and the unread total, in both languages', () => {
    expect(seen(t('en', 'sr-new-notifications', { count: 1, unread: 21 }))).toBe('1 new notification, 21 unread in total');
    expect(seen(t('en', 'sr-new-notifications', { count: 3, unread: 21 }))).toBe('3 new notifications, 21 unread in total');
    expect(seen(t('id', 'sr-new-notifications', { count: 3, unread: 21 }))).toBe('3 notifikasi baru, total 21 belum dibaca');
  });
});

describe('Today / Older (NC-R10)', () => {
  const now = new Date('2026-01-20T17:30:00Z'); // 00:30 on Jan 21 in Jakarta

  it('follows the local calendar day across the boundary', () => {
    expect(section('2026-01-20T17:00:00Z', now, 'Asia/Jakarta')).toBe('today');
    expect(section('2026-01-20T16:59:59Z', now, 'Asia/Jakarta')).toBe('older');
    expect(section('2026-01-20T16:59:59Z', now, 'UTC')).toBe('today');
    expect(section('2026-01-22T00:00:00Z', now, 'Asia/Jakarta')).toBe('today');
  });

  it('shows local times, with the date for older items', () => {
    expect(when('2026-01-20T17:05:00Z', now, 'en', 'Asia/Jakarta')).toBe('00:05');
    expect(when('2026-01-19T03:15:00Z', now, 'en', 'Asia/Jakarta')).toBe('19 Jan, 10:15');
    expect(when('2026-01-19T03:15:00Z', now, 'id', 'Asia/Jakarta')).toMatch(/19 Jan/);
  });
});

describe('the virtual list', () => {
  const now = new Date('2026-01-20T12:00:00Z');
  const items = new MockBackend(seed(10_000, now)).items; // newest first, as every backend returns them
  const list = rows(items, now, 'UTC');
  const offs = offsets(list);

  it('has a header per section and every item once', () => {
    expect(list.filter((r) => r.kind === 'item')).toHaveLength(10_000);
    expect(list.filter((r) => r.kind === 'header').map((r) => r.kind === 'header' && r.section)).toEqual(['today', 'older']);
    expect(offs[offs.length - 1]).toBe(2 * HEADER_HEIGHT + 10_000 * ITEM_HEIGHT);
  });

  it('draws only the rows in view, wherever the scroll is', () => {
    for (const top of [0, 12_345, 300_000, offs[offs.length - 1] - 600]) {
      const [from, to] = visible(offs, top, 600, 0);
      expect(offs[from]).toBeLessThanOrEqual(top);
      expect(offs[to]).toBeGreaterThanOrEqual(Math.min(top + 600, offs[offs.length - 1]));
      expect(to - from).toBeLessThanOrEqual(Math.ceil(600 / HEADER_HEIGHT) + 2);
    }
  });
});

describe('the web mock follows the store rules', () => {
  const now = new Date('2026-01-20T12:00:00Z');

  it('marks all read exactly in the scope, and undoes it (NC-R6)', async () => {
    const b = new MockBackend(seed(100, now));
    const before = await b.counts();
    const r = await b.markAllRead({ tab: 'inbox', category: 'chat_assignment' });
    expect(r.changed).toBe(before.categories.chat_assignment);
    const after = await b.counts();
    expect(after.categories.chat_assignment).toBe(0);
    expect(after.categories.resolved).toBe(before.categories.resolved);
    expect(after.tabs.general).toBe(before.tabs.general);
    await b.undo(r.undo!);
    expect(await b.counts()).toEqual(before);
  });

  it('pages newest first without gaps, and open marks read (NC-R7)', async () => {
    const b = new MockBackend(seed(500, now));
    const seen: string[] = [];
    let after = null;
    for (;;) {
      const p = await b.page({ tab: 'general', category: null }, false, after, 37);
      seen.push(...p.items.map((i) => i.id));
      if (!p.next) break;
      after = p.next;
    }
    const all = b.items.filter((i) => i.tab === 'general');
    expect(seen).toEqual(all.map((i) => i.id));
    const first = all.find((i) => !i.read_at)!;
    await b.openItem(first.id);
    expect(b.opened).toEqual([first.url]);
    expect(b.items.find((i) => i.id === first.id)!.read_at).not.toBeNull();
  });

  it('makes every category renderable', () => {
    for (const c of ['reminder', 'mention', 'assignment', 'update', 'download_upload', 'chat_assignment', 'resolved', 'blocked_contact', 'deals', 'expenses'] as const) {
      const text = render('en', sample(1, c, now));
      expect(text).not.toContain('{');
      expect(text.length).toBeGreaterThan(10);
    }
  });
});

describe('search highlighting and quiet-hour times', () => {
  it('marks word prefixes the terms match, case and accents aside, and nothing else', async () => {
    const { highlight, searchTerms } = await import('../src/view');
        // Whole words, and the start of the word being typed.
    const parts = highlight('Budi made you the owner of Café Élan', searchTerms('CAFE elan bud'));
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['Bud', 'Café', 'Élan']);
    expect(highlight('Budi Santoso', searchTerms('bud san ')).filter((p) => p.hit)).toEqual([]);
    expect(highlight('Café', searchTerms('cafe')).map((p) => p.text)).toEqual(['Café']);
    expect(parts.map((p) => p.text).join('')).toBe('Budi made you the owner of Café Élan');
    expect(highlight('<b>x</b>', searchTerms('b'))).toEqual([
      { text: '<', hit: false }, { text: 'b', hit: true }, { text: '>x</', hit: false }, { text: 'b', hit: true }, { text: '>', hit: false },
    ]);
        expect(searchTerms('  "maju" OR  ')).toEqual({ words: ['maju', 'or'], prefixLast: false });
    expect(searchTerms('maju ja')).toEqual({ words: ['maju', 'ja'], prefixLast: true });
    expect(searchTerms('a '.repeat(50)).words).toHaveLength(8);
  });

  it('reads and writes times of day as minutes after midnight', async () => {
    const { hhmm, minutesOf } = await import('../src/settings-panel');
    expect(hhmm(7 * 60)).toBe('07:00');
    expect(hhmm(22 * 60 + 5)).toBe('22:05');
    expect(minutesOf('21:30')).toBe(21 * 60 + 30);
    expect(minutesOf('24:00')).toBeNull();
    expect(minutesOf('')).toBeNull();
  });
});

describe('the first paint, handed over with the document', () => {
  const first = async () => {
    const mock = new MockBackend(seed(30, new Date('2026-12-07T09:00:00Z')));
    const scope = { tab: 'general' as const, category: null };
    const snapshot = {
      scope, unread_only: false, limit: 200,
      page: await mock.page(scope, false, null, 200), counts: await mock.counts(),
      settings: await mock.settings(), status: await mock.status(),
    };
    const calls: string[] = [];
    const counting = new Proxy(mock, {
      get: (target, name, receiver) => {
        const v = Reflect.get(target, name, receiver);
        return typeof v === 'function' ? (...args: unknown[]) => { calls.push(String(name)); return v.apply(target, args); } : v;
      },
    });
    return { snapshot, calls, commands: withFirstPaint(counting, snapshot), mock };
  };

  it('answers the first call of each part from what came with the document, later ones over IPC', async () => {
    const { snapshot, calls, commands, mock } = await first();
    expect(await commands.page(snapshot.scope, false, null, 200)).toBe(snapshot.page);
    expect(await commands.counts()).toBe(snapshot.counts);
    expect(await commands.settings()).toBe(snapshot.settings);
    expect(await commands.status()).toBe(snapshot.status);
    expect(calls).toEqual([]);
    await mock.markRead(snapshot.page.items[0].id);
    const again = await commands.page(snapshot.scope, false, null, 200);
    expect(again.items[0].read_at).not.toBeNull();
    await commands.counts();
    expect(calls).toEqual(['page', 'counts']);
  });

  it('answers a page only for the request it was read for', async () => {
    const { snapshot, calls, commands } = await first();
    const other = await commands.page({ tab: 'inbox', category: null }, false, null, 200);
    expect(other).not.toBe(snapshot.page);
    // Used up by the first request, even one it did not answer: it is no newer than that answer.
    expect(await commands.page(snapshot.scope, false, null, 200)).not.toBe(snapshot.page);
    expect(calls).toEqual(['page', 'page']);
  });

  it('is the plain commands without one', async () => {
    const mock = new MockBackend(seed(3, new Date()));
    expect(withFirstPaint(mock, undefined)).toBe(mock);
  });
});
