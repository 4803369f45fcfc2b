// The core of the GUI suites under Wayland, as most Linux agents now log in (GNOME's and KDE's
// default): the real app on headless sway with no X server at all, driven by WebDriver. The tray
// works over StatusNotifierItem, toasts over D-Bus, the window opens where the compositor puts it
// (Wayland lets no app place itself), the web chat's focus cannot be seen so its presence decides,
// and the keyboard shortcut, which Wayland gives no app, is said in Settings with what works.
//
//   dbus-run-session -- node --test tests/gui/wayland.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WaylandDesktop, pss, quiet, until } from './desktop.mjs';
import { at, click, js, s, wd } from './webdriver.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const app = join(root, 'target/debug/lonceng');
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const driverBin = process.env.TAURI_DRIVER ?? join(process.env.HOME ?? '/root', '.cargo/bin/tauri-driver');
let desktop;
let driver;

const ipc = (command, args = {}) =>
  js(`return window.__TAURI_INTERNALS__.invoke(${JSON.stringify(command)}, ${JSON.stringify(args)});`);

before(async () => {
  assert.ok(existsSync(app), `${app} is built (scripts/test.sh builds it)`);
  mkdirSync(shots, { recursive: true });
  desktop = await new WaylandDesktop().up({ recorder: true });
  at.port = 5444 + (process.pid % 500);
  driver = desktop.start(driverBin, ['--port', String(at.port), '--native-port', String(at.port + 1000)], {
    LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-wayland-data-')),
    // Events for about 30 s: chat messages still come after the web chat says it is active.
    LONCENG_DEMO_PACE_MS: '150',
    LONCENG_DEMO_EVENTS: '200',
    LONCENG_LINGER_MS: '2000',
  });
  await until('tauri-driver', async () => { try { await fetch(`http://127.0.0.1:${at.port}/status`); return true; } catch { return false; } });
  const created = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: app, args: ['--demo', '--show'] } } },
  });
  at.session = created.sessionId;
});

after(async () => {
  if (at.session) await wd('DELETE', s('')).catch(() => {});
  await desktop?.down();
});

test('the window opens where the compositor puts it, on the work area, with the list painted', async () => {
  const rect = await until('the window on Wayland', () => desktop.windowRect('Lonceng'));
  const work = desktop.workArea();
  assert.ok(rect.x >= work.x && rect.y >= work.y && rect.x + rect.width <= work.x + work.width
    && rect.y + rect.height <= work.y + work.height, JSON.stringify({ rect, work }));
  await until('items listed', () => js('return document.querySelectorAll("[data-id]").length > 0;'));
  desktop.shoot({ x: 0, y: 0, ...desktop.sway('-t', 'get_outputs')[0].rect }, join(shots, 'wayland-desktop.png'));
});

test('NC-R12: the web chat\'s focus cannot be seen, so its presence decides: chat items held, General still toasts', async () => {
  const url = await until('the demo server', () => driver.log().match(/the demo server listens at (http:\/\/127\.0\.0\.1:\d+)/)?.[1]);
  const minted = await fetch(`${url}/v1/admin/tokens`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-admin', 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: 'agent-sari', device_id: 'web-chat-tab' }),
  });
  const { token } = await minted.json();
  const put = await fetch(`${url}/v1/presence`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ surface: 'web_chat', active: true }),
  });
  assert.ok(put.ok, `presence: ${put.status}`);
  const reasons = async (tab) => {
    const page = await ipc('page', { scope: { tab, category: null }, unreadOnly: false, after: null, limit: 500 });
    return Promise.all(page.items.map((i) => ipc('why', { id: i.id })));
  };
  await until('a chat item held for the web chat', async () => (await reasons('inbox')).includes('chat_focused'), 30000);
  const general = await reasons('general');
  assert.ok(general.length > 0 && !general.includes('chat_focused'), `General always toasts: ${general}`);
});

test('toasts carry Open and Mark as read; pressing Mark as read reads it (NC-R8)', async () => {
  const unread = async () => (await ipc('counts')).total;
  // The demo done first (its count holds still for 2 s), so that one fewer unread is this press.
  let before = -1;
  await until('the demo done', async () => {
    const n = await unread();
    if (n !== before) { before = n; return false; }
    try { await quiet('the unread count', 2000, async () => (await unread()) === n); return true; } catch { return false; }
  }, 60000);
  const closed = new Set(desktop.toasts().filter((c) => c.call === 'close').map((c) => c.id));
  const open = desktop.toasts().filter((c) => c.call === 'notify' && !closed.has(c.id) && c.actions.includes('mark-read')).at(-1);
  assert.ok(open, 'a toast still up, with its buttons');
  desktop.press(open.id, 'mark-read');
  await until('withdrawn', () => desktop.toasts().some((c) => c.call === 'close' && c.id === open.id));
  await until('read', async () => (await unread()) === before - 1);
});

test('Diagnose says what Wayland hides, and Settings says the shortcut needs the desktop\'s own setting', async () => {
  const report = await ipc('diagnose');
  const display = report.lines.find((l) => l.check === 'display');
  assert.equal(display.level, 'warning');
  assert.match(display.text, /Wayland/);
  const settings = await ipc('settings');
  assert.deepEqual(settings.shortcut_problem, { kind: 'unsupported', shortcut: 'Ctrl+Alt+N' });
  await click('#open-settings');
  const said = await until('said in Settings', () => js('const e = document.querySelector("#shortcut-problem"); return e ? e.textContent : null;'));
  assert.match(said.replace(/[\u2068\u2069]/g, ''), /keyboard settings, set Ctrl\+Alt\+N to run the command lonceng/);
  await js('document.querySelector("#shortcut-problem").scrollIntoView({ block: "center" });');
  desktop.shoot(desktop.windowRect('Lonceng'), join(shots, 'wayland-settings.png'));
  await click('#open-settings');
});

test('the tray item registers over StatusNotifierItem; a click hides the window and WebKit goes, another brings it back', async () => {
  const item = await until('the tray item', () => desktop.trayItem());
  assert.match(desktop.trayProperty(item, 'ToolTip'), /unread/);
  desktop.activate(item);
  await until('hidden', () => !desktop.hasWindow('Lonceng'));
  // The app's own processes (WebKitWebDriver, beside it under tauri-driver, is not the app's).
  const app = () => { const t = pss(driver.pid); return t.pids[t.names.indexOf('lonceng')]; };
  const webkit = () => pss(app()).names.some((n) => n.startsWith('WebKit'));
  await until('no WebKit once hidden', () => !webkit(), 15000);
  desktop.activate(item);
  await until('shown again', () => desktop.hasWindow('Lonceng'));
});
