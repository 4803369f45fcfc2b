// Qontak: webhook secrets (the secret and its URL shown once), dead letters (bodies shown as text,
// replayed one by one or as a selection), and the CRM bridge per agent with the organisation's budget.
import { call, q, seg, type AgentView, type BridgeStatus, type DeadLetterPage, type IssuedSecret, type SecretInfo, type WebhookAnswer } from '../api';
import { data, h, table, when } from '../dom';
import { t } from '../i18n';
import { act, say } from '../status';

export async function qontakPage(root: HTMLElement): Promise<void> {
  const secrets = h('section', { 'aria-labelledby': 'secrets-h' });
  const dead = h('section', { 'aria-labelledby': 'dead-h' });
  const bridge = h('section', { 'aria-labelledby': 'bridge-h' });
  root.replaceChildren(h('h1', {}, t.qontak), secrets, dead, bridge);
  await Promise.all([secretsSection(secrets), deadSection(dead), bridgeSection(bridge)]);
}

async function secretsSection(root: HTMLElement, fresh?: IssuedSecret): Promise<void> {
  const issued = h('div', { class: 'issued', hidden: true });
  const show = (s: IssuedSecret): void => {
    const url = `${location.origin}${s.path}`;
    const input = h('input', { readonly: true, value: url, class: 'wide', id: 'webhook-url' });
    issued.hidden = false;
    issued.replaceChildren(
      h('p', { role: 'alert' }, h('strong', {}, t.shownOnce)),
      h('label', { for: 'webhook-url' }, t.webhookUrl), input,
      h('button', {
        type: 'button',
        onclick: async () => {
          try { await navigator.clipboard.writeText(url); say(t.copied); } catch { input.select(); }
        },
      }, t.copy),
      s.previous_valid_until ? h('p', {}, `${t.oldValidUntil}: ${when(s.previous_valid_until)}`) : '');
    input.focus();
    input.select();
  };
  const list = await call<SecretInfo[]>('GET', '/v1/admin/qontak/webhook-secrets');
  const rows = list.map((s) => [
    data(s.id), document.createTextNode(when(s.created_at)), document.createTextNode(when(s.rotated_at)),
    document.createTextNode(when(s.previous_valid_until)), document.createTextNode(when(s.last_used_at)),
    h('button', {
      type: 'button',
      onclick: async () => {
        let got: IssuedSecret | undefined;
        if (await act(async () => { got = await call<IssuedSecret>('POST', `/v1/admin/qontak/webhook-secrets/${seg(s.id)}/rotate`); })) {
          await secretsSection(root, got);
        }
      },
    }, t.rotate),
  ]);
  root.replaceChildren(
    h('h2', { id: 'secrets-h' }, t.secrets), h('p', {}, t.secretsHint),
    rows.length ? table(['Id', t.created, t.rotated, t.oldValidUntil, t.lastUsed, t.actions], rows, t.secrets) : h('p', {}, t.none),
    h('button', {
      type: 'button',
      onclick: async () => {
        let got: IssuedSecret | undefined;
        if (await act(async () => { got = await call<IssuedSecret>('POST', '/v1/admin/qontak/webhook-secrets'); })) {
          await secretsSection(root, got);
        }
      },
    }, t.createSecret),
    issued);
  if (fresh) show(fresh);
}

async function deadSection(root: HTMLElement): Promise<void> {
  const body = h('tbody');
  const selected = new Set<number>();
  let before: number | null = null;
  const older = h('button', { type: 'button', hidden: true, onclick: () => load() }, t.older);
  async function load(): Promise<void> {
    const page = await call<DeadLetterPage>('GET', `/v1/admin/qontak/dead-letters${q({ before, limit: 25 })}`);
    for (const d of page.items) {
      const viewer = h('pre', { class: 'body', hidden: true, tabindex: '0' });
      const view = h('button', {
        type: 'button', 'aria-expanded': 'false',
        onclick: () => {
          viewer.hidden = !viewer.hidden;
          // The body is what a stranger may have sent: set as text, never parsed.
          if (!viewer.hidden) viewer.textContent = d.body;
          view.setAttribute('aria-expanded', String(!viewer.hidden));
          view.textContent = viewer.hidden ? t.view : t.hide;
        },
      }, t.view);
      const box = h('input', {
        type: 'checkbox', 'aria-label': `${t.select} ${d.id}`,
        onchange: (e: Event) => { if ((e.target as HTMLInputElement).checked) selected.add(d.id); else selected.delete(d.id); },
      });
      const replay = h('button', {
        type: 'button',
        onclick: async () => {
          let answer: WebhookAnswer | undefined;
          if (await act(async () => { answer = await call<WebhookAnswer>('POST', `/v1/admin/qontak/dead-letters/${d.id}/replay`); })) {
            say(`${t.replay} ${d.id}: ${answer?.status}`);
            await deadSection(root);
          }
        },
      }, t.replay);
      body.append(
        h('tr', {}, h('td', {}, box), h('td', {}, String(d.id)), h('td', {}, when(d.received_at)), h('td', {}, data(d.source)),
          h('td', {}, data(d.reason)), h('td', {}, String(d.replays)), h('td', { class: 'actions' }, view, replay)),
        h('tr', { class: 'details' }, h('td', { colspan: '7' }, viewer)));
    }
    before = page.next_before;
    older.hidden = !before;
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: '7' }, t.none)));
  }
  const replaySelected = h('button', {
    type: 'button',
    onclick: async () => {
      const ids = [...selected];
      if (!ids.length) return;
      const answers: string[] = [];
      if (await act(async () => {
        for (const id of ids) answers.push(`${id}: ${(await call<WebhookAnswer>('POST', `/v1/admin/qontak/dead-letters/${id}/replay`)).status}`);
      })) {
        say(`${t.replaySelected}: ${answers.join(', ')}`);
        await deadSection(root);
      }
    },
  }, t.replaySelected);
  root.replaceChildren(
    h('h2', { id: 'dead-h' }, t.deadLetters), h('p', {}, t.deadHint),
    h('table', {}, h('caption', {}, t.deadLetters),
      h('thead', {}, h('tr', {}, ...[t.select, 'Id', t.received, t.source, t.reason, t.replays, t.actions].map((x) => h('th', { scope: 'col' }, x)))),
      body),
    older, replaySelected);
  await load();
}

async function bridgeSection(root: HTMLElement): Promise<void> {
  const [status, agents] = await Promise.all([
    call<BridgeStatus>('GET', '/v1/admin/qontak/bridge'),
    call<AgentView[]>('GET', '/v1/admin/qontak/agents'),
  ]);
  const rows = agents.map((a) => [
    data(a.name), data(a.agent_id ?? '–'), data(a.crm_sso_id ?? '–'),
    document.createTextNode(when(a.crm?.last_success_at)),
    a.crm?.last_error ? h('span', {}, data(a.crm.last_error), ` (${when(a.crm.last_error_at)})`) : document.createTextNode('–'),
    document.createTextNode(String(a.crm?.requests ?? 0)),
    document.createTextNode(when(a.crm?.backoff_until)),
  ]);
  root.replaceChildren(
    h('h2', { id: 'bridge-h' }, t.bridge),
    h('p', {}, status.configured ? t.budget(status.budget_per_minute, status.poll_interval_seconds) : t.bridgeOff),
    status.paused_until ? h('p', { class: 'problem' }, `${t.pausedUntil} ${when(status.paused_until)}: `, data(status.pause_reason)) : '',
    rows.length ? table([t.name, t.qontakAgentId, t.crmSsoId, t.lastSuccess, t.lastError, t.requests, t.backoff], rows, t.bridge) : h('p', {}, t.none));
}
