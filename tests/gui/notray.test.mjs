// A desktop without a tray host (no StatusNotifierWatcher): Lonceng keeps running and says why,
// and a second launch still opens its window.
//
//   dbus-run-session -- node --test tests/gui/notray.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Desktop, quiet, until } from './desktop.mjs';

const app = fileURLToPath(new URL('../../target/debug/lonceng', import.meta.url));
let desktop;

before(async () => {
  desktop = await new Desktop().up({ tray: false });
});

after(() => desktop?.down());

test('without a tray host the app keeps running, and a second launch opens the window', async () => {
  const proc = desktop.start(app, ['--demo'], { LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-notray-')) });
  await until('the warning', () => /no system tray on this desktop/.test(proc.log()), 20000);
  await quiet('still running', 1000, () => proc.exitCode === null);
  desktop.start(app, ['--demo'], { LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-notray2-')) });
  await until('the window, through the first instance', () => desktop.hasWindow('Lonceng'));
});
