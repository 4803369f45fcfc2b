// The live region for screen readers: what a refresh brought (new unread items in view, or a
// changed unread total), said once.

import type { Item } from '../backend';
import { t } from '../i18n';
import type { Ctx } from './state';

export class Announcer {
  /** What the live region last reported from: the unread total, and the newest item of the scope. */
  private heard: { total: number; scope: string; newest: Item | undefined } | null = null;

  constructor(private ctx: Ctx) {}

  /** Says what a refresh brought: new unread items of the list in view, else a changed unread total.
   * Quiet on the first load, on scope changes (the list in view is not news) and on redraws. */
  announce() {
    const s = this.ctx.s;
    const counts = s.counts;
    const el = this.ctx.root.querySelector('#announce');
    if (!counts || !el) return;
    // What is listed: a search (in a tab or in all) is another list, not news.
    const scope = `${s.tab}|${s.category}|${s.unreadOnly}|${s.search}|${s.everywhere}`;
    const before = this.heard;
    const same = before?.scope === scope;
    const last = same ? before.newest : undefined;
    const newer = (i: Item) => !last || i.created_at > last.created_at || (i.created_at === last.created_at && i.id > last.id);
    // The newest item seen only moves forward: items coming back (an undo) are not new.
    const top = s.items[0];
    this.heard = { total: counts.total, scope, newest: top && newer(top) ? top : last };
    if (!before) return;
    const fresh = same ? s.items.filter((i) => !i.read_at && newer(i)).length : 0;
    const lang = this.ctx.lang;
    if (fresh) el.textContent = t(lang, 'sr-new-notifications', { count: fresh, unread: counts.total });
    else if (counts.total !== before.total) el.textContent = t(lang, 'unread-count', { count: counts.total });
  }
}
