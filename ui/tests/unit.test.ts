import { describe, expect, it } from 'vitest';
import { render, t } from '../src/i18n';
import { MockBackend, sample, seed } from '../src/mock-backend';
import { markAllLabel, offsets, rows, section, visible, when, HEADER_HEIGHT, ITEM_HEIGHT } from '../src/view';

describe('i18n (NC-R11)', () => {
  const item = { kind: 'conversation_assigned', params: { actor: 'Budi', contact_name: 'Siti', channel: 'whatsapp' } };

  it('renders exactly what the Rust core renders, in both languages', () => {
    // The same expectations as crates/core/src/i18n.rs.
    expect(render('en', item)).toBe('Budi assigned you the conversation with Siti on WhatsApp');
    expect(render('id', item)).toBe('Budi menugaskan percakapan dengan Siti di WhatsApp kepada Anda');
    const exp = (n: number) => ({ kind: 'export_ready', params: { object_type: 'deals', count: n } });
    expect(render('en', exp(1))).toBe('Your export of 1 deal is ready to download');
    expect(render('en', exp(1250))).toBe('Your export of 1,250 deals is ready to download');
    expect(render('id', exp(1250))).toBe('Ekspor 1.250 deal Anda siap diunduh');
    expect(render('en', exp(1_234_567))).toBe('Your export of 1,234,567 deals is ready to download');
    expect(render('id', exp(3))).toBe('Ekspor 3 deal Anda siap diunduh');
  });

  it('keeps parameter text as text', () => {
    const r = render('en', { kind: 'deal_owner_assigned', params: { actor: '<img src=x onerror=alert(1)>', deal_name: '{ $x }' } });
    expect(r).toBe('<img src=x onerror=alert(1)> made you the owner of deal { $x }');
  });

  it('names the scope of mark all read (NC-R6)', () => {
    expect(markAllLabel('en', 7, 'inbox', 'chat_assignment')).toBe('Mark 7 as read · Inbox · Assignment');
    expect(markAllLabel('id', 3, 'general', null)).toBe('Tandai 3 sudah dibaca · Umum');
    expect(t('en', 'no-such-message')).toBe('no-such-message');
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
    await b.open(first.id);
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
