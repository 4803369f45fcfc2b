// ORG-4: the admin console in headless Chromium against the real server (SQLite; PostgreSQL when
// LONCENG_TEST_POSTGRES is set, as scripts/with-postgres.sh does) and a real OpenID provider
// (tests/idp). Each page's main task is done as an admin would, by clicking and typing; hostile
// data stays text; CSRF, framing, another site's pages and a non-admin are refused; a CSP
// violation on any page fails the test; axe-core finds nothing on any page; screenshots of every
// page in both languages land in admin/tests/screenshots/.
//
//   node --test admin/tests/console.test.mjs     (needs target/debug/lonceng-server and admin/dist)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
// The GUI suites' condition poller: the console suite waits the same way.
import { until } from '../../tests/gui/desktop.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const serverBin = join(root, 'target/debug/lonceng-server');
const shots = join(root, 'admin/tests/screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const ADMIN = 'console-admin-token';
const PRODUCER = 'console-producer-token';
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>\u202Egnp.exe';
const children = [];
let serverUrl;
let browser;
let evil;
let evilOrigin;

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

function start(bin, args, env) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.output = () => out;
  children.push(child);
  return child;
}

async function api(method, path, token, body, type = 'application/json') {
  const r = await fetch(`${serverUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

function database(work) {
  const pg = process.env.LONCENG_TEST_POSTGRES;
  if (!pg) return join(work, 'server.db');
  const name = `console_${process.pid}`;
  const made = spawnSync('psql', [pg, '-c', `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  return pg.replace(/\/[^/]*$/, `/${name}`);
}

before(async () => {
  assert.ok(existsSync(serverBin), `${serverBin} is built`);
  assert.ok(existsSync(join(root, 'admin/dist/index.html')), 'admin/dist is built (npm run build in admin/)');
  mkdirSync(shots, { recursive: true });
  const [idpPort, serverPort] = [await freePort(), await freePort()];
  serverUrl = `http://127.0.0.1:${serverPort}`;
  const secret = 'console-oidc-client-secret';
  const idp = start(process.execPath, [join(root, 'tests/idp/provider.mjs')], {
    IDP_PORT: String(idpPort), IDP_REDIRECT: `${serverUrl}/v1/auth/callback`, IDP_CLIENT_SECRET: secret,
  });
  await until('the identity provider', () => idp.output().includes('listening'));
  const work = mkdtempSync(join(tmpdir(), 'lonceng-console-'));
  start(serverBin, [
    '--db', database(work), '--listen', `127.0.0.1:${serverPort}`,
    '--admin-token', ADMIN, '--producer-token', PRODUCER, '--keep-alive', '1',
    '--oidc-issuer', `http://127.0.0.1:${idpPort}`, '--oidc-client-id', 'lonceng-server',
    '--public-url', serverUrl, '--oidc-allowed-domain', 'example.co.id',
    '--oidc-required-group', 'cs-agents', '--oidc-admin-group', 'lonceng-admins', '--oidc-scope', 'groups',
  ], { LONCENG_OIDC_CLIENT_SECRET: secret });
  await until('the server', async () => { try { return (await fetch(`${serverUrl}/healthz`)).ok; } catch { return false; } });
  // Another site, for the attacks: it serves whatever page a test gives it.
  evil = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(evil.page ?? '<!doctype html><title>elsewhere</title>');
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  evilOrigin = `http://localhost:${evil.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  evil?.close();
  for (const c of children) c.kill();
});

/** A browser context whose pages report CSP violations (a test fails on any). */
async function context() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  ctx.violations = [];
  await ctx.exposeBinding('__cspViolation', (_src, v) => { ctx.violations.push(v); });
  await ctx.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return ctx;
}

/** Signs in through the identity provider as `login`; returns the page where it ended. */
async function signIn(ctx, login) {
  const page = await ctx.newPage();
  await page.goto(`${serverUrl}/admin/`);
  await page.getByRole('link', { name: 'Sign in with your organisation' }).click();
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('button[type="submit"], h1');
  if ((await page.content()).includes('consent')) await page.click('button[type="submit"]');
  return page;
}

let ctx;
let page;

async function goTo(name) {
  await page.getByRole('navigation').getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function noAxeViolations(what) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => (await window.axe.run(document)).violations
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
  assert.deepEqual(found, [], `axe on ${what}`);
}

test('ORG-4: an admin signs in through the identity provider into a session cookie no script or other site can use', async () => {
  ctx = await context();
  page = await signIn(ctx, 'admin');
  await page.getByText('Signed in as').waitFor();
  assert.match(await page.textContent('header'), /admin@example\.co\.id/);
  const [cookie] = (await ctx.cookies()).filter((c) => c.name === '__Host-lonceng-admin');
  assert.ok(cookie, 'the session cookie is set');
  assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Strict', '/']);
  assert.equal(await page.evaluate(() => document.cookie), '', 'no script can read it');
  const audit = await api('GET', '/v1/admin/audit?action=console_sign_in', ADMIN);
  assert.equal(audit.body.items[0].actor, 'admin:admin@example.co.id');

  // A person outside the admin group is refused, and holds no session.
  const other = await context();
  const refused = await signIn(other, 'sari');
  await refused.getByText('You cannot use the admin console').waitFor();
  assert.match(await refused.textContent('body'), /not in the group 'lonceng-admins'/);
  assert.equal((await other.cookies()).filter((c) => c.name === '__Host-lonceng-admin').length, 0);
  assert.equal((await refused.request.get(`${serverUrl}/v1/admin/users`)).status(), 401);
  await other.close();
});

test('ORG-4: agents: a CSV with two bad rows is previewed and imported, an agent linked, and a lost laptop signed out', async () => {
  const csv = 'email,name,qontak_agent_id,crm_sso_id\n'
    + 'rina@example.co.id,Rina Putri,qa-10,crm-10\n'
    + 'not-an-email,Bad Row,qa-11,\n'
    + 'dewi@example.co.id,Dewi Lestari,qa-12,\n'
    + ',No Email,,\n';
  const file = join(mkdtempSync(join(tmpdir(), 'agents-')), 'agents.csv');
  writeFileSync(file, csv);
  await goTo('Agents');
  await page.getByLabel('CSV file').setInputFiles(file);
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.getByText('2 rows to take, 2 with errors (skipped).').waitFor();
  assert.equal((await api('GET', '/v1/admin/users?q=rina', ADMIN)).body.items.length, 0, 'a preview writes nothing');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByText('2 imported, 2 skipped.').waitFor();
  const rina = (await api('GET', '/v1/admin/users?q=rina', ADMIN)).body.items[0];
  assert.equal(rina.agent_id, 'qa-10');

  // A device of Rina's with an open stream; the admin finds her and signs that device out.
  const { body: issued } = await api('POST', '/v1/admin/tokens', ADMIN, { user_id: rina.id, device_id: 'lost-laptop' });
  const stream = await fetch(`${serverUrl}/v1/stream`, { headers: { authorization: `Bearer ${issued.token}` } });
  assert.equal(stream.status, 200);
  const reader = stream.body.getReader();
  const ended = (async () => { for (;;) { const { done } = await reader.read(); if (done) return true; } })();
  await page.getByLabel('Search agents (name, email or id)').fill('rina');
  await page.getByRole('button', { name: 'Search' }).click();
  const agents = page.getByRole('table', { name: 'Agents', exact: true });
  await agents.getByRole('cell', { name: 'Rina Putri' }).waitFor();
  await page.getByRole('button', { name: 'Devices' }).click();
  await page.getByRole('cell', { name: 'lost-laptop' }).waitFor();
  await page.getByRole('button', { name: 'Sign out this device' }).click();
  await page.getByText(/^Signed out /).waitFor();
  assert.equal(await Promise.race([ended, new Promise((r) => setTimeout(() => r(false), 5000))]), true, 'its stream ended');
  assert.equal((await fetch(`${serverUrl}/v1/counts`, { headers: { authorization: `Bearer ${issued.token}` } })).status, 401);

  // Linking Dewi to a CRM SSO id; a control character is refused with the server's reason.
  await page.getByLabel('Search agents (name, email or id)').fill('dewi');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: 'Edit links' }).click();
  await page.getByLabel('CRM SSO id').fill('bad\u0007id');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText(/It did not work: .*control characters/).waitFor();
  await page.getByLabel('CRM SSO id').fill('crm-12');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name: 'crm-12' }).waitFor();
  await noAxeViolations('Agents');
});

test('ORG-4: hostile names and dead letters are shown as text and create no element', async () => {
  assert.equal((await api('POST', '/v1/admin/users', ADMIN, { id: 'hostile-1', name: HOSTILE })).status, 204);
  await goTo('Qontak');
  await goTo('Agents');
  await page.getByLabel('Search agents (name, email or id)').fill('hostile');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('cell', { name: 'hostile-1' }).waitFor();
  const shown = await page.evaluate(() => [...document.querySelectorAll('td bdi')].map((b) => b.textContent));
  assert.ok(shown.includes('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>\u202Egnp.exe'));
  assert.equal(await page.evaluate(() => document.querySelectorAll('main img, main script').length), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
});

test('ORG-4: Qontak: a secret rotated in the console takes the next webhook; a dead letter is read as text and replayed', async () => {
  await goTo('Qontak');
  await page.getByRole('button', { name: 'Create a webhook secret' }).click();
  const first = await page.getByLabel('Webhook URL').inputValue();
  assert.ok(first.startsWith(`${serverUrl}/v1/integrations/qontak/webhooks/`), first);
  await page.getByRole('button', { name: 'Rotate' }).click();
  await page.getByText('Old secret valid until:').waitFor();
  const rotated = await page.getByLabel('Webhook URL').inputValue();
  assert.notEqual(rotated, first);

  // A customer's message for a room not known yet, with markup in it: kept as a dead letter.
  const room = 'room-console-1';
  const message = {
    webhook_event: 'message_interaction', data_event: 'receive_message_from_customer', id: 'msg-1', room_id: room,
    sender_id: 'contact-1', is_agent: false, text: HOSTILE, created_at: new Date().toISOString(),
    room: { id: room, name: 'Adrian', channel: 'wa_cloud' }, sender: { name: 'Adrian', participant_type: 'customer' },
  };
  const kept = await fetch(rotated, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
  assert.equal(kept.status, 202);
  // The room's assignment arrives (through the new secret); the dead letter can now be replayed.
  const assigned = {
    id: room, name: 'Adrian', status: 'assigned', channel: 'wa_cloud', channel_account: 'WA', organization_id: 'org-1',
    last_message: null, unread_count: 1, agent_ids: ['qa-10'], resolved_at: null, resolved_by_id: null,
    resolved_by_type: null, updated_at: new Date().toISOString(), data_event: 'add_agent',
  };
  const taken = await fetch(rotated, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(assigned) });
  assert.equal(taken.status, 200, await taken.text());
  await page.reload();
  await page.getByRole('heading', { name: 'Dead letters' }).waitFor();
  await page.getByRole('cell', { name: /is not known yet/ }).waitFor();
  await page.getByRole('button', { name: 'View body' }).first().click();
  const body = await page.locator('pre.body').first().textContent();
  assert.deepEqual(JSON.parse(body), message, 'the body is shown as it came, as text');
  assert.equal(await page.evaluate(() => document.querySelectorAll('main img, main script').length), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await noAxeViolations('Qontak');
  await page.getByRole('button', { name: 'Replay', exact: true }).first().click();
  await page.getByText(/Replay \d+: applied/).waitFor();
  const audit = await api('GET', '/v1/admin/audit?actor=admin:admin@example.co.id', ADMIN);
  const actions = audit.body.items.map((a) => a.action);
  for (const a of ['webhook_secret_created', 'webhook_secret_rotated', 'dead_letter_replayed', 'device_revoked']) {
    assert.ok(actions.includes(a), `${a} in ${actions}`);
  }
});

test('ORG-4: maintenance announced in the console reaches a connected client', async () => {
  const { body: issued } = await api('POST', '/v1/admin/tokens', ADMIN, { user_id: 'hostile-1', device_id: 'desk' });
  const stream = await fetch(`${serverUrl}/v1/stream`, { headers: { authorization: `Bearer ${issued.token}` } });
  const reader = stream.body.getReader();
  let seen = '';
  const heard = (async () => {
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      seen += dec.decode(value);
      if (/event: maintenance[\s\S]*Upgrade to PostgreSQL 16/.test(seen)) return true;
    }
  })();
  await goTo('Maintenance');
  const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  const from = new Date(Date.now() + 3600_000);
  await page.getByLabel('Starts').fill(local(from));
  await page.getByLabel('Ends').fill(local(new Date(from.getTime() + 1800_000)));
  await page.getByLabel('Message for agents').fill('Upgrade to PostgreSQL 16');
  await page.getByRole('button', { name: 'Announce' }).click();
  await page.getByRole('cell', { name: /Lonceng will be under maintenance from/ }).waitFor();
  assert.equal(await Promise.race([heard, new Promise((r) => setTimeout(() => r(false), 10000))]), true, seen);
  await reader.cancel();
  await noAxeViolations('Maintenance');
});

test('ORG-4: health shows this node live; audit filters who did what', async () => {
  await goTo('Health');
  await page.getByRole('cell', { name: 'Yes' }).first().waitFor();
  await noAxeViolations('Health');
  await goTo('Audit');
  await page.getByLabel('What').fill('webhook_secret_rotated');
  await page.getByRole('button', { name: 'Filter' }).click();
  await until('only rotations', async () => {
    const actions = await page.locator('tbody tr td:nth-child(3)').allTextContents();
    return actions.length > 0 && actions.every((a) => a === 'webhook_secret_rotated');
  });
  await noAxeViolations('Audit');
});

test('ORG-4: keyboard only: an agent is added with Tab, typing and Enter', async () => {
  await goTo('Agents');
  await page.keyboard.press('Tab');
  for (let i = 0; i < 40 && !(await page.evaluate(() => document.activeElement?.getAttribute('name') === 'id')); i += 1) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type('kbd-1');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Keyboard Agent');
  await page.keyboard.press('Enter');
  const added = await until('added', async () => (await api('GET', '/v1/admin/users?q=kbd-1', ADMIN)).body.items[0]);
  assert.equal(added.name, 'Keyboard Agent');
  await page.getByText('Done.').waitFor();
});

test('ORG-4: another site can neither post a change, nor frame the console, nor use the session', async () => {
  const other = await ctx.newPage();
  // A cross-site form post to the admin API (the browser would send the cookie if it could).
  evil.page = `<!doctype html><form method="post" action="${serverUrl}/v1/admin/users" enctype="text/plain">
    <input name='{"id":"evil-1","name":"x","pad":"' value='"}'></form>
    <iframe id="f" src="${serverUrl}/admin/"></iframe>`;
  await other.goto(evilOrigin);
  const framed = other.frames().find((f) => f.url().includes('/admin/'));
  await until('the frame settled', () => other.frames().length > 1);
  assert.ok(!framed || (await framed.evaluate(() => document.querySelector('header')).catch(() => null)) === null, 'the console is not framed');
  const [posted] = await Promise.all([
    other.waitForResponse((r) => r.url() === `${serverUrl}/v1/admin/users`),
    other.evaluate(() => document.querySelector('form').submit()),
  ]);
  assert.ok([401, 403].includes(posted.status()), `the cross-site post was refused (${posted.status()})`);
  await other.waitForURL(`${serverUrl}/v1/admin/users`);
  // Another site's script, with credentials.
  await other.goto(evilOrigin);
  const answer = await other.evaluate(async (url) => {
    try {
      const r = await fetch(`${url}/v1/admin/users`, { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"id":"evil-2","name":"x"}' });
      return r.type;
    } catch (e) { return String(e); }
  }, serverUrl);
  assert.equal(answer, 'opaque');
  for (const id of ['evil-1', 'evil-2']) {
    assert.equal((await api('GET', `/v1/admin/users?q=${id}`, ADMIN)).body.items.length, 0, `${id} was not made`);
  }
  await other.close();
  // The console's own origin, but without the CSRF token: refused.
  const bare = await page.evaluate(async () => (await fetch('/v1/admin/users', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"evil-3","name":"x"}',
  })).status);
  assert.equal(bare, 403);
  // The session's cookie taken elsewhere, with its CSRF token, from another origin: refused.
  const cookie = (await ctx.cookies()).find((c) => c.name === '__Host-lonceng-admin');
  const csrf = (await (await page.request.get(`${serverUrl}/admin/session`)).json()).csrf;
  const stolen = await fetch(`${serverUrl}/v1/admin/users`, {
    method: 'POST',
    headers: { cookie: `${cookie.name}=${cookie.value}`, 'x-csrf-token': csrf, origin: evilOrigin, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
    body: '{"id":"evil-4","name":"x"}',
  });
  assert.equal(stolen.status, 403);
  const headers = (await fetch(`${serverUrl}/admin/`)).headers;
  assert.match(headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.match(headers.get('content-security-policy'), /script-src 'self'/);
  assert.equal(headers.get('x-frame-options'), 'DENY');
});

test('ORG-4: every page in both languages, looked at; no CSP violation anywhere; signing out ends the session', async () => {
  for (const lang of ['en', 'id']) {
    for (const [hash] of [['agents'], ['qontak'], ['maintenance'], ['health'], ['audit']]) {
      await page.goto(`${serverUrl}/admin/#/${hash}`);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: join(shots, `${hash}-${lang}.png`), fullPage: true });
      await noAxeViolations(`${hash} (${lang})`);
    }
    if (lang === 'en') {
      await page.getByRole('button', { name: 'Bahasa Indonesia' }).click();
      await page.getByRole('button', { name: 'Keluar' }).waitFor();
    }
  }
  assert.deepEqual(ctx.violations, [], 'no CSP violation');
  await page.getByRole('button', { name: 'Keluar' }).click();
  await page.getByRole('heading', { name: 'Masuk ke konsol admin Lonceng' }).waitFor();
  await page.screenshot({ path: join(shots, 'sign-in-id.png'), fullPage: true });
  await noAxeViolations('sign-in');
  assert.equal((await page.request.get(`${serverUrl}/v1/admin/users`)).status(), 401, 'the session is over');
  await ctx.close();
});
