// Maintenance: announce a window, start now, end now, and what agents see.
import { call, type MaintenanceStatus, type MaintenanceWindow } from '../api';
import { data, field, h, table, when } from '../dom';
import { t } from '../i18n';
import { act } from '../status';

/** A datetime-local value (the admin's time zone) as UTC on the wire. */
const utc = (local: string): string => new Date(local).toISOString();

export async function maintenancePage(root: HTMLElement): Promise<void> {
  const status = await call<MaintenanceStatus>('GET', '/v1/maintenance');
  const reload = (): Promise<void> => maintenancePage(root);
  const starts = h('input', { type: 'datetime-local', required: true, name: 'starts' });
  const ends = h('input', { type: 'datetime-local', required: true, name: 'ends' });
  const message = h('textarea', { name: 'message', maxlength: '500', rows: '2' });
  const form = h('form', {
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const body = { starts_at: utc(starts.value), ends_at: utc(ends.value), message: message.value.trim() };
      if (await act(() => call<MaintenanceWindow>('POST', '/v1/admin/maintenance/windows', body))) await reload();
    },
  }, field(t.starts, starts), field(t.ends, ends), field(t.message, message), h('button', { type: 'submit' }, t.announce));
  const rows = status.windows.map((w) => [
    document.createTextNode(when(w.starts_at)), document.createTextNode(when(w.ends_at)), data(w.message),
    h('span', { class: 'preview' }, t.agentsSeeText(when(w.starts_at), when(w.ends_at)), ' ', data(w.message)),
  ]);
  root.replaceChildren(
    h('h1', {}, t.maintenance),
    h('p', { class: status.active ? 'banner problem' : 'banner' },
      status.active ? `${t.underMaintenance}${status.until ? ` ${t.until} ${when(status.until)}` : ''}.` : t.notUnder),
    h('div', { class: 'inline' },
      status.active
        ? h('button', { type: 'button', onclick: async () => { if (await act(() => call('POST', '/v1/admin/maintenance/end', {}))) await reload(); } }, t.endNow)
        : h('button', {
          type: 'button', class: 'danger',
          onclick: async () => { if (confirm(t.confirmStart) && await act(() => call('POST', '/v1/admin/maintenance/start', {}))) await reload(); },
        }, t.startNow)),
    h('section', { 'aria-labelledby': 'windows-h' }, h('h2', { id: 'windows-h' }, t.windows),
      rows.length ? table([t.starts, t.ends, t.message, t.agentsSee], rows, t.windows) : h('p', {}, t.none)),
    h('section', { 'aria-labelledby': 'announce-h' }, h('h2', { id: 'announce-h' }, t.window), form));
}
