// The window's standing notices: the connection status and the maintenance banner, an update on
// offer, quiet hours, the tab's gap marker, and what could not be shown (quarantine).

import type { UpdateOffer } from '../backend';
import { h } from '../dom';
import { t } from '../i18n';
import { clock, dateTime, when } from '../view';
import type { Ctx } from './state';

export class Banners {
  private update: UpdateOffer | null = null;

  constructor(private ctx: Ctx) {}

  async refreshUpdate() {
    this.update = await this.ctx.backend.updateOffer().catch(() => null);
    this.renderUpdate();
  }

  /** A signed update on offer: installed only when the agent presses the button. */
  renderUpdate() {
    const el = this.ctx.root.querySelector('#update') as HTMLElement | null;
    if (!el) return;
    const u = this.update;
    el.hidden = !u;
    if (!u) { el.replaceChildren(); return; }
    const lang = this.ctx.lang;
    const button = h('button', { id: 'install-update', class: 'link' }, t(lang, 'update-install'));
    button.addEventListener('click', () => {
      button.disabled = true;
      void this.ctx.backend.installUpdate().catch((e: unknown) => { button.disabled = false; this.ctx.snackbar.notice(e); });
    });
    el.replaceChildren(
      h('span', {}, t(lang, 'update-available', { version: u.version })),
      ...(u.error ? [h('small', { class: 'update-error' }, t(lang, 'update-failed', { error: u.error }))] : []),
      button,
    );
  }

  /** What could not be shown, said quietly, with the reasons one click away. */
  renderQuarantine() {
    const el = this.ctx.root.querySelector('#quarantine') as HTMLElement | null;
    const n = this.ctx.s.counts?.quarantined ?? 0;
    const lang = this.ctx.lang;
    // Drawn again only when it changes (or the language does): an open list of reasons stays open.
    const drawn = `${n}|${lang}`;
    if (!el || el.dataset.drawn === drawn) return;
    el.dataset.drawn = drawn;
    el.hidden = n === 0;
    if (!n) return;
    const reasons = h('ul', { class: 'reasons', id: 'quarantine-reasons', hidden: true });
    const why = h('button', { class: 'link', id: 'quarantine-why', 'aria-expanded': 'false' }, t(lang, 'quarantined-why'));
    why.addEventListener('click', async () => {
      const open = reasons.hidden;
      why.setAttribute('aria-expanded', String(open));
      reasons.hidden = !open;
      if (open) {
        const q = await this.ctx.backend.quarantine();
        reasons.replaceChildren(...q.latest.map((r) => h('li', {}, `${dateTime(lang, r.received_at)} · ${r.reason}`)));
      }
    });
    el.replaceChildren(h('span', {}, t(lang, 'quarantined-count', { count: n })), ' ', why, reasons);
  }

  /** The status dot in the header, and the calm banner below it. */
  renderStatus() {
    const { root, lang } = this.ctx;
    const st = this.ctx.s.status;
    const el = root.querySelector('#status');
    const banner = root.querySelector('#banner') as HTMLElement | null;
    if (!el || !banner || !st) return;
    const time = (iso: string | null) => clock(lang, iso);
    let text: string;
    let cls: string;
    switch (st.state.state) {
      case 'connected': text = t(lang, 'status-connected'); cls = 'ok'; break;
      case 'connecting': text = t(lang, 'status-reconnecting'); cls = 'wait'; break;
      case 'reconnecting': text = t(lang, 'status-reconnecting-at', { time: time(st.state.next_attempt_at) }); cls = 'wait'; break;
      case 'maintenance': text = t(lang, 'status-maintenance-until', { time: time(st.state.until) }); cls = 'wait'; break;
      case 'offline': text = `${t(lang, 'status-offline')} ${st.state.reason}`; cls = 'off'; break;
    }
    el.textContent = st.state.state === 'connected' ? text : '●';
    el.className = `status ${cls}`;
    el.setAttribute('title', st.last_synced_at ? `${text} — ${t(lang, 'last-synced', { time: time(st.last_synced_at) })}` : text);
    // MW-1 / MW-2: the calm banner: the current state, or the next announced window.
    const upcoming = st.maintenance?.windows.find((w) => new Date(w.ends_at) > this.ctx.now());
    const bannerText = st.state.state !== 'connected'
      ? text
      : upcoming
        ? t(lang, 'maintenance-announced', {
            start: dateTime(lang, upcoming.starts_at),
            end: time(upcoming.ends_at),
          })
        : '';
    // ORG-1: a clicked sign-in link: its server is asked about, never switched to silently.
    const offered = this.ctx.s.settings?.account.offered_server;
    if (offered) {
      const yes = h('button', { class: 'link', id: 'link-sign-in' }, t(lang, 'settings-sign-in'));
      const no = h('button', { class: 'link', id: 'link-dismiss' }, t(lang, 'sign-in-link-no'));
      const answer = (accept: boolean) => {
        yes.disabled = no.disabled = true;
        void this.ctx.backend.answerSignInLink(accept).catch((e: unknown) => this.ctx.snackbar.notice(e));
      };
      yes.addEventListener('click', () => answer(true));
      no.addEventListener('click', () => answer(false));
      banner.replaceChildren(h('span', { id: 'link-ask' }, t(lang, 'sign-in-link-ask', { server: offered })), ' ', yes, ' ', no);
      banner.hidden = false;
      return;
    }
    // ORG-1: signed out (by the organisation, or never signed in): one click starts signing in.
    const account = this.ctx.s.settings;
    // The runtime decides whether signing in is on offer (crates/desktop: needs_sign_in).
    const needsSignIn = !!account?.account.sign_in_offered && st.state.state === 'offline';
    if (needsSignIn) {
      const again = !!account?.account.signed_out;
      const button = h('button', { class: 'link', id: 'banner-sign-in' }, t(lang, again ? 'settings-sign-in-again' : 'settings-sign-in'));
      button.addEventListener('click', () => {
        button.disabled = true;
        void this.ctx.backend.signIn().catch((e: unknown) => this.ctx.snackbar.notice(e)).finally(() => { button.disabled = false; });
      });
      const said = again ? t(lang, 'settings-signed-out') : t(lang, 'settings-sign-in-needed');
      banner.replaceChildren(h('span', {}, said), ' ', button);
      banner.hidden = false;
      return;
    }
    banner.textContent = bannerText;
    banner.hidden = !bannerText;
  }

  /** NC-R5: the active tab's gap marker, until dismissed. */
  renderGap() {
    const { s, root, lang } = this.ctx;
    const gap = root.querySelector('#gap') as HTMLElement | null;
    if (!gap) return;
    const tab = s.tab;
    gap.hidden = !s.gaps.includes(tab);
    if (gap.hidden) { gap.replaceChildren(); return; }
    const dismiss = h('button', { class: 'link', id: 'gap-dismiss' }, t(lang, 'gap-dismiss'));
    dismiss.addEventListener('click', () => void this.ctx.backend.dismissGap(tab).then(() => this.ctx.refreshAside()));
    gap.replaceChildren(h('span', {}, t(lang, 'gap-expired', { tab })), dismiss);
  }

  /** Toasts held (quiet hours, a pause) and until when, with Resume. */
  renderQuiet() {
    const { s, root, lang } = this.ctx;
    const quiet = root.querySelector('#quiet') as HTMLElement | null;
    if (!quiet) return;
    const q = s.quiet;
    quiet.hidden = !q;
    if (!q) { quiet.replaceChildren(); return; }
    const resume = h('button', { class: 'link', id: 'resume' }, t(lang, 'tray-resume'));
    resume.addEventListener('click', () => void this.ctx.backend.resume().then(() => this.ctx.refreshAside()));
    const id = q.kind === 'paused' ? 'tray-paused-until' : 'tray-quiet-until';
    quiet.replaceChildren(h('span', {}, t(lang, id, { time: when(q.until, this.ctx.now(), lang) })), resume);
  }
}
