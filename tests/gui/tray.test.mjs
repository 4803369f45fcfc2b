// The tray, for real: the built app registers a StatusNotifierItem with the tray host; a toast
// readies the window hidden, for the linger; a left click (Activate, as the host sends it) toggles
// the bell window; reopened soon it is the same window, and hidden for longer than the linger it
// is destroyed, so no WebKit process stays alive in the tray; the tooltip carries the unread count
// (NC-R14).
//
//   dbus-run-session -- node --test tests/gui/tray.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Desktop, pss, quiet, until } from './desktop.mjs';

const app = fileURLToPath(new URL('../../target/debug/lonceng', import.meta.url));
let desktop;
let proc;
let opened;

before(async () => {
  assert.ok(existsSync(app), `${app} is built`);
  desktop = await new Desktop().up();
  // The test's browser opener: `xdg-open` writes down what it was asked to open.
  const work = mkdtempSync(join(tmpdir(), 'lonceng-tray-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  opened = join(work, 'opened');
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`, { mode: 0o755 });
  proc = desktop.start(app, ['--demo'], {
    PATH: `${bin}:${process.env.PATH}`,
    LONCENG_DATA_DIR: join(work, 'data'),
    LONCENG_DEMO_PACE_MS: '100',
    LONCENG_DEMO_EVENTS: '25',
    LONCENG_LINGER_MS: '3000',
  });
});

after(() => desktop?.down());

test('a left click on the tray icon toggles the bell window; hidden means no WebKit alive (NC-R14)', async () => {
  const item = await until('the tray item', () => desktop.trayItem());
  assert.ok(!desktop.hasWindow('Lonceng'), 'starts hidden in the tray');
  // The demo's toasts ready the window (an agent who sees a toast is likely to click): WebKit
  // starts with the window still hidden, and goes after the linger once the toasts stop.
  const webkit = () => pss(proc.pid).names.some((n) => n.startsWith('WebKit'));
  await until('WebKit readied by a toast', webkit);
  assert.ok(!desktop.hasWindow('Lonceng'), 'the window stays hidden');
  await until('WebKit gone after the linger', () => !webkit(), 30000);
  await quiet('no WebKit while the toasts have stopped', 1000, () => !webkit());

  desktop.activate(item);
  await until('the window shown', () => desktop.hasWindow('Lonceng'));
  await until('WebKit running', () => pss(proc.pid).names.some((n) => n.startsWith('WebKit')));
  await until('the list painted', () => /bell window painted/.test(proc.log()), 20000);

  const webProcesses = () => {
    const { names, pids } = pss(proc.pid);
    return pids.filter((_, i) => names[i] === 'WebKitWebProces');
  };
  const [web] = webProcesses();
  desktop.activate(item);
  await until('the window hidden', () => !desktop.hasWindow('Lonceng'));

  // Reopened within the linger: the same window and web process, painted again at once.
  const paints = () => proc.log().match(/bell window painted/g)?.length ?? 0;
  desktop.activate(item);
  await until('the window shown again', () => desktop.hasWindow('Lonceng'));
  await until('painted again', () => paints() === 2);
  assert.deepEqual(webProcesses(), [web], 'no new web process');

  desktop.activate(item);
  await until('the window hidden', () => !desktop.hasWindow('Lonceng'));
  // Hidden for longer than the linger means no WebKit at all: the window and its web process end,
  // and the app ends the network process (which WebKitGTK would keep) shortly after.
  await until('WebKit gone', () => !pss(proc.pid).names.some((n) => n.startsWith('WebKit')), 15000);

  const tooltip = () => desktop.trayProperty(item, 'ToolTip');
  await until('unread demo items', async () => /[1-9]\d* unread/.test(tooltip()), 20000);
  assert.match(tooltip(), /Lonceng — \d+ unread notifications?/);
  await quiet('no panic', 500, () => !/panicked/.test(proc.log()));
});

test('Ctrl+Alt+N opens the bell from anywhere', async () => {
  assert.ok(!desktop.hasWindow('Lonceng'));
  await until('the shortcut registered', () => /the bell opens with Ctrl\+Alt\+N/.test(proc.log()));
  const press = () => execFileSync('xdotool', ['key', '--clearmodifiers', 'ctrl+alt+n'], { env: { ...process.env, DISPLAY: desktop.display } });
  // Open for half a second on end (the key grab can take the focus from the window for a moment,
  // and an unpinned window hides when it loses it; the press then shows it again).
  const settledOpen = (what) => {
    let seen = 0;
    return until(what, () => { seen = desktop.hasWindow('Lonceng') ? seen + 1 : 0; return seen >= 5; });
  };
  press();
  await settledOpen('the window shown by the shortcut');
  press();
  await settledOpen('pressed again, it is open');
  desktop.activate(desktop.trayItem());
  await until('hidden from the tray', () => !desktop.hasWindow('Lonceng'));
});

test('a second launch opens the running instance\'s window instead of starting again (single instance)', async () => {
  assert.ok(!desktop.hasWindow('Lonceng'));
  const second = desktop.start(app, ['--demo'], { LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-second-')) });
  await until('the first instance shows its window', () => desktop.hasWindow('Lonceng'));
  await until('the second launch exits', () => second.exitCode !== null || second.signalCode !== null, 15000);
  assert.equal(proc.exitCode, null, 'the first keeps running');
});

test('during maintenance the tray says until when, and "Try now" reconnects at once once it is over (MW-2)', async () => {
  const item = desktop.trayItem();
  const url = proc.log().match(/the demo server listens at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
  assert.ok(url, 'the demo server logs its address');
  const admin = (path, body) => fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-admin', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const ends = new Date(Date.now() + 2 * 3600e3);
  const hhmm = ends.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });
  assert.equal((await admin('/v1/admin/maintenance/start', { until: ends.toISOString() })).status, 200);
  const tooltip = () => desktop.trayProperty(item, 'ToolTip');
  await until('the tray says until when', () => tooltip().includes(`Maintenance until ${hhmm}`), 20000);
  assert.doesNotMatch(tooltip(), /Offline/);
  await until('"Try now" in the menu', () => desktop.trayMenu(item).some((m) => m.label === 'Try now'));

  // Over early: the app waits the two hours the server announced, unless the agent says otherwise.
  assert.equal((await admin('/v1/admin/maintenance/end', {})).status, 200);
  await quiet('still waiting as the server asked', 1500, () => tooltip().includes('Maintenance until'));
  desktop.clickMenu(desktop.trayMenu(item).find((m) => m.label === 'Try now'));
  await until('connected again', () => !/Maintenance|Offline/.test(tooltip()), 10000);
  await until('"Try now" gone from the menu', () => !desktop.trayMenu(item).some((m) => m.label === 'Try now'));
});

/** A menu label as the tray host draws it: dbusmenu's `_` marks a mnemonic, `__` is an underscore. */
const drawn = (label) => label.replace(/__|_/g, (m) => (m === '__' ? '_' : ''));

test('the tray menu lists the five newest unread items as text; one opens its page and is read, no WebKit needed', async () => {
  const item = desktop.trayItem();
  if (desktop.hasWindow('Lonceng')) {
    desktop.activate(item);
    await until('the window hidden', () => !desktop.hasWindow('Lonceng'));
  }
  const url = proc.log().match(/the demo server listens at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
  assert.ok(url, 'the demo server logs its address');
  // The newest item's text carries what a menu could take for markup or a mnemonic.
  const event = {
    type: 'notification', idempotency_key: 'tray-menu-1', kind: 'deal_owner_assigned',
    actor: { id: 'agent-budi', name: 'Budi & <b>Co</b>' }, recipients: ['agent-sari'],
    params: { deal_name: 'R&D_Team\nPT Maju' }, url: 'https://app.qontak.com/crm/deals/tray-1',
    occurred_at: new Date().toISOString(),
  };
  const posted = await fetch(`${url}/v1/events`, {
    method: 'POST', headers: { authorization: 'Bearer demo-producer', 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  assert.equal(posted.status, 200, await posted.text());
  const listed = () => {
    const menu = desktop.trayMenu(item);
    return menu.slice(0, menu.findIndex((m) => m.label === 'Open the bell')).filter((m) => m.label !== '');
  };
  // Without the isolation marks (gdbus prints them escaped).
  const seen = (s) => s.replace(/\\u206[89]|[\u2068\u2069]/g, '');
  const first = await until('the new item first in the menu', () => {
    const items = listed();
    return items.length && seen(drawn(items[0].label)).includes('R&D_Team') && items;
  });
  assert.equal(first.length, 5, JSON.stringify(first.map((m) => m.label)));
  // As text, on one line and cut short: the markup and the ampersands as sent, the line break a space.
  assert.match(seen(drawn(first[0].label)), /^Budi & <b>Co<\/b> made you the owner of deal R&D_Team PT…$/);
  assert.ok(first.every((m) => [...seen(drawn(m.label))].length <= 60), 'one short line each');
  const before = Number(desktop.trayProperty(item, 'ToolTip').match(/(\d+) unread/)[1]);
  desktop.clickMenu(first[0]);
  await until('its page opened', () => existsSync(opened) && readFileSync(opened, 'utf8').includes('https://app.qontak.com/crm/deals/tray-1'));
  await until('read: one fewer unread', () => desktop.trayProperty(item, 'ToolTip').includes(`${before - 1} unread`));
  await until('gone from the menu', () => !listed().some((m) => m.id === first[0].id && drawn(m.label) === drawn(first[0].label)));
  assert.ok(!desktop.hasWindow('Lonceng'), 'the window was not needed');
});

test('the tray menu has the items of PRODUCT.md §5, and Quit quits', async () => {
  const item = desktop.trayItem();
  const menu = desktop.trayMenu(item);
  const labels = menu.map((m) => m.label);
  for (const want of ['Open the bell', 'Mark all as read', 'Pause notifications', 'Language', 'Start at login', 'Settings…', 'Quit Lonceng']) {
    assert.ok(labels.includes(want), `${want} in ${JSON.stringify(labels)}`);
  }
  desktop.clickMenu(menu.find((m) => m.label === 'Quit Lonceng'));
  await until('the app quits', () => proc.exitCode !== null || proc.signalCode !== null, 15000);
});
