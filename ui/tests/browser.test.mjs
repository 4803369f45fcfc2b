// Browser tests: the built bell window (dist/) in headless Chromium (Debian's, driven by
// playwright-core) against the web mock. Each test names the rule it shows. Screenshots land in
// tests/screenshots/ for a person to look at.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
// axe-core, served from the page's own origin: the CSP (script-src 'self') stays on during audits.
const axeScript = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

let server;
let base;
let browser;

before(async () => {
  await mkdir(shots, { recursive: true });
  server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    try {
      const body = await readFile(path === '__axe.js' ? axeScript : join(dist, path));
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function open(query = '', scheme = 'light') {
  const page = await browser.newPage({ viewport: { width: 400, height: 640 }, colorScheme: scheme, timezoneId: 'Asia/Jakarta' });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(base + query);
  await page.waitForSelector('.item');
  page.errors = errors;
  return page;
}

const counts = (page) => page.evaluate(() => window.lonceng.counts());

/** Text as the agent sees it: without the invisible isolation marks Fluent puts around parameters. */
const seen = (s) => (s ?? '').replace(/[\u2068\u2069]/g, '');
const seenText = async (page, selector) => seen(await page.textContent(selector));

/** Scrolls the virtual list from top to bottom, collecting section headers and item texts seen. */
async function scrollThrough(page) {
  return page.evaluate(async () => {
    const list = document.querySelector('#list');
    const sections = new Set();
    const texts = new Map();
    for (let top = 0; top <= list.scrollHeight; top += list.clientHeight / 2) {
      list.scrollTop = top;
      list.dispatchEvent(new Event('scroll'));
      await new Promise((r) => requestAnimationFrame(r));
      document.querySelectorAll('.section').forEach((e) => sections.add(e.textContent));
      document.querySelectorAll('.item').forEach((e) => texts.set(e.dataset.id, [e.querySelector('.text').textContent, e.querySelector('.time').textContent]));
    }
    return { sections: [...sections], items: Object.fromEntries(texts) };
  });
}
/** axe-core's violations on the page as it is now, each with the rule, its help and the nodes. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ url: `${base}__axe.js` });
  return page.evaluate(async () => (await window.axe.run(document)).violations.map((v) => ({
    id: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
  })));
}
const axeReport = (vs) => vs.map((v) => `${v.id}: ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n');

/** The drawn item rows as assistive technology reads their place in the list. */
const placed = (page) => page.$$eval('[role=listitem]', (els) => els.map((e) => ({
  id: e.dataset.id, pos: Number(e.getAttribute('aria-posinset')), size: Number(e.getAttribute('aria-setsize')),
})));

/** Marks the drawn rows, so a wait can tell when the list was drawn again (a refresh landed). */
const markDrawn = (page) => page.evaluate(() => document.querySelectorAll('.item').forEach((e) => { e.dataset.stale = '1'; }));
const redrawn = (page) => page.waitForFunction(() => document.querySelector('.item') && !document.querySelector('.item[data-stale]'));

const visibleTexts = (page) => page.$$eval('.item .text', (els) => els.map((e) => e.textContent));

describe('the bell window', () => {
  test('tabs show unread counts and switch by click and by 1/2/3 (NC-R14, keyboard)', async () => {
    const page = await open();
    const c = await counts(page);
    for (const tab of ['general', 'inbox', 'approval']) {
      const badge = await page.textContent(`#tab-${tab} .count`);
      assert.equal(Number(badge), c.tabs[tab], tab);
    }
    await page.click('#tab-inbox');
    assert.equal(await page.getAttribute('#tab-inbox', 'aria-selected'), 'true');
    await page.keyboard.press('3');
    assert.equal(await page.getAttribute('#tab-approval', 'aria-selected'), 'true');
    await page.keyboard.press('1');
    assert.equal(await page.getAttribute('#tab-general', 'aria-selected'), 'true');
    await page.screenshot({ path: join(shots, 'general.png') });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('category chips filter and "show unread only" hides read items (NC-R9)', async () => {
    const page = await open();
    await page.click('#tab-inbox');
    await page.click('[data-category="resolved"]');
    await page.waitForFunction(() => document.querySelector('[data-category="resolved"]').getAttribute('aria-pressed') === 'true');
    const ids = await page.$$eval('.item', (els) => els.map((e) => e.dataset.id));
    const items = await page.evaluate((ids) => window.lonceng.items.filter((i) => ids.includes(i.id)), ids);
    assert.ok(items.length > 0 && items.every((i) => i.category === 'resolved'));
    await page.check('#unread-only');
    await page.waitForFunction(() => document.querySelectorAll('.item:not(.unread)').length === 0);
    assert.ok((await page.$$('.item.unread')).length > 0);
    await page.screenshot({ path: join(shots, 'inbox-resolved-unread.png') });
    await page.close();
  });

  test('mark all read names its scope, changes exactly it, and can be undone (NC-R6)', async () => {
    const page = await open();
    await page.click('#tab-inbox');
    await page.click('[data-category="chat_assignment"]');
    const before = await counts(page);
    const n = before.categories.chat_assignment;
    await page.waitForFunction((n) => document.querySelector('#mark-all').textContent.replace(/[\u2068\u2069]/g, '') === `Mark ${n} as read · Inbox · Assignment`, n);
    await page.click('#mark-all');
    await page.waitForSelector('#snackbar:not([hidden])');
    // The window shows the result at once: no unread row left in the chip, the count gone.
    assert.equal(await page.$$eval('.item.unread', (els) => els.length), 0);
    assert.equal(await page.$('[data-category="chat_assignment"] .count'), null);
    const mid = await counts(page);
    assert.equal(mid.categories.chat_assignment, 0);
    assert.equal(mid.categories.resolved, before.categories.resolved, 'another chip of the tab is untouched');
    assert.equal(mid.tabs.general, before.tabs.general, 'another tab is untouched');
    await page.screenshot({ path: join(shots, 'mark-all-undo.png') });
    await page.click('#undo');
    await page.waitForFunction((n) => document.querySelector('#tab-inbox .count')?.textContent === String(n), before.tabs.inbox);
    assert.deepEqual(await counts(page), before);
    await page.close();
  });

  test('the mark-read icon marks one item (NC-R8) and a click opens the page and marks it (NC-R7)', async () => {
    const page = await open();
    const first = await page.$('.item.unread');
    const id = await first.getAttribute('data-id');
    const before = (await counts(page)).total;
    await page.click(`.item[data-id="${id}"] .mark`);
    await page.waitForSelector(`.item[data-id="${id}"]:not(.unread)`);
    assert.equal((await counts(page)).total, before - 1);

    const other = await page.$eval('.item.unread', (e) => e.dataset.id);
    await page.click(`.item[data-id="${other}"] .open`);
    await page.waitForSelector(`.item[data-id="${other}"]:not(.unread)`);
    const url = await page.evaluate((id) => window.lonceng.items.find((i) => i.id === id).url, other);
    assert.deepEqual(await page.evaluate(() => window.lonceng.opened), [url]);
    await page.close();
  });

  test('a link that is not a Qontak page is not opened, and the window says so; the item is read (NC-R7)', async () => {
    const page = await open();
    await page.evaluate(() => {
      const item = { ...window.lonceng.items[0], id: 'phish', read_at: null, created_at: new Date().toISOString(), url: 'https://qontak.com.evil.example/login' };
      window.lonceng.push(item);
    });
    await page.waitForSelector('.item[data-id="phish"].unread');
    await page.click('.item[data-id="phish"] .open');
    await page.waitForSelector('#snackbar:not([hidden])');
    assert.match(await seenText(page, '#snackbar'), /goes to qontak\.com\.evil\.example, which is not a Qontak address/);
    await page.waitForSelector('.item[data-id="phish"]:not(.unread)');
    assert.deepEqual(await page.evaluate(() => window.lonceng.opened), []);
    assert.deepEqual(page.errors, [], 'no unhandled rejection');
    await page.close();
  });

  test('Today and Older sections in local time (NC-R10)', async () => {
    const page = await open();
    const seen = await scrollThrough(page);
    assert.deepEqual(seen.sections, ['Today', 'Older']);
    const times = Object.values(seen.items).map(([, time]) => time);
    assert.ok(times.every((t) => /\d{2}[.:]\d{2}/.test(t)), times.join('|'));
    assert.ok(times.some((t) => /^\d{2}:\d{2}$/.test(t)), 'today: the time only');
    assert.ok(times.some((t) => /^\d{1,2} [A-Z][a-z]{2}/.test(t)), 'older: the date too');
    await page.close();
  });

  test('switching language re-renders everything at once, old items included (NC-R11)', async () => {
    const page = await open();
    const textsById = () => page.$$eval('.item', (els) => Object.fromEntries(els.map((e) => [e.dataset.id, e.querySelector('.text').textContent])));
    const english = await textsById();
    await page.click('#open-settings');
    await page.selectOption('#lang', 'id');
    await page.waitForFunction(() => document.querySelector('#tab-general').textContent.startsWith('Umum'));
    await page.click('#open-settings');
    const indonesian = await textsById();
    const both = Object.keys(english).filter((id) => id in indonesian);
    assert.ok(both.length >= 5, `items on screen in both languages: ${both.length}`);
    for (const id of both) assert.notEqual(indonesian[id], english[id], id);
    // Every item, old ones included, now reads in Indonesian.
    const seen = await scrollThrough(page);
    assert.deepEqual(seen.sections, ['Hari ini', 'Sebelumnya']);
    const texts = Object.values(seen.items).map(([text]) => text);
    const inTab = await page.evaluate(() => window.lonceng.items.filter((i) => i.tab === 'general').length);
    assert.equal(texts.length, inTab, 'every item of the tab was drawn while scrolling');
    for (const text of texts) assert.match(text, /Anda|Pengingat|memindahkan|menyelesaikan|memblokir/, text);
    await page.screenshot({ path: join(shots, 'indonesian.png') });
    await page.close();
  });

  test('the connection status and maintenance are shown calmly (MW-1, MW-2)', async () => {
    const page = await open();
    assert.equal(await page.textContent('#status'), 'Connected');
    await page.evaluate(() => {
      const until = new Date(Date.now() + 2 * 3600e3).toISOString();
      window.lonceng.setStatus({
        state: { state: 'maintenance', until, next_attempt_at: until },
        last_synced_at: new Date().toISOString(),
        maintenance: { active: true, until, windows: [] },
      });
    });
    await page.waitForSelector('#banner:not([hidden])');
    assert.match(await seenText(page, '#banner'), /^Qontak is under maintenance until \d{2}:\d{2}\. Your list stays available\.$/);
    assert.ok((await page.$$('.item')).length > 0, 'the list stays usable');
    await page.screenshot({ path: join(shots, 'maintenance.png') });
    await page.evaluate(() => {
      const start = new Date(Date.now() + 5 * 3600e3);
      window.lonceng.setStatus({
        state: { state: 'connected', streaming: true },
        last_synced_at: new Date().toISOString(),
        maintenance: { active: false, until: null, windows: [{ id: 1, starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 2 * 3600e3).toISOString(), message: '' }] },
      });
    });
    await page.waitForFunction(() => document.querySelector('#banner').textContent.startsWith('Scheduled maintenance:'));
    await page.close();
  });

  test('keyboard: j/k move, e marks read, Enter opens', async () => {
    const page = await open();
    await page.focus('#list');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const selected = await page.$eval('.item.selected', (e) => e.id);
    assert.equal(selected, 'item-1');
    const id = await page.$eval('.item.selected', (e) => e.dataset.id);
    await page.keyboard.press('e');
    await page.waitForFunction((id) => window.lonceng.items.find((i) => i.id === id).read_at !== null, id);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.lonceng.opened.length === 1);
    await page.close();
  });

  test('ORG-7: a read item is marked unread again by its button and by shift+U, counted again', async () => {
    const page = await open();
    const id = await page.$eval('.item:not(.unread)', (e) => e.dataset.id);
    const before = (await counts(page)).total;
    await page.click(`.item[data-id="${id}"] .unmark`);
    await page.waitForSelector(`.item.unread[data-id="${id}"]`);
    assert.equal((await counts(page)).total, before + 1);
    assert.equal(await page.$(`.item[data-id="${id}"] .unmark`), null, 'an unread row offers mark read instead');
    await page.screenshot({ path: join(shots, 'mark-unread.png') });
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], axeReport(violations));
    // From the keyboard: e reads the selected item, shift+U brings it back.
    await page.focus('#list');
    await page.keyboard.press('j');
    const selected = await page.$eval('.item.selected', (e) => e.dataset.id);
    await page.keyboard.press('e');
    await page.waitForFunction((id) => window.lonceng.items.find((i) => i.id === id).read_at !== null, selected);
    await page.keyboard.press('Shift+U');
    await page.waitForFunction((id) => window.lonceng.items.find((i) => i.id === id).read_at === null, selected);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('notification text is data: markup in it never becomes elements or runs', async () => {
    const page = await open();
    await page.evaluate(() => {
      window.lonceng.push({
        id: 'evil', tab: 'general', category: 'assignment', kind: 'deal_owner_assigned',
        params: { actor: '<img src=x onerror="window.pwned=1">', deal_name: '<script>window.pwned=2</script>' },
        url: 'https://app.qontak.com/crm/deals/1', created_at: new Date().toISOString(), read_at: null,
      });
    });
    await page.waitForSelector('.item[data-id="evil"]');
    const text = await seenText(page, '.item[data-id="evil"] .text');
    assert.equal(text, '<img src=x onerror="window.pwned=1"> made you the owner of deal <script>window.pwned=2</script>');
    assert.equal(await page.$$eval('.item img, .item script', (els) => els.length), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await page.close();
  });

  test('what could not be shown is counted quietly, with the reasons one click away (as text)', async () => {
    const page = await open();
    assert.equal(await page.isHidden('#quarantine'), true, 'nothing to say: nothing said');
    await page.evaluate(() => {
      window.lonceng.keepAside('change: unknown variant `archived`');
      window.lonceng.keepAside('notification \'x\' rejected: <b>bold</b> is not a kind');
    });
    await page.waitForSelector('#quarantine:not([hidden])');
    assert.match(seen(await page.textContent('#quarantine')), /^2 notifications could not be shown/);
    await page.click('#quarantine-why');
    await page.waitForSelector('#quarantine-reasons li');
    const reasons = await page.$$eval('#quarantine-reasons li', (els) => els.map((e) => e.textContent));
    assert.equal(reasons.length, 2);
    assert.match(reasons[0], /<b>bold<\/b> is not a kind$/, 'newest first, markup as text');
    assert.equal(await page.$$eval('#quarantine b', (els) => els.length), 0);
    await page.screenshot({ path: join(shots, 'quarantine.png') });
    await page.close();
  });

  test('Chromium visits exactly the hosts the link policy judges (tests/contract/urls.json, NC-R7)', async () => {
    const corpus = JSON.parse(await readFile(fileURLToPath(new URL('../../tests/contract/urls.json', import.meta.url)), 'utf8'));
    const page = await open();
    const hosts = await page.evaluate((urls) => urls.map((u) => {
      try {
        const url = new URL(u);
        return url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname : null;
      } catch {
        return null;
      }
    }), corpus.cases.map((c) => c.url));
    corpus.cases.forEach((c, i) => assert.equal(hosts[i], c.host, `${JSON.stringify(c.url)}: Chromium reads another host`));
    await page.close();
  });

  test('a right-to-left override in a parameter cannot reorder the text around it', async () => {
    const page = await open();
    await page.evaluate(() => {
      window.lonceng.push({
        id: 'rlo', tab: 'general', category: 'assignment', kind: 'deal_owner_assigned',
        params: { actor: 'Budi', deal_name: 'INV\u202Egpj.exe' }, actor_id: null, recipient_id: 'agent-sari',
        url: 'https://app.qontak.com/crm/deals/1', created_at: new Date().toISOString(), read_at: null,
      });
    });
    await page.waitForSelector('.item[data-id="rlo"]');
    const text = await page.textContent('.item[data-id="rlo"] .text');
    assert.equal(text, '\u2068Budi\u2069 made you the owner of deal \u2068INVgpj.exe\u2069', 'the override is gone, each name isolated');
    await page.close();
  });

  test('ten thousand items stay light: only the rows in view exist, and more load on scroll', async () => {
    const page = await open('?items=10000');
    // The first frame draws the rows the window can show; once it is painted, those below the
    // window's edge too, for scrolling.
    await page.waitForFunction(() => [...document.querySelectorAll('.item')].some((e) => e.offsetTop >= window.innerHeight));
    const rows = await page.$$eval('.item', (els) => els.length);
    assert.ok(rows < 40, `rows in the DOM: ${rows}`);
    for (let i = 0; i < 6; i++) {
      await page.evaluate(() => { const l = document.querySelector('#list'); l.scrollTop = l.scrollHeight; });
      await page.waitForTimeout(50);
    }
    const loaded = await page.evaluate(() => document.querySelector('#spacer').style.height);
    assert.ok(parseInt(loaded, 10) > 200 * 66, `loaded more pages: ${loaded}`);
    assert.ok((await page.$$eval('.item', (els) => els.length)) < 40);
    await page.close();
  });

  test('"why no toast?" explains each item, and empty lists say something useful', async () => {
    const page = await open();
    const id = await page.$eval('.item', (e) => e.dataset.id);
    await page.evaluate((id) => window.lonceng.reasons.set(id, 'chat_focused'), id);
    await page.click(`.item[data-id="${id}"] .why`);
    await page.waitForSelector('.why-text');
    assert.equal(await page.textContent('.why-text'), 'No desktop notification: you were active in the Qontak chat.');
    await page.evaluate(() => window.lonceng.markAllRead({ tab: 'approval', category: null }));
    await page.click('#tab-approval');
    await page.check('#unread-only');
    await page.waitForSelector('#empty:not([hidden])');
    assert.equal(await page.textContent('#empty'), 'You are all caught up.');
    await page.close();
  });

  test('settings: token never shown, chat-window patterns and mutes saved; dark theme', async () => {
    const page = await open('', 'dark');
    // Out of demo mode, the server and the token can be edited.
    await page.evaluate(() => window.lonceng.saveSettings({ demo: false }));
    await page.click('#open-settings');
    // An admin's token is the advanced path (ORG-1): behind "Advanced".
    assert.equal(await page.isVisible('#token'), false);
    await page.click('#advanced summary');
    await page.fill('#token', 'secret-token');
    await page.fill('#patterns', 'Qontak Chat, My Inbox');
    await page.uncheck('[data-mute="resolved"]');
    await page.click('#save-settings');
    await page.waitForFunction(() => window.lonceng.settings_.chat_window_patterns[0] === 'Qontak Chat');
    const s = await page.evaluate(() => window.lonceng.settings_);
    assert.deepEqual(s.chat_window_patterns, ['Qontak Chat', 'My Inbox']);
    assert.ok(s.muted.includes('resolved'));
    assert.equal(s.has_token, true);
    assert.equal(await page.inputValue('#token'), '', 'the token field is cleared after saving');
    await page.waitForFunction(() => document.querySelector('#settings').textContent.includes('Kept in the system keyring.'));
    await page.screenshot({ path: join(shots, 'settings-dark.png') });
    await page.close();
  });

  test('ORG-1: Sign in from Settings; signed out by the organisation says so; a sign-in link is asked about', async () => {
    const page = await open();
    await page.evaluate(() => window.lonceng.saveSettings({ demo: false, server_url: 'https://nc.example.co.id' }));
    await page.click('#open-settings');
    await page.click('#sign-in');
    await page.waitForFunction(() => document.querySelector('#signed-in-as')?.textContent.includes('sari@example.co.id'));
    assert.equal(await page.isVisible('#sign-out'), true);
    await page.click('#open-settings');
    // The organisation signed the computer out: the banner says so, with one click to sign in again.
    await page.evaluate(() => {
      const m = window.lonceng;
      m.settings_.account = { signed_in_as: null, signed_out: 'Signed out by your organisation. Sign in again.', signing_in: false, offered_server: null, method: null, sign_in_offered: true };
      m.status_ = { state: { state: 'offline', reason: 'Signed out by your organisation. Sign in again.', next_attempt_at: new Date().toISOString() }, last_synced_at: null, maintenance: null };
      m.emit('settings');
      m.emit('status');
    });
    await page.waitForFunction(() => document.querySelector('#banner-sign-in')?.textContent === 'Sign in again');
    assert.match(await page.textContent('#banner'), /Signed out by your organisation\./);
    assert.ok(await page.locator('.item').count() > 0, 'the list stays readable');
    await page.screenshot({ path: join(shots, 'signed-out.png') });
    // A clicked link's server is shown and asked about; "Not now" changes nothing.
    await page.evaluate(() => {
      const m = window.lonceng;
      m.settings_.account = { ...m.settings_.account, offered_server: 'https://nc.example.co.id\u202Egnp.exe' };
      m.emit('settings');
    });
    await page.waitForSelector('#link-ask');
    const asked = await page.textContent('#link-ask');
    assert.match(asked, /^Sign in to \u2068https:\/\/nc\.example\.co\.idgnp\.exe\u2069\?/, 'isolated, its override dropped');
    assert.ok(!asked.includes('\u202E'));
    assert.equal(await page.locator('#link-ask *').count(), 0, 'no element made from it');
    await page.screenshot({ path: join(shots, 'sign-in-link.png') });
    await page.click('#link-dismiss');
    await page.waitForFunction(() => !document.querySelector('#link-ask'));
    assert.equal(await page.evaluate(() => window.lonceng.settings_.server_url), 'https://nc.example.co.id');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('settings: the direct CRM mode says these are company credentials, keeps the secret, and Inbox says why it is empty', async () => {
    const page = await open();
    await page.evaluate(() => window.lonceng.saveSettings({ demo: false }));
    await page.click('#open-settings');
    assert.equal(await page.isVisible('#server-url'), true);
    assert.equal(await page.isVisible('#crm-fields'), false, 'only the chosen source\'s fields');
    await page.check('#source-crm');
    assert.equal(await page.isVisible('#server-fields'), false);
    assert.match(await page.textContent('#crm-warning'), /company's credentials/);
    await page.fill('#crm-client-id', 'org-client');
    await page.fill('#crm-secret', 'company-hmac-secret');
    await page.fill('#crm-sso', 'sso-sari');
    await page.click('#save-settings');
    await page.waitForFunction(() => window.lonceng.settings_.source === 'crm');
    const s = await page.evaluate(() => window.lonceng.settings_);
    assert.equal(s.crm_client_id, 'org-client');
    assert.equal(s.crm_sso_user_id, 'sso-sari');
    assert.equal(s.has_crm_secret, true);
    assert.ok(!JSON.stringify(s).includes('company-hmac-secret'), 'the secret is not in the settings');
    assert.equal(await page.inputValue('#crm-secret'), '', 'the secret field is cleared after saving');
    assert.ok(!(await page.content()).includes('company-hmac-secret'));
    await page.screenshot({ path: join(shots, 'settings-crm.png') });

    // Inbox in the direct CRM mode: it explains itself instead of "nothing yet".
    await page.click('#open-settings');
    await page.evaluate(() => { window.lonceng.items = window.lonceng.items.filter((i) => i.tab !== 'inbox'); window.lonceng.emit('changed'); });
    await page.click('#tab-inbox');
    await page.waitForSelector('#empty:not([hidden])');
    assert.match(await page.textContent('#empty'), /Inbox needs the Lonceng server/);
    await page.screenshot({ path: join(shots, 'inbox-crm.png') });
    await page.close();
  });
  // ORG-3: what IT's policy fixes shows locked, with who set it; the rest stays the agent's.
  test('settings: what the organisation fixed is locked and says so', async () => {
    const page = await open();
    await page.evaluate(() => {
      Object.assign(window.lonceng.settings_, { demo: false, server_url: 'https://lonceng.example.co.id', locked: ['server_url', 'lang', 'muted'] });
      window.lonceng.emit('settings');
    });
    await page.click('#open-settings');
    await page.waitForSelector('.locked');
    assert.equal(await page.isDisabled('#server-url'), true);
    assert.equal(await page.inputValue('#server-url'), 'https://lonceng.example.co.id');
    assert.equal(await page.isDisabled('#lang'), true);
    assert.equal(await page.isDisabled('input[data-mute="mention"]'), true);
    assert.equal(await page.isDisabled('input[data-mute="chat"]'), false, 'chat messages are not a category the policy fixes');
    assert.equal(await page.isDisabled('#update-url'), false, 'what the policy leaves alone stays the agent\'s');
    const notes = await page.$$eval('.locked', (ls) => ls.map((l) => [l.dataset.locked, l.textContent]));
    assert.deepEqual(notes.map(([name]) => name).sort(), ['lang', 'muted', 'server_url']);
    assert.ok(notes.every(([, text]) => text === 'Set by your organisation'), JSON.stringify(notes));
    await page.locator('[data-locked="server_url"]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'settings-locked.png') });
    await page.close();
  });

  test('settings: Diagnose lists every check with its level in words and what to do, in the active language', async () => {
    const page = await open();
    await page.click('#open-settings');
    assert.match(await page.textContent('#autostart-note'), /installed Lonceng/, 'a build or the demo leaves login items alone');
    assert.equal(await page.isDisabled('#autostart'), true);
    await page.click('#diagnose');
    await page.waitForSelector('#doctor-lines');
    const lines = await page.$$eval('.doctor-line', (ls) => ls.map((l) => ({ check: l.dataset.check, level: l.dataset.level, text: l.textContent })));
    assert.equal(lines.length, 13, 'one line per check');
    const keyring = lines.find((l) => l.check === 'keyring');
    assert.equal(keyring.level, 'warning');
    assert.match(keyring.text, /warning/i, 'the level is said in words, not only in colour');
    assert.match(keyring.text, /→ Install and unlock a Secret Service keyring/);
    await page.locator('#diagnose-section').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'diagnose.png') });
    await page.selectOption('#lang', 'id');
    await page.waitForFunction(() => document.querySelector('#diagnose')?.textContent === 'Diagnosis');
    await page.click('#diagnose');
    await page.waitForSelector('#doctor-lines');
    assert.match(await page.textContent('[data-check="keyring"]'), /peringatan.*Tidak ada layanan keyring/s);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('an update on offer is shown, and installed only when the agent presses Install', async () => {
    const page = await open();
    assert.equal(await page.isVisible('#update'), false, 'no offer, no banner');
    await page.evaluate(() => window.lonceng.offerUpdate('0.2.0'));
    await page.waitForSelector('#update:not([hidden])');
    assert.match(await page.textContent('#update'), /Lonceng .*0\.2\.0.* is available/);
    assert.equal(await page.evaluate(() => window.lonceng.installed), null, 'nothing installed without consent');
    await page.screenshot({ path: join(shots, 'update-offer.png') });
    await page.click('#install-update');
    await page.waitForFunction(() => window.lonceng.installed === '0.2.0');
    await page.evaluate(() => window.lonceng.offerUpdate(null));
    await page.waitForSelector('#update[hidden]', { state: 'attached' });
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});

describe('screen readers', () => {
  for (const scheme of ['light', 'dark']) {
    test(`screen readers: axe finds no violations in the list, a tab with a chip pressed and the settings (${scheme})`, async () => {
      const page = await open('', scheme);
      const check = async (where) => {
        const violations = await axeViolations(page);
        assert.deepEqual(violations.map((v) => v.id), [], `${where}, ${scheme}:\n${axeReport(violations)}`);
      };
      await check('the General list');
      await page.click('#tab-inbox');
      await page.click('[data-category="resolved"]');
      await page.waitForFunction(() => {
        const ids = [...document.querySelectorAll('.item')].map((e) => e.dataset.id);
        return ids.length > 0 && ids.every((id) => window.lonceng.items.find((i) => i.id === id).category === 'resolved');
      });
      await check('Inbox with the Resolved chip pressed');
      await page.click('#open-settings');
      await page.waitForSelector('#settings:not([hidden]) #save-settings');
      await check('the settings panel');
      await page.click('#diagnose');
      await page.waitForSelector('#doctor-lines');
      await check('the settings panel with Diagnose');
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }

  test('screen readers: rows say their place in the whole list (aria-posinset, aria-setsize) after scrolling far down', async () => {
    const page = await open('?items=10000');
    const ids = await page.evaluate(() => window.lonceng.items.filter((i) => i.tab === 'general').map((i) => i.id));
    const first = await placed(page);
    assert.deepEqual(first.map((r) => r.pos), first.map((_, i) => i + 1), 'the top rows are 1, 2, 3…');
    assert.ok(first.every((r) => r.size === -1), 'more pages may load: the size is unknown (-1)');

    // Far down: past several loaded pages (each scroll to the end loads the next one).
    await page.waitForFunction(() => {
      const list = document.querySelector('#list');
      list.scrollTop = list.scrollHeight;
      return parseInt(document.querySelector('#spacer').style.height, 10) > 1000 * 66;
    }, null, { polling: 50 });
    await page.evaluate(() => { document.querySelector('#list').scrollTop = 900 * 66; });
    await page.waitForFunction(() => Number(document.querySelector('[role=listitem]')?.getAttribute('aria-posinset')) > 800);
    const far = await placed(page);
    assert.ok(far.length > 5 && far.length < 40, `rows drawn: ${far.length}`);
    for (const r of far) assert.equal(r.pos, ids.indexOf(r.id) + 1, `${r.id}: its place among the tab's items, headers not counted`);
    assert.ok(far.every((r) => r.size === -1));
    // Headings sit between the lists of rows, never inside one.
    assert.equal(await page.$$eval('[role=list] [role=heading]', (els) => els.length), 0);

    // Unread only: the scope's unread count is the list's size, though not all of it is loaded.
    const unread = (await counts(page)).tabs.general;
    await page.check('#unread-only');
    await page.waitForFunction((n) => document.querySelector('[role=listitem]')?.getAttribute('aria-setsize') === String(n), unread);
    assert.ok(unread > 200, 'more than one page');
    assert.deepEqual((await placed(page)).slice(0, 3).map((r) => r.pos), [1, 2, 3]);
    await page.close();

    // A list loaded whole: its length, down to the last row.
    const small = await open();
    const n = await small.evaluate(() => window.lonceng.items.filter((i) => i.tab === 'general').length);
    await small.evaluate(() => { const l = document.querySelector('#list'); l.scrollTop = l.scrollHeight; });
    await small.waitForFunction((n) => [...document.querySelectorAll('[role=listitem]')].some((e) => e.getAttribute('aria-posinset') === String(n)), n);
    assert.ok((await placed(small)).every((r) => r.size === n), `aria-setsize ${n}`);
    await small.close();
  });

  test('screen readers: the live region says what a refresh brought (new items, then the unread count) and is quiet otherwise', async () => {
    const page = await open();
    assert.equal(await page.textContent('#announce'), '', 'the first load is not news');
    assert.equal(await page.getAttribute('#announce', 'aria-live'), 'polite');
    // Every text the region is given, in order.
    await page.evaluate(() => {
      window.said = [];
      const el = document.querySelector('#announce');
      new MutationObserver(() => window.said.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
    });
    const said = async () => (await page.evaluate(() => window.said)).map(seen);

    // Quiet: a scroll, a refresh that brings nothing, another tab and back.
    await markDrawn(page);
    await page.evaluate(() => { document.querySelector('#list').scrollTop = 600; });
    await redrawn(page);
    await markDrawn(page);
    await page.evaluate(() => window.lonceng.emit('changed'));
    await redrawn(page);
    await page.click('#tab-inbox');
    await page.waitForFunction(() => window.lonceng.items.find((i) => i.id === document.querySelector('.item')?.dataset.id)?.tab === 'inbox');
    await page.click('#tab-general');
    await page.waitForFunction(() => window.lonceng.items.find((i) => i.id === document.querySelector('.item')?.dataset.id)?.tab === 'general');
    assert.deepEqual(await said(), [], 'nothing new, nothing said');

    // Three new items in view: one message.
    await page.evaluate(() => {
      const like = window.lonceng.items.find((i) => i.tab === 'general');
      for (let n = 1; n <= 3; n++) {
        window.lonceng.push({ ...like, id: `new-${n}`, read_at: null, created_at: new Date(Date.now() + n).toISOString() });
      }
    });
    await page.waitForFunction(() => window.said.length > 0);
    const total = (await counts(page)).total;
    assert.deepEqual(await said(), [`3 new notifications, ${total} unread in total`]);

    // One read: the new count.
    await page.click('.item[data-id="new-3"] .mark');
    await page.waitForFunction(() => window.said.length > 1);
    assert.deepEqual((await said()).slice(1), [`${total - 1} unread notifications`]);

    // An item for another tab is not in view: the count says it.
    await page.evaluate(() => {
      const like = window.lonceng.items.find((i) => i.tab === 'inbox');
      window.lonceng.push({ ...like, id: 'elsewhere', read_at: null, created_at: new Date().toISOString() });
    });
    await page.waitForFunction(() => window.said.length > 2);
    assert.deepEqual((await said()).slice(2), [`${total} unread notifications`]);

    // Quiet again once the refreshes have landed.
    await markDrawn(page);
    await page.evaluate(() => window.lonceng.emit('changed'));
    await redrawn(page);
    assert.equal((await said()).length, 3, (await said()).join(' | '));
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});

describe('quiet hours, snooze, search, gaps (issue 15)', () => {
  test('search finds items by their words, in the tab or everywhere, and marks the matches as text', async () => {
    const page = await open();
    await page.evaluate(() => {
      window.lonceng.push({
        id: 'find-me', tab: 'approval', category: 'deals', kind: 'deal_approval_requested',
        params: { actor: 'Budi', deal_name: 'Café <b>Élan</b> renewal', amount: 'Rp 1' },
        url: 'https://app.qontak.com/crm/deals/9', created_at: new Date().toISOString(), read_at: null,
      });
    });
    // Within General (the active tab): not there.
    await page.fill('#search', 'cafe elan');
    await page.waitForFunction(() => !document.querySelector('#empty').hidden);
    assert.match(await seenText(page, '#empty'), /No notifications match cafe elan/);
    // Everywhere: found, accents and case aside, the matches marked.
    await page.check('#search-everywhere');
    await page.waitForSelector('.item[data-id="find-me"]');
    assert.deepEqual(await page.$$eval('.item', (els) => els.map((e) => e.dataset.id)), ['find-me']);
    assert.deepEqual(await page.$$eval('.item mark', (els) => els.map((e) => e.textContent)), ['Café', 'Élan']);
    assert.equal(await page.$$eval('.item b', (els) => els.length), 0, 'markup in data stays text');
    await page.screenshot({ path: join(shots, 'search.png') });
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], axeReport(violations));
    // In Indonesian text too ("persetujuan" is only in the Indonesian rendering).
    await page.fill('#search', 'persetujuan élan');
    await page.waitForSelector('.item[data-id="find-me"]');
    // Cleared: the list again.
    await page.fill('#search', '');
    await page.waitForFunction(() => document.querySelectorAll('.item').length > 1);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('a search that matches more than a page says how many, loads more as the agent scrolls, and folds ł, ø, ß', async () => {
    const page = await open();
    await page.evaluate(() => {
      const like = window.lonceng.items.find((i) => i.tab === 'general' && 'actor' in i.params);
      for (let n = 0; n < 450; n++) {
        window.lonceng.push({ ...like, id: `many-${n}`, params: { ...like.params, actor: 'Łukasz Søren' }, created_at: new Date(Date.now() - n * 1000).toISOString() });
      }
    });
    await page.fill('#search', 'lukasz');
    await page.waitForFunction(() => !document.querySelector('#search-count').hidden);
    assert.equal(await seenText(page, '#search-count'), '450 results');
    assert.deepEqual(await page.$$eval('.item mark', (els) => [...new Set(els.map((e) => e.textContent))]), ['Łukasz'], 'the typed word marks the letter it folds');
    // The list holds a page (200); scrolling to the end brings the rest.
    assert.equal(await page.evaluate(() => document.querySelectorAll('.item').length < 450), true);
    await page.waitForFunction(() => {
      const l = document.querySelector('#list');
      l.scrollTop = l.scrollHeight;
      return !!document.querySelector('.item[data-id="many-449"]');
    }, null, { polling: 100, timeout: 10000 });
    assert.ok(await page.$('.item[data-id="many-449"]'), 'the oldest match is reached by scrolling');
    assert.equal(await page.$eval('.item[data-id="many-449"]', (e) => e.getAttribute('aria-setsize')), '450');
    await page.fill('#search', 'strasse');
    await page.waitForFunction(() => document.querySelector('#search-count').textContent.replace(/[\u2068\u2069]/g, '') === '0 results');
    await page.fill('#search', 'soren lukasz');
    await page.waitForFunction(() => document.querySelector('#search-count').textContent.replace(/[\u2068\u2069]/g, '') === '450 results');
    // Cleared: no count.
    await page.fill('#search', '');
    await page.waitForFunction(() => document.querySelector('#search-count').hidden);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('snooze: the item leaves the list and counts, waits in the Snoozed view, and comes back unread', async () => {
    const page = await open();
    const id = await page.$eval('.item.unread', (e) => e.dataset.id);
    const before = (await counts(page)).total;
    await page.click(`.item[data-id="${id}"] .snooze`);
    await page.waitForSelector('#snooze-menu:not([hidden]) [data-snooze="hour"]');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.snooze), 'hour', 'the menu takes the focus');
    await page.screenshot({ path: join(shots, 'snooze-menu.png') });
    let violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], axeReport(violations));
    // A time picked in the past is refused, saying why.
    await page.fill('#snooze-at', '2020-01-01T08:00');
    await page.click('#snooze-apply');
    await page.waitForFunction(() => /future/.test(document.querySelector('#snackbar').textContent));
    await page.click('[data-snooze="tomorrow"]');
    await page.waitForFunction((id) => !document.querySelector(`.item[data-id="${id}"]`), id);
    assert.equal((await counts(page)).total, before - 1);
    await page.waitForSelector('#snoozed-toggle:not([hidden])');
    assert.match(await page.textContent('#snoozed-toggle'), /1 snoozed/);
    await page.click('#snoozed-toggle');
    await page.waitForSelector(`#snoozed li[data-id="${id}"]`);
    assert.match(await seenText(page, `#snoozed li[data-id="${id}"] .until`), /^Back at /);
    await page.screenshot({ path: join(shots, 'snoozed-view.png') });
    violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], axeReport(violations));
    // Its time comes: back in the list, unread.
    await page.click('#snoozed-toggle');
    await page.evaluate((id) => window.lonceng.wake(id), id);
    await page.waitForSelector(`.item.unread[data-id="${id}"]`);
    assert.equal((await counts(page)).total, before);
    assert.equal(await page.isHidden('#snoozed-toggle'), true, 'nothing waits: no toggle');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('snooze: Unsnooze brings it back at once, and an item read elsewhere is forgotten (NC-R13)', async () => {
    const page = await open();
    const [a, b] = await page.$$eval('.item.unread', (els) => els.slice(0, 2).map((e) => e.dataset.id));
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await page.evaluate(([a, b, until]) => Promise.all([window.lonceng.snooze(a, until), window.lonceng.snooze(b, until)]), [a, b, until]);
    await page.waitForFunction(() => /^2 snoozed$/.test(document.querySelector('#snoozed-toggle').textContent.replace(/[\u2068\u2069]/g, '')));
    // Read elsewhere (the sync engine stores it and says the list changed).
    await page.evaluate((b) => window.lonceng.markRead(b), b);
    await page.waitForFunction(() => /^1 snoozed$/.test(document.querySelector('#snoozed-toggle').textContent.replace(/[\u2068\u2069]/g, '')));
    await page.click('#snoozed-toggle');
    await page.waitForSelector(`#snoozed li[data-id="${a}"]`);
    assert.equal(await page.$(`#snoozed li[data-id="${b}"]`), null, 'read on the phone: not waiting any more');
    await page.click(`#snoozed .unsnooze[data-id="${a}"]`);
    await page.waitForSelector('#snoozed .note');
    await page.click('#snoozed-toggle');
    await page.waitForSelector(`.item.unread[data-id="${a}"]`);
    await page.close();
  });

  test('snooze: late answers from an older refresh do not bring back what was just snoozed', async () => {
    const page = await open();
    const [a, b] = await page.$$eval('.item.unread', (els) => els.slice(0, 2).map((e) => e.dataset.id));
    // The next questions for the list and for the snoozed items are answered as things are now
    // (nothing waits), but only once the test lets them: after the next refresh has answered.
    await page.evaluate(() => {
      const m = window.lonceng;
      let release;
      const released = new Promise((r) => { release = r; });
      window.releaseStale = release;
      window.staleAnswered = 0;
      for (const name of ['page', 'snoozed']) {
        const real = m[name].bind(m);
        m[name] = async (...args) => {
          m[name] = real;
          window.slowAsked = true;
          const stale = await real(...args);
          await released;
          window.staleAnswered++;
          return stale;
        };
      }
    });
    await page.evaluate((b) => window.lonceng.markRead(b), b);
    await page.waitForFunction(() => window.slowAsked === true);
    await page.evaluate((a) => window.lonceng.snooze(a, new Date(Date.now() + 3_600_000).toISOString()), a);
    await page.waitForFunction(() => /^1 snoozed$/.test(document.querySelector('#snoozed-toggle').textContent.replace(/[\u2068\u2069]/g, '')));
    await page.waitForFunction((a) => !document.querySelector(`.item[data-id="${a}"]`), a);
    // Now the late answers arrive, and the window has had a frame to draw whatever they did.
    await page.evaluate(() => window.releaseStale());
    await page.waitForFunction(() => window.staleAnswered === 2);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    assert.equal(seen(await page.textContent('#snoozed-toggle')), '1 snoozed');
    assert.equal(await page.isHidden('#snoozed-toggle'), false);
    assert.equal(await page.$(`.item[data-id="${a}"]`), null, 'not back in the list');
    await page.close();
  });

  test('a gap marker shows in its tab until dismissed; quiet hours show with Resume', async () => {
    const page = await open();
    await page.evaluate(() => window.lonceng.setGap('inbox'));
    assert.equal(await page.isHidden('#gap'), true, 'not in General');
    await page.click('#tab-inbox');
    await page.waitForSelector('#gap:not([hidden])');
    assert.equal(await seenText(page, '#gap span'), 'Some Inbox items may have expired while you were offline.');
    await page.evaluate(() => window.lonceng.setQuiet({ kind: 'scheduled', until: new Date(Date.now() + 3_600_000).toISOString() }));
    await page.waitForSelector('#quiet:not([hidden])');
    assert.match(await seenText(page, '#quiet span'), /^Quiet until \d\d[:.]\d\d$/);
    await page.screenshot({ path: join(shots, 'gap-and-quiet.png') });
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], axeReport(violations));
    await page.click('#gap-dismiss');
    await page.waitForSelector('#gap[hidden]', { state: 'attached' });
    assert.deepEqual(await page.evaluate(() => window.lonceng.gaps()), []);
    await page.click('#resume');
    await page.waitForSelector('#quiet[hidden]', { state: 'attached' });
    await page.close();
  });

  test('settings: quiet hours (days, times, categories that break through) and sound are saved as changed', async () => {
    const page = await open();
    await page.click('#open-settings');
    await page.waitForSelector('#quiet-hours');
    await page.check('#quiet-enabled');
    await page.fill('#quiet-start', '21:30');
    await page.uncheck('[data-day="sun"]');
    await page.click('#quiet-hours summary');
    await page.check('[data-breakthrough="deals"]');
    await page.uncheck('#sound-on');
    await page.waitForFunction(() => {
      const s = window.lonceng.settings_;
      return s.quiet_hours.enabled && s.quiet_hours.start === 21 * 60 + 30 && !s.quiet_hours.days.includes('sun')
        && s.quiet_hours.breakthrough.includes('deals') && !s.sound.on;
    });
    assert.equal(await page.isDisabled('[data-sound="deals"]'), true, 'per-category sound follows the main switch');
    // ORG-5: names and text in toasts, by default not on a locked screen.
    assert.equal(await page.inputValue('#message-text'), 'not_while_locked');
    await page.selectOption('#message-text', 'never');
    await page.waitForFunction(() => window.lonceng.settings_.message_text === 'never');
    // ORG-6: approvals wait through the computer's Do Not Disturb unless the agent says otherwise.
    assert.equal(await page.isChecked('#approvals-break-dnd'), false);
    await page.check('#approvals-break-dnd');
    await page.waitForFunction(() => window.lonceng.settings_.approvals_break_dnd === true);
    await page.locator('#privacy').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'settings-privacy.png') });
    await page.screenshot({ path: join(shots, 'settings-quiet-hours.png'), fullPage: true });
    const violations = await axeViolations(page);
    assert.deepEqual(violations.map((v) => v.id), [], axeReport(violations));
    await page.close();
  });
});
