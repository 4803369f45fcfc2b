// Health: every node as it last reported (refreshed every 5 s), and a banner when the database
// (where the reports are) cannot be reached.
import { ApiError, call, type NodeView } from '../api';
import { data, h, table, when } from '../dom';
import { t } from '../i18n';

export async function healthPage(root: HTMLElement): Promise<() => void> {
  const banner = h('p', { class: 'banner problem', role: 'alert', hidden: true }, t.dbUnreachable);
  const nodes = h('div');
  root.replaceChildren(h('h1', {}, t.health), banner, h('p', {}, t.refreshing), nodes);
  async function refresh(): Promise<void> {
    try {
      const page = await call<{ nodes: NodeView[] }>('GET', '/v1/admin/nodes');
      banner.hidden = !page.nodes.some((n) => n.db_unavailable > 0 && n.stale);
      const rows = page.nodes.map((n) => [
        h('span', {}, data(n.id), h('br'), h('small', {}, `${n.version} · ${when(n.started_at)}`)),
        document.createTextNode(n.stale ? `${t.stale} (${when(n.seen_at)})` : t.yes),
        document.createTextNode(String(n.streams_open)),
        document.createTextNode(`${t.ms(n.delivery_lag_p50_ms)} / ${t.ms(n.delivery_lag_p99_ms)}`),
        document.createTextNode(t.ms(n.db_p99_ms)),
        document.createTextNode(String(n.db_unavailable)),
        document.createTextNode(String(n.dead_letters)),
      ]);
      nodes.replaceChildren(table([t.node, t.ready, t.streams, t.lag, t.dbLatency, t.dbDown, t.deadLetters], rows, t.health));
    } catch (e) {
      if (e instanceof ApiError && e.status === 503) banner.hidden = false;
      else throw e;
    }
  }
  await refresh();
  const timer = window.setInterval(() => { void refresh().catch(() => { banner.hidden = false; }); }, 5000);
  return () => window.clearInterval(timer);
}
