// High-DPI, as agents' laptops run: the real app under Xvfb at 100 % and at 200 % (GDK_SCALE=2;
// GTK 3 on X11 scales by whole numbers only), and at 150 % on Wayland (headless sway with its
// output scaled by 1.5, as GNOME's fractional scaling does). The bell window opens with its pixels
// times the scale, entirely on the screen, its list filled; screenshots land in
// tests/gui/screenshots/ to be looked at.
//
//   dbus-run-session -- node --test tests/gui/hidpi.test.mjs

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Desktop, WaylandDesktop, until } from './desktop.mjs';

const app = fileURLToPath(new URL('../../target/debug/lonceng', import.meta.url));
const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
/** The window's size in logical pixels (src-tauri/src/window.rs). */
const LOGICAL = { width: 400, height: 640 };
const SCREEN = { width: 2560, height: 1600 };
let desktop;

after(() => desktop?.down());

/** The app on `desktop`, its window opened from the tray once the demo's items are there (so
 * that the screenshot shows a list), and painted. */
async function opened(name, env = {}) {
  assert.ok(existsSync(app), `${app} is built`);
  mkdirSync(shots, { recursive: true });
  const proc = desktop.start(app, ['--demo'], {
    ...env,
    LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), `lonceng-hidpi-${name}-`)),
    LONCENG_DEMO_PACE_MS: '200',
    LONCENG_DEMO_EVENTS: '12',
    LONCENG_PINNED: '1',
  });
  const item = await until('the tray item', () => desktop.trayItem());
  await until('unread items', () => /Lonceng — ([5-9]|\d\d+) unread/.test(desktop.trayProperty(item, 'ToolTip')), 30000);
  desktop.activate(item);
  await until('the window shown', () => desktop.hasWindow('Lonceng'));
  await until('the list painted', () => /bell window painted/.test(proc.log()), 30000);
  return proc;
}

for (const [name, env, factor] of [
  ['100', {}, 1],
  ['200', { GDK_SCALE: '2' }, 2],
]) {
  test(`the bell window at ${name} %: on the screen, beside the tray, ${factor}× its pixels`, async () => {
    desktop = await new Desktop().up({ screen: `${SCREEN.width}x${SCREEN.height}` });
    const proc = await opened(name, env);
    const g = desktop.windowGeometry('Lonceng');
    assert.equal(g.width, LOGICAL.width * factor, JSON.stringify(g));
    assert.equal(g.height, LOGICAL.height * factor, JSON.stringify(g));
    assert.ok(g.x >= 0 && g.y >= 0 && g.x + g.width <= SCREEN.width && g.y + g.height <= SCREEN.height, `on the screen: ${JSON.stringify(g)}`);
    desktop.shoot(g, join(shots, `window-${name}.png`));
    assert.doesNotMatch(proc.log(), /panicked/);
    await desktop.down();
    desktop = null;
  });
}

test('the bell window at 150 % on Wayland: on the output, 1.5× its pixels, the list painted', async () => {
  desktop = await new WaylandDesktop().up({ screen: '2400x1500', scale: 1.5 });
  const proc = await opened('150');
  // sway measures in logical pixels: the window's own size, on the 1600×1000 logical output.
  const g = await until('the window', () => desktop.windowRect('Lonceng'));
  assert.deepEqual([g.width, g.height], [LOGICAL.width, LOGICAL.height], JSON.stringify(g));
  const work = desktop.workArea();
  assert.ok(g.x >= work.x && g.y >= work.y && g.x + g.width <= work.x + work.width
    && g.y + g.height <= work.y + work.height, JSON.stringify({ g, work }));
  // What the screen shows: 1.5 device pixels for each of the window's.
  const shot = join(shots, 'window-150.png');
  desktop.shoot(g, shot);
  const size = execFileSync('identify', ['-format', '%w %h', shot]).toString().trim();
  assert.equal(size, `${LOGICAL.width * 1.5} ${LOGICAL.height * 1.5}`);
  assert.doesNotMatch(proc.log(), /panicked/);
  await desktop.down();
  desktop = null;
});
