// The server's stream from a web page, in Chromium: a page on another origin asks for a stream
// ticket (CORS, with its bearer token), opens the stream with the browser's own EventSource, and
// when the server ends the stream the browser reconnects by itself with Last-Event-ID and gets
// everything, exactly once. Needs target/debug/lonceng-server (scripts/test.sh builds it).
//
//   node --test ui/tests/stream.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const bin = fileURLToPath(new URL('../../target/debug/lonceng-server', import.meta.url));
const PRODUCER = 'producer-secret';
const ADMIN = 'admin-secret';
let server;
let api;
let page;
let site;
let browser;

async function until(what, f, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const call = (method, path, token, body) => fetch(`${api}${path}`, {
  method,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
}).then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));

const mention = (key) => ({
  type: 'notification', idempotency_key: key, kind: 'mention', actor: { id: 'u-9', name: 'Budi' },
  recipients: ['u-1'], params: { target: 'deal', object_name: key }, url: 'https://app.qontak.com/crm/deals/1',
  occurred_at: new Date().toISOString(),
});

before(async () => {
  assert.ok(existsSync(bin), `${bin} is built`);
  // The page's origin, allowed by the server (and no other).
  site = createServer((_, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>web</title>'); });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${site.address().port}`;
  const db = join(mkdtempSync(join(tmpdir(), 'lonceng-stream-')), 'server.db');
  server = spawn(bin, ['--db', db, '--listen', '127.0.0.1:0', '--producer-token', PRODUCER, '--admin-token', ADMIN,
    '--cors-origin', origin, '--keep-alive', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.on('data', (d) => { log += d; });
  server.stderr.on('data', (d) => { log += d; });
  api = await until('the server', () => log.match(/listening on (http:\/\/[\d.:]+)/)?.[1]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  await page.goto(origin);
});

after(async () => {
  await browser?.close();
  server?.kill();
  site?.close();
});

test('a web page streams with a ticket, and the browser resumes after the server ends the stream, missing nothing', async () => {
  const { body: issued } = await call('POST', '/v1/admin/tokens', ADMIN, { user_id: 'u-1', device_id: 'web' });
  const token = issued.token;
  for (const k of ['a1', 'a2', 'a3']) assert.equal((await call('POST', '/v1/events', PRODUCER, mention(k))).status, 200);

  // In the page: a ticket over CORS (the preflight lets Authorization through), then the browser's
  // own EventSource with the ticket in the URL, from the start of the feed.
  await page.evaluate(async ({ api, token }) => {
    const r = await fetch(`${api}/v1/stream/tickets`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`ticket: ${r.status}`);
    const { ticket } = await r.json();
    window.received = [];
    window.opened = 0;
    const es = new EventSource(`${api}/v1/stream?since=0&ticket=${encodeURIComponent(ticket)}`);
    es.onopen = () => { window.opened += 1; };
    es.addEventListener('change', (e) => window.received.push(Number(e.lastEventId)));
  }, { api, token });
  const received = () => page.evaluate(() => window.received);
  await until('the first three', async () => (await received()).length === 3);

  // Maintenance starts and ends at once: the server ends every stream; what is posted next is
  // read by the browser when it reconnects on its own (Last-Event-ID), or live after that.
  await call('POST', '/v1/admin/maintenance/start', ADMIN, {});
  await call('POST', '/v1/admin/maintenance/end', ADMIN, {});
  for (const k of ['b1', 'b2']) assert.equal((await call('POST', '/v1/events', PRODUCER, mention(k))).status, 200);
  await until('reconnected', async () => (await page.evaluate(() => window.opened)) >= 2);
  await until('all five', async () => (await received()).length >= 5);
  const ids = await received();
  assert.deepEqual(ids, [...new Set(ids)], `each change once: ${ids}`);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in order');
  assert.equal(ids.length, 5);

  // Another origin gets no CORS grant.
  const foreign = await fetch(`${api}/v1/stream/tickets`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
});
