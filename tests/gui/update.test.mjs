// Signed updates, as the agent meets them: with the organisation's update address set, a newer
// version is offered in the tray menu, and nothing is downloaded or installed without consent. (The
// install itself, signature checks included, is tested on real packages by scripts/install-test.sh.)
//
//   dbus-run-session -- node --test tests/gui/update.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Desktop, quiet, until } from './desktop.mjs';

const app = fileURLToPath(new URL('../../target/debug/lonceng', import.meta.url));
let desktop;

before(async () => {
  assert.ok(existsSync(app), `${app} is built`);
  desktop = await new Desktop().up();
});

after(() => desktop?.down());

test('a newer version at the organisation\'s update address is offered in the tray menu; nothing installs without consent', async () => {
  // The manifest only: the offer needs no package (a download would be checked against the key).
  const manifest = JSON.stringify({
    version: '9.9.9', notes: 'test', pub_date: '2026-11-29T00:00:00Z',
    platforms: Object.fromEntries(['linux-x86_64', 'linux-x86_64-deb'].map((k) => [k, { url: 'http://127.0.0.1:9/none.deb', signature: 'none' }])),
  });
  let asked = 0;
  const server = createServer((req, res) => { asked++; res.writeHead(200, { 'content-type': 'application/json' }).end(manifest); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const updating = desktop.start(app, [], {
      LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-update-')),
      LONCENG_UPDATE_URL: `http://127.0.0.1:${server.address().port}/latest.json`,
    });
    const item = await until('the tray item', () => desktop.trayItem());
    const offer = await until('the offer in the tray menu', () => desktop.trayMenu(item).find((m) => m.label === 'Install update 9.9.9'))
      .catch((e) => { throw new Error(`${e.message}; the app said:\n${updating.log()}`); });
    assert.ok(offer, 'offered');
    assert.ok(asked >= 1, 'the manifest was read');
    await quiet('nothing downloaded or installed without consent', 1000, () => !/update installed/.test(updating.log()));
    // The window says so too (a screenshot for a person to look at).
    desktop.activate(item);
    await until('the window shown', () => desktop.hasWindow('Lonceng'));
    await until('the window painted', () => /bell window painted/.test(updating.log()));
    const env = { ...process.env, DISPLAY: desktop.display };
    const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
    mkdirSync(shots, { recursive: true });
    const id = execFileSync('xdotool', ['search', '--onlyvisible', '--name', '^Lonceng$'], { env }).toString().trim().split('\n')[0];
    execFileSync('import', ['-window', id, join(shots, 'app-update-offer.png')], { env });
    desktop.clickMenu(desktop.trayMenu(item).find((m) => m.label === 'Quit Lonceng'));
    await until('the app quits', () => updating.exitCode !== null || updating.signalCode !== null, 15000);
  } finally {
    server.close();
  }
});
