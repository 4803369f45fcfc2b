// The same Fluent catalogs as the Rust core (crates/domain/locales), so the list and the toasts always
// say the same thing. Text is rendered from kind + parameters at display time (NC-R11).

import { FluentBundle, FluentResource, type FluentVariable } from '@fluent/bundle';
import en from '../../crates/domain/locales/en/lonceng.ftl?parsed';
import id from '../../crates/domain/locales/id/lonceng.ftl?parsed';
import { KIND_MESSAGES, type Item, type Lang } from './backend';

function bundle(locale: string, body: FluentResource['body']): FluentBundle {
  // Every parameter is isolated (FSI … PDI), as on the Rust side: text written right to left, or
  // pretending to be, cannot reorder the words around it.
  const b = new FluentBundle(locale, { useIsolating: true });
  // Parsed when the window was built (vite.config.ts): the resource only carries it.
  const errors = b.addResource(Object.assign(new FluentResource(''), { body }));
  if (errors.length) throw new Error(`${locale} catalog: ${errors.map(String).join('; ')}`);
  return b;
}

// Made on first use: a window in one language never reads the other catalog.
const sources: Record<Lang, () => FluentResource['body']> = { en, id };
const bundles: Partial<Record<Lang, FluentBundle>> = {};
function get(lang: Lang): FluentBundle {
  return (bundles[lang] ??= bundle(lang, sources[lang]()));
}

export type Args = Record<string, FluentVariable>;

/** A UI message; a missing one shows its id rather than nothing. */
export function t(lang: Lang, msgId: string, args?: Args, attr?: string): string {
  const b = get(lang);
  const msg = b.getMessage(msgId);
  const pattern = attr ? msg?.attributes[attr] : msg?.value;
  if (!pattern) return msgId;
  return b.formatPattern(pattern, clean(args));
}

export function has(lang: Lang, msgId: string): boolean {
  return get(lang).hasMessage(msgId);
}

/** The explicit bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) taken out of
 * parameter text, as the Rust core does: its direction comes from its own letters. */
export function stripBidiControls(s: string): string {
  return s.replace(/[\u202A-\u202E\u2066-\u2069]/g, '');
}

function clean(args: Args | undefined): Args | undefined {
  if (!args) return args;
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === 'string' ? stripBidiControls(v) : v]));
}

/** A notification's text in `lang`: the catalog message of its kind (core's map, generated). An
 * unknown kind shows its key rather than nothing. */
export function render(lang: Lang, item: Pick<Item, 'kind' | 'params'>): string {
  return t(lang, KIND_MESSAGES[item.kind] ?? item.kind, item.params);
}

/** BCP 47 locale for dates and numbers. */
export function locale(lang: Lang): string {
  return lang === 'id' ? 'id-ID' : 'en-GB';
}
