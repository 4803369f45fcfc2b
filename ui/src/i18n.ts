// The same Fluent catalogs as the Rust core (crates/core/locales), so the list and the toasts always
// say the same thing. Text is rendered from kind + parameters at display time (NC-R11).

import { FluentBundle, FluentResource, type FluentVariable } from '@fluent/bundle';
import en from '../../crates/core/locales/en/lonceng.ftl?raw';
import id from '../../crates/core/locales/id/lonceng.ftl?raw';
import { KIND_MESSAGES, type Item, type Lang } from './backend';

function bundle(locale: string, source: string): FluentBundle {
  // Plain text: no Unicode isolation marks around placeables (the Rust side does the same).
  const b = new FluentBundle(locale, { useIsolating: false });
  const errors = b.addResource(new FluentResource(source));
  if (errors.length) throw new Error(`${locale} catalog: ${errors.map(String).join('; ')}`);
  return b;
}

// Parsed on first use: a window in one language never parses the other catalog.
const sources: Record<Lang, string> = { en, id };
const bundles: Partial<Record<Lang, FluentBundle>> = {};
function get(lang: Lang): FluentBundle {
  return (bundles[lang] ??= bundle(lang, sources[lang]));
}

export type Args = Record<string, FluentVariable>;

/** A UI message; a missing one shows its id rather than nothing. */
export function t(lang: Lang, msgId: string, args?: Args, attr?: string): string {
  const b = get(lang);
  const msg = b.getMessage(msgId);
  const pattern = attr ? msg?.attributes[attr] : msg?.value;
  if (!pattern) return msgId;
  return b.formatPattern(pattern, args);
}

export function has(lang: Lang, msgId: string): boolean {
  return get(lang).hasMessage(msgId);
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
