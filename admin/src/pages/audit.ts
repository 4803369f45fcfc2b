// Audit: who did what, when and from where; filtered by who and what, a page at a time.
import { call, q, type AuditPage } from '../api';
import { data, field, h, when } from '../dom';
import { t } from '../i18n';

export async function auditPage(root: HTMLElement): Promise<void> {
  const actor = h('input', { name: 'actor' });
  const action = h('input', { name: 'action' });
  const body = h('tbody');
  let before: number | null = null;
  const older = h('button', { type: 'button', hidden: true, onclick: () => load(false) }, t.older);
  async function load(fresh: boolean): Promise<void> {
    if (fresh) { before = null; body.replaceChildren(); }
    const page = await call<AuditPage>('GET', `/v1/admin/audit${q({ actor: actor.value.trim(), action: action.value.trim(), before, limit: 50 })}`);
    for (const a of page.items) {
      body.append(h('tr', {}, h('td', {}, when(a.at)), h('td', {}, data(a.actor)), h('td', {}, data(a.action)),
        h('td', {}, data(a.target)), h('td', {}, data(a.detail)), h('td', {}, data(a.address ?? '–'))));
    }
    before = page.next_before;
    older.hidden = !before;
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: '6' }, t.none)));
  }
  root.replaceChildren(
    h('h1', {}, t.audit),
    h('form', { class: 'inline', role: 'search', onsubmit: (e: Event) => { e.preventDefault(); void load(true); } },
      field(t.actor, actor, t.actorHint), field(t.action, action, t.actionHint), h('button', { type: 'submit' }, t.filter)),
    h('table', {}, h('caption', {}, t.audit),
      h('thead', {}, h('tr', {}, ...[t.at, t.actor, t.action, t.target, t.detail, t.address].map((x) => h('th', { scope: 'col' }, x)))),
      body),
    older);
  await load(true);
}
