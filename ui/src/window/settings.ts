// The settings section of the window: opened and closed from the header (or the tray), and drawn
// by settings-panel.ts from the settings as saved.

import { renderSettingsPanel } from '../settings-panel';
import type { Ctx } from './state';

export class SettingsSection {
  constructor(private ctx: Ctx) {}

  /** Wires the header's settings button after the window was laid out again. */
  mount() {
    this.ctx.root.querySelector('#open-settings')?.addEventListener('click', () => this.toggle());
  }

  toggle() {
    const s = this.ctx.s;
    s.showSettings = !s.showSettings;
    const el = this.ctx.root.querySelector('#settings') as HTMLElement;
    el.hidden = !s.showSettings;
    if (s.showSettings) {
      this.render();
      (el.querySelector('select, input') as HTMLElement | null)?.focus();
    }
  }

  render() {
    const { s, root, backend, lang, snackbar } = this.ctx;
    const el = root.querySelector('#settings') as HTMLElement | null;
    const st = s.settings;
    if (!el || !st) return;
    renderSettingsPanel(el, st, lang, backend, {
      // The agent is done with the form: show what is now saved (e.g. where the token is kept).
      saved: (saved) => {
        s.settings = saved;
        this.render();
      },
      failed: (e) => snackbar.notice(e),
    });
  }
}
