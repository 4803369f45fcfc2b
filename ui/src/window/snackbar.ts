// The snackbar: a short message at the foot of the window (an outcome, a refusal, the Undo of mark
// all read) that goes away by itself.

import { UNDO_WINDOW_MS, errorMessage, type AppError, type Item, type Lang } from '../backend';
import { h } from '../dom';
import { t } from '../i18n';

// The Undo bar stays exactly as long as the store keeps the mark-all back (one constant, from
// Rust); a click that arrives too late is told so.
const UNDO_MS = UNDO_WINDOW_MS;

export class Snackbar {
  private timer = 0;

  constructor(private root: HTMLElement, private lang: () => Lang) {}

  private get el(): HTMLElement {
    return this.root.querySelector('#snackbar') as HTMLElement;
  }

  /** Shows the snackbar for a few seconds; a newer message replaces the one showing. */
  show(children: Node[]) {
    const el = this.el;
    window.clearTimeout(this.timer);
    el.replaceChildren(...children);
    el.hidden = false;
    this.timer = window.setTimeout(() => { el.hidden = true; }, UNDO_MS);
  }

  hide() {
    window.clearTimeout(this.timer);
    this.el.hidden = true;
  }

  /** Says briefly what went wrong: for a refused link, where it goes (the host a browser would
   * visit, which the runtime judged). */
  notice(e: unknown, item?: Item) {
    const kind = e && typeof e === 'object' && 'kind' in e ? (e as AppError).kind : null;
    let text = errorMessage(e);
    if (kind === 'refused' && item) {
      let host = item.url;
      try {
        host = new URL(item.url).hostname;
      } catch {
        // Not a URL at all: name it as it is.
      }
      text = t(this.lang(), 'link-refused', { host });
    }
    this.show([h('span', {}, text)]);
  }
}
