// ORG-1 and ORG-2 as an agent meets them: the real app (not the demo) under Xvfb, the real server
// with a real OpenID provider (panva's oidc-provider, OpenID Certified, tests/idp/). The app starts
// signed out and says so; "Sign in" opens the (test) browser opener, and headless Chromium completes
// the provider's login form and consent, as an agent's browser would; the app ends connected and
// shows the agent's notifications. Then the organisation signs the device out, and the app says so
// with "Sign in again". Screenshots of the three moments land in tests/gui/screenshots/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Desktop, until } from './desktop.mjs';
import { at, click, js, s, shot, wd } from './webdriver.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const app = join(root, 'target/debug/lonceng');
const serverBin = join(root, 'target/debug/lonceng-server');
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? '/root', '.cargo/bin/tauri-driver');
// playwright-core is the UI's (ui/node_modules), as in its browser tests.
const { chromium } = createRequire(join(root, 'ui/package.json'))('playwright-core');
const ADMIN = 'e2e-admin';
const PRODUCER = 'e2e-producer';
const EMAIL = 'sari@example.co.id';

let desktop;
let display;
let port;
let session;
let dataDir;
let opened;
let serverUrl;
let browser;
const children = [];

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

// Without the bidi isolation marks Fluent puts around what it was given.
const text = async (css) => (await js(`const e = document.querySelector(${JSON.stringify(css)}); return e ? e.textContent : null;`))
  ?.replace(/[\u2068\u2069]/g, '') ?? null;

async function api(method, path, token, body) {
  const r = await fetch(`${serverUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

function start(bin, args, env, name) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.output = () => out;
  child.label = name;
  children.push(child);
  return child;
}

before(async () => {
  assert.ok(existsSync(app), `${app} is built (scripts/test.sh builds it)`);
  assert.ok(existsSync(serverBin), `${serverBin} is built`);
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'run inside dbus-run-session');
  mkdirSync(shots, { recursive: true });
  const [idpPort, serverPort] = [await freePort(), await freePort()];
  serverUrl = `http://127.0.0.1:${serverPort}`;
  const secret = 'e2e-oidc-client-secret';
  const idp = start(process.execPath, [join(root, 'tests/idp/provider.mjs')], {
    IDP_PORT: String(idpPort), IDP_REDIRECT: `${serverUrl}/v1/auth/callback`, IDP_CLIENT_SECRET: secret,
  }, 'provider');
  await until('the identity provider', () => idp.output().includes('listening'));
  const work = mkdtempSync(join(tmpdir(), 'lonceng-signin-'));
  const server = start(serverBin, [
    '--db', join(work, 'server.db'), '--listen', `127.0.0.1:${serverPort}`,
    '--admin-token', ADMIN, '--producer-token', PRODUCER,
    '--oidc-issuer', `http://127.0.0.1:${idpPort}`, '--oidc-client-id', 'lonceng-server',
    '--public-url', serverUrl, '--oidc-allowed-domain', 'example.co.id',
    '--oidc-required-group', 'cs-agents', '--oidc-scope', 'groups',
  ], { LONCENG_OIDC_CLIENT_SECRET: secret }, 'server');
  await until('the server', async () => { try { return (await fetch(`${serverUrl}/healthz`)).ok; } catch { return false; } });
  void server;

  // The agent's computer: the organisation's server is set (as IT's installer would), nothing else.
  dataDir = join(work, 'app');
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ server_url: serverUrl, source: 'server', lang: 'en' }));
  // The test's browser opener: `xdg-open` writes down what it was asked to open.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  opened = join(work, 'opened');
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);

  desktop = await new Desktop().up();
  display = desktop.display;
  at.display = display;
  port = 4444 + ((process.pid + 7) % 500);
  at.port = port;
  desktop.start(driverBin, ['--port', String(port), '--native-port', String(port + 1000)], {
    LONCENG_DATA_DIR: dataDir,
    XDG_CONFIG_HOME: join(work, 'config'),
    LONCENG_PINNED: '1',
    PATH: `${bin}:${process.env.PATH}`,
  });
  await until('tauri-driver', async () => { try { await fetch(`http://127.0.0.1:${port}/status`); return true; } catch { return false; } });
  const created = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: app, args: ['--show'] } } },
  });
  session = created.sessionId;
  at.session = session;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (session) await wd('DELETE', s('')).catch(() => {});
  await desktop?.down();
  for (const c of children) c.kill();
});

describe('signing in through the organisation', () => {
  test('ORG-1: first run says to sign in; the browser signs in; the app connects with no token shown', async () => {
    await until('the window offers to sign in', async () => (await text('#banner-sign-in')) === 'Sign in');
    assert.match(await text('#banner'), /Sign in to your organisation/);
    await shot('signin-first-run.png');

    await click('#banner-sign-in');
    const url = await until('the browser was asked to open the sign-in page', () =>
      existsSync(opened) && readFileSync(opened, 'utf8').trim().split('\n').pop());
    assert.ok(url.startsWith(`${serverUrl}/v1/auth/sign-in?`), url);
    // The agent's browser: the provider's login form, then its consent page, then back to the app.
    const page = await browser.newPage();
    await page.goto(url);
    await page.fill('input[name="login"]', 'sari');
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    await page.waitForSelector('button[type="submit"]');
    if ((await page.content()).includes('consent')) await page.click('button[type="submit"]');
    await page.waitForFunction(() => document.body.textContent.includes('You can close this tab'));
    assert.match(await page.textContent('h1'), /You are signed in to Lonceng/);
    await page.close();

    await until('connected', async () => (await text('#status')) === 'Connected', 30000);
    const event = {
      type: 'notification', idempotency_key: 'signin-1', kind: 'mention', actor: { id: 'u-9', name: 'Budi' },
      recipients: [EMAIL], params: { target: 'deal', object_name: 'PT Maju' },
      url: 'https://app.qontak.com/crm/deals/7', occurred_at: new Date().toISOString(),
    };
    assert.equal((await api('POST', '/v1/events', PRODUCER, event)).status, 200);
    await until('the agent\'s notification arrives', async () => (await js('return document.querySelectorAll(".item").length;')) === 1);
    await shot('signin-signed-in.png');

    // The credentials are kept for the agent only (no keyring service runs here: a private file),
    // and no token reaches the window.
    const kept = JSON.parse(readFileSync(join(dataDir, 'credentials'), 'utf8'));
    assert.equal(kept.user_id, EMAIL);
    assert.equal(statSync(join(dataDir, 'credentials')).mode & 0o077, 0);
    const html = await js('return document.documentElement.outerHTML;');
    assert.ok(!html.includes(kept.access_token) && !html.includes(kept.refresh_token));
    await click('#open-settings');
    await until('Settings say who is signed in', async () => (await text('#signed-in-as')) === `Signed in as ${EMAIL}`);
    await js('document.querySelector("#account").scrollIntoView({ block: "center" });');
    await shot('signin-settings.png');
    await click('#open-settings');
  });

  test('ORG-2: the organisation signs the device out: the app says so and offers to sign in again', async () => {
    const { body } = await api('GET', `/v1/admin/users/${EMAIL}/devices`, ADMIN);
    const device = body.devices.find((d) => !d.revoked_at);
    assert.equal(device.os, 'Linux');
    const revoked = await api('POST', `/v1/admin/users/${EMAIL}/devices/${device.id}/revoke`, ADMIN);
    assert.equal(revoked.status, 200);
    await until('the window says the organisation signed it out', async () =>
      (await text('#banner-sign-in')) === 'Sign in again', 30000);
    assert.match(await text('#banner'), /Signed out by your organisation/);
    assert.equal(await js('return document.querySelectorAll(".item").length;'), 1, 'the list stays readable');
    assert.ok(!existsSync(join(dataDir, 'credentials')), 'the credentials are gone');
    await shot('signin-signed-out.png');
  });
});
