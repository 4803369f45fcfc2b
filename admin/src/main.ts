// The console's shell: who is signed in, the pages (by the address's #fragment), the language.
import { call, setCsrf, type Session } from './api';
import { h, field } from './dom';
import { lang, setLang, t } from './i18n';
import { agentsPage } from './pages/agents';
import { qontakPage } from './pages/qontak';
import { maintenancePage } from './pages/maintenance';
import { healthPage } from './pages/health';
import { auditPage } from './pages/audit';
import { say } from './status';

type Page = (root: HTMLElement) => Promise<(() => void) | void>;
type PageName = 'agents' | 'qontak' | 'maintenance' | 'health' | 'audit';
const pages: Record<PageName, Page> = {
  agents: agentsPage, qontak: qontakPage, maintenance: maintenancePage, health: healthPage, audit: auditPage,
};

const app = document.getElementById('app') as HTMLElement;
let session: Session | null = null;
let leave: (() => void) | void;

async function start(): Promise<void> {
  document.documentElement.lang = lang;
  try {
    session = await call<Session>('GET', '/admin/session');
    setCsrf(session.csrf);
    await show();
  } catch {
    await signInPage();
  }
}

async function signInPage(): Promise<void> {
  leave?.();
  session = null;
  const r = await fetch('/admin/session', { credentials: 'same-origin', cache: 'no-store' });
  const organisation = Boolean((await r.json().catch(() => ({})))?.organisation);
  const token = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const problem = h('p', { role: 'alert', class: 'problem' });
  const form = h('form', {
    onsubmit: async (e: Event) => {
      e.preventDefault();
      problem.textContent = '';
      try {
        session = await call<Session>('POST', '/admin/session', { token: token.value });
        setCsrf(session.csrf);
        await show();
      } catch (err) {
        problem.textContent = `${t.failed} ${(err as Error).message}`;
      }
    },
  }, field(t.adminToken, token), h('button', { type: 'submit' }, t.signIn));
  app.replaceChildren(
    h('main', { class: 'signin', id: 'main' },
      h('h1', {}, t.signInTitle),
      organisation ? h('p', {}, h('a', { class: 'button primary', href: '/admin/sign-in' }, t.signInOrg)) : h('p', {}, t.noOrg),
      h('h2', {}, t.signInToken), form, problem,
      languageButton()));
}

function languageButton(): HTMLElement {
  return h('button', {
    type: 'button', class: 'link', lang: lang === 'en' ? 'id' : 'en',
    onclick: async () => { setLang(lang === 'en' ? 'id' : 'en'); if (session) await show(); else await signInPage(); },
  }, t.language);
}

function current(): PageName {
  const name = location.hash.replace(/^#\/?/, '');
  return name in pages ? (name as PageName) : 'agents';
}

async function show(): Promise<void> {
  if (!session) return signInPage();
  leave?.();
  const name = current();
  const main = h('main', { id: 'main', tabindex: '-1' });
  const nav = h('nav', { 'aria-label': t.nav },
    h('ul', {}, ...(Object.keys(pages) as PageName[]).map((p) =>
      h('li', {}, h('a', { href: `#/${p}`, 'aria-current': p === name ? 'page' : undefined }, t[p])))));
  const signOut = h('button', {
    type: 'button',
    onclick: async () => {
      try { await call('DELETE', '/admin/session'); } finally { await signInPage(); }
    },
  }, t.signOut);
  app.replaceChildren(
    h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, t.skip),
    h('header', {},
      h('span', { class: 'brand' }, t.title),
      nav,
      h('span', { class: 'who' }, `${t.signedInAs} `, h('bdi', {}, session.email)),
      languageButton(), signOut),
    h('div', { id: 'status', role: 'status', 'aria-live': 'polite' }),
    main);
  document.title = `${t[name]} · ${t.title}`;
  try {
    leave = await pages[name](main);
  } catch (err) {
    say(`${t.failed} ${(err as Error).message}`, true);
  }
}

window.addEventListener('hashchange', () => { void show(); });
window.addEventListener('signed-out', () => { void signInPage(); });
void start();
