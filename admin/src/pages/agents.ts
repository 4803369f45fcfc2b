// Agents: search (a page at a time), add, link to Qontak, disable, devices with sign-out, CSV import
// (preview, then apply) and export.
import { call, q, seg, type DeviceInfo, type ImportReport, type UserInfo, type UsersPage } from '../api';
import { data, field, h, table, when } from '../dom';
import { t } from '../i18n';
import { act } from '../status';


export async function agentsPage(root: HTMLElement): Promise<void> {
  const search = h('input', { type: 'search', name: 'q' });
  const list = h('div', { class: 'list' });
  let after: string | null = null;
  const more = h('button', { type: 'button', hidden: true, onclick: () => load(false) }, t.more);
  const body = h('tbody');
  const agentsTable = h('table', {},
    h('caption', {}, t.agents),
    h('thead', {}, h('tr', {}, ...[t.agentId, t.name, t.email, t.qontakAgentId, t.crmSsoId, t.devices, t.status, t.actions]
      .map((x) => h('th', { scope: 'col' }, x)))),
    body);
  list.append(agentsTable, more);

  async function load(fresh: boolean): Promise<void> {
    if (fresh) { after = null; body.replaceChildren(); }
    const page = await call<UsersPage>('GET', `/v1/admin/users${q({ q: search.value.trim(), after, limit: 50 })}`);
    for (const u of page.items) body.append(...row(u, () => load(true)));
    after = page.next_after;
    more.hidden = !after;
    if (body.children.length === 0) body.append(h('tr', {}, h('td', { colspan: '8' }, t.none)));
  }

  const newId = h('input', { name: 'id', required: true, maxlength: '128' });
  const newName = h('input', { name: 'name', required: true, maxlength: '200' });
  const addForm = h('form', {
    class: 'inline',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      if (await act(() => call('POST', '/v1/admin/users', { id: newId.value.trim(), name: newName.value.trim() }))) {
        addForm.reset();
        await load(true);
      }
    },
  }, field(t.agentId, newId, t.agentIdHint), field(t.name, newName), h('button', { type: 'submit' }, t.add));

  root.replaceChildren(
    h('h1', {}, t.agents),
    h('form', { role: 'search', class: 'inline', onsubmit: (e: Event) => { e.preventDefault(); void load(true); } },
      field(t.search, search), h('button', { type: 'submit' }, t.searchButton)),
    list,
    h('section', { 'aria-labelledby': 'add-h' }, h('h2', { id: 'add-h' }, t.newAgent), addForm),
    importSection(() => load(true)));
  await load(true);
}

function row(u: UserInfo, reload: () => Promise<void>): HTMLElement[] {
  const details = h('tr', { hidden: true, class: 'details' });
  const cell = h('td', { colspan: '8' });
  details.append(cell);
  const disabled = Boolean(u.disabled_at);
  const toggle = h('button', {
    type: 'button',
    onclick: async () => {
      if (!disabled && !confirm(t.confirmDisable)) return;
      if (await act(() => call('POST', `/v1/admin/users/${seg(u.id)}/${disabled ? 'enable' : 'disable'}`))) await reload();
    },
  }, disabled ? t.enable : t.disable);
  const showDevices = h('button', {
    type: 'button', 'aria-expanded': 'false',
    onclick: async () => {
      const open = details.hidden;
      details.hidden = !open;
      showDevices.setAttribute('aria-expanded', String(open));
      if (open) await devices(u, cell, reload);
    },
  }, t.showDevices);
  const edit = h('button', {
    type: 'button',
    onclick: () => { details.hidden = false; linkForm(u, cell, reload); },
  }, t.edit);
  const tr = h('tr', {},
    h('td', {}, data(u.id)), h('td', {}, data(u.name)), h('td', {}, data(u.email)),
    h('td', {}, data(u.agent_id ?? '–')), h('td', {}, data(u.crm_sso_id ?? '–')),
    h('td', {}, String(u.devices)), h('td', {}, disabled ? t.disabled : t.active),
    h('td', { class: 'actions' }, edit, showDevices, toggle));
  return [tr, details];
}

function linkForm(u: UserInfo, cell: HTMLElement, reload: () => Promise<void>): void {
  const agent = h('input', { name: 'agent_id', maxlength: '128', value: u.agent_id ?? '' });
  const sso = h('input', { name: 'crm_sso_id', maxlength: '128', value: u.crm_sso_id ?? '' });
  const form = h('form', {
    class: 'inline',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const body = { agent_id: agent.value.trim() || null, crm_sso_id: sso.value.trim() || null };
      if (await act(() => call('PUT', `/v1/admin/users/${seg(u.id)}/qontak`, body))) await reload();
    },
  }, field(t.qontakAgentId, agent, t.idHint), field(t.crmSsoId, sso, t.idHint), h('button', { type: 'submit' }, t.save));
  cell.replaceChildren(form);
  agent.focus();
}

async function devices(u: UserInfo, cell: HTMLElement, reload: () => Promise<void>): Promise<void> {
  const list = await call<{ devices: DeviceInfo[] }>('GET', `/v1/admin/users/${seg(u.id)}/devices`);
  const rows = list.devices.map((d) => [
    data(d.name || d.id), data(d.os || '–'), data(d.app_version || '–'), document.createTextNode(when(d.created_at)),
    document.createTextNode(when(d.last_seen_at)), data(d.last_address ?? '–'),
    d.revoked_at
      ? h('span', {}, `${t.signedOutAt} ${when(d.revoked_at)}`)
      : h('button', {
        type: 'button',
        onclick: async () => {
          if (await act(() => call('POST', `/v1/admin/users/${seg(u.id)}/devices/${seg(d.id)}/revoke`))) await devices(u, cell, reload);
        },
      }, t.signOutDevice),
  ]);
  const everywhere = h('button', {
    type: 'button', class: 'danger',
    onclick: async () => {
      if (!confirm(t.confirmEverywhere)) return;
      if (await act(() => call('POST', `/v1/admin/users/${seg(u.id)}/devices/revoke`))) await devices(u, cell, reload);
    },
  }, t.signOutEverywhere);
  cell.replaceChildren(
    rows.length ? table([t.deviceName, t.os, t.version, t.firstSeen, t.lastSeen, t.lastAddress, t.actions], rows, `${t.devices}: ${u.name}`) : h('p', {}, t.noDevices),
    everywhere);
}

function importSection(reload: () => Promise<void>): HTMLElement {
  const file = h('input', { type: 'file', accept: '.csv,text/csv', required: true });
  const report = h('div', { class: 'report' });
  const applyButton = h('button', { type: 'button', hidden: true }, t.apply);
  let text = '';
  async function send(dryRun: boolean): Promise<void> {
    await act(async () => {
      const r = await call<ImportReport>('POST', `/v1/admin/agents/import${q({ dry_run: dryRun })}`, text, 'text/csv');
      const rows = r.rows.map((x) => [
        document.createTextNode(String(x.line)), data(x.email), data(x.name), data(x.qontak_agent_id ?? '–'),
        data(x.crm_sso_id ?? '–'), data(x.user_id ?? '–'), x.error ? h('strong', { class: 'problem' }, data(x.error)) : document.createTextNode('✓'),
      ]);
      report.replaceChildren(
        h('p', {}, dryRun ? t.importSummary(r.imported, r.errors) : t.imported(r.imported, r.errors)),
        table([t.line, t.email, t.name, t.qontakAgentId, t.crmSsoId, t.user, t.error], rows, t.import));
      applyButton.hidden = !dryRun;
      if (!dryRun) await reload();
    });
  }
  applyButton.addEventListener('click', () => { void send(false); });
  const form = h('form', {
    class: 'inline',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const f = file.files?.[0];
      if (!f) return;
      text = await f.text();
      await send(true);
    },
  }, field(t.csvFile, file, t.importHint), h('button', { type: 'submit' }, t.preview));
  return h('section', { 'aria-labelledby': 'import-h' },
    h('h2', { id: 'import-h' }, t.import), form, report, applyButton,
    h('p', {}, h('a', { href: '/v1/admin/agents.csv', download: 'lonceng-agents.csv' }, t.export)));
}
