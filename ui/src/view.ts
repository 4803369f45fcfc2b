// Pure view logic, tested without a DOM: Today / Older in the device's time zone (NC-R10), times
// as the agent reads them, the rows of the list, and the window of rows to draw (virtualisation).

import type { Item, Lang } from './backend';
import { locale, t } from './i18n';

export type Section = 'today' | 'older';

// Building an Intl.DateTimeFormat loads ICU data and costs far more than formatting with one: the
// list formats two dates per row, so formatters are made once per locale, options and time zone.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(loc: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${loc}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(loc, opts);
    formatters.set(key, f);
  }
  return f;
}

/** The calendar day of `d` in `timeZone` as YYYY-MM-DD, which sorts as dates do. */
function day(d: Date, timeZone?: string): string {
  return formatter('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** NC-R10: Today is the current calendar day of `timeZone` (the device's, by default). */
export function section(createdAt: string, now: Date, timeZone?: string): Section {
  // Future items (a skewed clock) count as today rather than vanish.
  return day(new Date(createdAt), timeZone) >= day(now, timeZone) ? 'today' : 'older';
}

/** "14:05" today; "20 Jan, 14:05" before. */
export function when(createdAt: string, now: Date, lang: Lang, timeZone?: string): string {
  const opts: Intl.DateTimeFormatOptions =
    section(createdAt, now, timeZone) === 'today'
      ? { timeZone, hour: '2-digit', minute: '2-digit' }
      : { timeZone, day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  return formatter(locale(lang), opts).format(new Date(createdAt));
}

/** A time of day ("14:05"), or "…" when there is none. */
export function clock(lang: Lang, iso: string | null): string {
  return iso ? formatter(locale(lang), { hour: '2-digit', minute: '2-digit' }).format(new Date(iso)) : '…';
}

/** A date and time ("21 Nov 2026, 14:05"). */
export function dateTime(lang: Lang, iso: string): string {
  return formatter(locale(lang), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export type Row = { kind: 'header'; section: Section } | { kind: 'item'; item: Item };

export const HEADER_HEIGHT = 30;
export const ITEM_HEIGHT = 66;

/** The list's rows: each section's header, then its items (already newest first). */
export function rows(items: Item[], now: Date, timeZone?: string): Row[] {
  const out: Row[] = [];
  const today = day(now, timeZone);
  let current: Section | null = null;
  for (const item of items) {
    const s: Section = day(new Date(item.created_at), timeZone) >= today ? 'today' : 'older';
    if (s !== current) {
      out.push({ kind: 'header', section: s });
      current = s;
    }
    out.push({ kind: 'item', item });
  }
  return out;
}

/** Top offset of every row, plus the total height at the end. */
export function offsets(list: Row[]): number[] {
  const out = new Array<number>(list.length + 1);
  out[0] = 0;
  for (let i = 0; i < list.length; i++) {
    out[i + 1] = out[i] + (list[i].kind === 'header' ? HEADER_HEIGHT : ITEM_HEIGHT);
  }
  return out;
}

/** The rows to draw for a viewport, with `overscan` extra rows on each side. */
export function visible(offs: number[], scrollTop: number, height: number, overscan = 6): [number, number] {
  const n = offs.length - 1;
  if (n <= 0) return [0, 0];
  // First row whose bottom is below scrollTop (binary search).
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offs[mid + 1] <= scrollTop) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < n && offs[end] < scrollTop + height) end++;
  return [Math.max(0, lo - overscan), Math.min(n, end + overscan)];
}

/** "Mark 7 as read · Inbox · Assignment" (NC-R6: the scope is always shown). */
export function markAllLabel(lang: Lang, count: number, tab: string, category: string | null): string {
  const scope = [t(lang, `tab-${tab}`), category ? t(lang, `category-${category}`) : null].filter(Boolean).join(' · ');
  return t(lang, 'mark-all-read-scope', { count, scope });
}

/** Case and accents aside, as the search index compares words. */
/** Letters with no decomposition to strip, as people type them (the store folds the same:
 * `fold` in crates/client/src/store/search.rs). */
const LETTERS: Record<string, string> = {
  'ł': 'l', 'ø': 'o', 'đ': 'd', 'ð': 'd', 'ß': 'ss', 'æ': 'ae', 'œ': 'oe', 'þ': 'th', 'ı': 'i', 'ħ': 'h', 'ŧ': 't',
};

export function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[łøđðßæœþıħŧ]/gu, (c) => LETTERS[c] ?? c);
}

/** The words of a search as the runtime takes them (at most eight): whole words, but the last is a
 * prefix while it may still be being typed (no space after it). */
export interface Terms { words: string[]; prefixLast: boolean }

export function searchTerms(query: string): Terms {
  const words = fold(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean).slice(0, 8);
  return { words, prefixLast: !/\s$/u.test(query) };
}

/** Whether a word (already folded) is one the search matches. */
export function matches(folded: string, terms: Terms): string | undefined {
  const last = terms.words.length - 1;
  return terms.words
    .filter((t, i) => (i === last && terms.prefixLast ? folded.startsWith(t) : folded === t))
    .sort((a, b) => b.length - a.length)[0];
}

/** `text` in parts, each marked where a search term matched a word (whole, or the start of it for
 * the word being typed; case and accents aside). The parts are text for text nodes: a match is never markup from data. */
export function highlight(text: string, terms: Terms): Array<{ text: string; hit: boolean }> {
  const out: Array<{ text: string; hit: boolean }> = [];
  let at = 0;
  const push = (s: string, hit: boolean) => { if (s) out.push({ text: s, hit }); };
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    const word = m[0];
    const start = m.index ?? 0;
    const folded = fold(word);
        const term = matches(folded, terms);
    if (!term) continue;
    // How much of the word (in its own characters) the folded term covers.
    let len = 0;
    let covered = 0;
    for (const ch of word) {
      if (covered >= term.length) break;
      covered += fold(ch).length;
      len += ch.length;
    }
    push(text.slice(at, start), false);
    push(word.slice(0, len), true);
    at = start + len;
  }
  push(text.slice(at), false);
  return out;
}
