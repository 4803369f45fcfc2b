// Snoozing: the snooze menu of a row (an hour, this afternoon, tomorrow morning, or a time picked),
// and the Snoozed view that shows what waits and brings it back.

import type { Item } from '../backend';
import { h } from '../dom';
import { render, t } from '../i18n';
import { clock, when } from '../view';
import type { Ctx } from './state';

export class Snooze {
  constructor(private ctx: Ctx) {}

  /** Wires the Snoozed view's toggle after the window was laid out again. */
  mount() {
    this.ctx.root.querySelector('#snoozed-toggle')?.addEventListener('click', () => {
      this.ctx.s.showSnoozed = !this.ctx.s.showSnoozed;
      this.ctx.renderAside();
    });
  }

  /** The snooze menu for `item`, opened from its button `from` (which gets the focus back). */
  async open(item: Item, from: HTMLElement) {
    const { root, backend, snackbar, now, lang } = this.ctx;
    const menu = root.querySelector('#snooze-menu') as HTMLElement;
    const times = await backend.snoozeTimes();
    const close = () => { menu.hidden = true; menu.replaceChildren(); from.focus(); };
    const choose = (until: string) => {
      close();
      void backend.snooze(item.id, until).then(
        async (done) => {
          if (done) snackbar.show([h('span', {}, t(lang, 'snooze-done', { time: when(until, now(), lang) }))]);
          await this.ctx.reload(true);
          // Its row is gone: the list keeps the keyboard.
          (root.querySelector('#list') as HTMLElement).focus();
        },
        (e: unknown) => snackbar.notice(e, item),
      );
    };
    const option = (id: string, label: string, until: string) => {
      const b = h('button', { class: 'link', 'data-snooze': id }, label);
      b.addEventListener('click', () => choose(until));
      return b;
    };
    // A time picked in the device's time zone, at least a minute ahead.
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    const pick = h('input', { type: 'datetime-local', id: 'snooze-at', min: local(new Date(now().getTime() + 60_000)), step: '60' });
    const apply = h('button', { class: 'secondary', id: 'snooze-apply' }, t(lang, 'snooze-apply'));
    apply.addEventListener('click', () => {
      const at = pick.value ? new Date(pick.value) : null;
      if (!at || Number.isNaN(at.getTime()) || at <= now()) { snackbar.show([h('span', {}, t(lang, 'snooze-past'))]); return; }
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

  /** The Snoozed view's toggle (with how many wait), and the view when it is shown. */
  render() {
    const { s, root, lang } = this.ctx;
    const now = this.ctx.now();
    const toggle = root.querySelector('#snoozed-toggle') as HTMLButtonElement | null;
    const view = root.querySelector('#snoozed') as HTMLElement | null;
    if (!toggle || !view) return;
    const n = s.snoozed.length;
    toggle.hidden = n === 0 && !s.showSnoozed;
    toggle.textContent = n ? t(lang, 'snoozed-count', { count: n }) : t(lang, 'snoozed-view');
    toggle.setAttribute('aria-pressed', String(s.showSnoozed));
    view.hidden = !s.showSnoozed;
    if (!s.showSnoozed) return;
    view.replaceChildren(
      h('h2', {}, t(lang, 'snoozed-view')),
      n ? h('ul', { class: 'snoozed-items' },
        ...s.snoozed.map((sn) => {
          const back = h('button', { class: 'link unsnooze', 'data-id': sn.item.id }, t(lang, 'snooze-cancel'));
          back.addEventListener('click', () => void this.ctx.backend.unsnooze(sn.item.id).then(() => this.ctx.reload(true)));
          return h('li', { 'data-id': sn.item.id },
            h('span', { class: 'text' }, render(lang, sn.item)),
            h('small', { class: 'until' }, t(lang, 'snoozed-until', { time: when(sn.until, now, lang) })),
            back,
          );
        }))
        : h('p', { class: 'note' }, t(lang, 'snoozed-empty')),
    );
  }
}
