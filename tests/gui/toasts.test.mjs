// The real app's toasts, tray icon and window placement, on a recording notification server
// (tests/src/bin/notification-recorder.rs) in place of dunst: what the app sent is read back, and
// buttons are pressed as the agent would. The tray icon's number is read from the pixmap the tray
// item exports over D-Bus (NC-R14); quiet hours end with one summary; the window opens by the icon.
//
//   dbus-run-session -- node --test tests/gui/toasts.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Desktop, quiet, until } from './desktop.mjs';

const app = fileURLToPath(new URL('../../target/debug/lonceng', import.meta.url));
const EVENTS = 12;
let desktop;
let proc;

const env = (dataDir) => ({
  LONCENG_DATA_DIR: dataDir,
  LONCENG_DEMO_PACE_MS: '100',
  LONCENG_DEMO_EVENTS: String(EVENTS),
  LONCENG_LINGER_MS: '3000',
  // The window's shows, hides and focus changes, for a failure's message.
  RUST_LOG: 'info,lonceng::window=debug',
});

before(async () => {
  assert.ok(existsSync(app), `${app} is built`);
  desktop = await new Desktop().up({ recorder: true });
  proc = desktop.start(app, ['--demo'], env(mkdtempSync(join(tmpdir(), 'lonceng-toasts-'))));
});

after(() => desktop?.down());

const unread = (item) => Number(desktop.trayProperty(item, 'ToolTip').match(/(\d+) unread/)?.[1] ?? 0);

/** Waits until the demo has sent everything and the tray's count holds still for 1.5 s. */
async function settled(item) {
  await until('unread items', () => unread(item) > 0, 30000);
  for (let tries = 0; tries < 40; tries++) {
    const n = unread(item);
    try {
      await quiet('the unread count', 1500, () => unread(item) === n);
      return n;
    } catch {
      // Still arriving.
    }
  }
  throw new Error('the unread count never held still');
}

// The 3×5 glyphs of the badge, read back independently of the Rust code that draws them.
const GLYPHS = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 2, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7], '+': [0, 2, 7, 2, 0],
};

/** The number on the icon: the white ink inside the red badge, sampled cell by cell. */
function readBadge({ width, height, argb }) {
  const px = (x, y) => { const i = (y * width + x) * 4; return [argb[i], argb[i + 1], argb[i + 2], argb[i + 3]]; };
  const red = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const [a, r, g, b] = px(x, y);
    if (a === 255 && r === 0xd3 && g === 0x2f && b === 0x2f) red.push([x, y]);
  }
  if (!red.length) return '';
  const [x0, x1] = [Math.min(...red.map((p) => p[0])), Math.max(...red.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...red.map((p) => p[1])), Math.max(...red.map((p) => p[1]))];
  const ink = (x, y) => px(x, y).every((v) => v === 255);
  const pts = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (ink(x, y)) pts.push([x, y]);
  const top = Math.min(...pts.map((p) => p[1]));
  const scale = (Math.max(...pts.map((p) => p[1])) - top + 1) / 5;
  const right = Math.max(...pts.map((p) => p[0]));
  let text = '';
  for (let gx = Math.min(...pts.map((p) => p[0])); gx <= right; gx += 4 * scale) {
    const rows = [0, 1, 2, 3, 4].map((row) => [0, 1, 2].reduce((acc, col) =>
      (acc << 1) | (ink(gx + col * scale + (scale >> 1), top + row * scale + (scale >> 1)) ? 1 : 0), 0));
    text += Object.entries(GLYPHS).find(([, g]) => g.every((v, i) => v === rows[i]))?.[0] ?? '?';
  }
  return text;
}

/** The most opaque pixel outside the badge: the icon's own look. */
function iconAlpha({ argb }) {
  let max = 0;
  for (let i = 0; i < argb.length; i += 4) {
    const badgeColour = (argb[i + 1] === 0xd3 && argb[i + 2] === 0x2f) || (argb[i + 1] === 255 && argb[i + 2] === 255 && argb[i + 3] === 255);
    if (!badgeColour) max = Math.max(max, argb[i]);
  }
  return max;
}

/** The exported icon as a PNG in tests/gui/screenshots/, for a person to look at (ARGB → RGBA). */
function saveIcon({ width, height, argb }, name) {
  const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));
  mkdirSync(shots, { recursive: true });
  const rgba = Buffer.alloc(argb.length);
  for (let i = 0; i < argb.length; i += 4) {
    rgba[i] = argb[i + 1]; rgba[i + 1] = argb[i + 2]; rgba[i + 2] = argb[i + 3]; rgba[i + 3] = argb[i];
  }
  const raw = join(mkdtempSync(join(tmpdir(), 'lonceng-icon-')), 'icon.rgba');
  writeFileSync(raw, rgba);
  execFileSync('convert', ['-size', `${width}x${height}`, '-depth', '8', `rgba:${raw}`, join(shots, name)]);
}

const badge = (n) => (n === 0 ? '' : n > 99 ? '99+' : String(n));

test('the tray icon carries the unread number, read back from the pixmap it exports (NC-R14)', async () => {
  const item = await until('the tray item', () => desktop.trayItem());
  const n = await settled(item);
  assert.ok(n > 0, 'the demo left unread items');
  const icon = desktop.trayPixmap(item);
  assert.ok(icon && icon.width >= 16, 'an icon pixmap is exported');
    assert.equal(readBadge(icon), badge(n), `the icon says ${n}`);
  saveIcon(icon, 'tray-icon-unread.png');
});

test('toasts carry Open and Mark as read buttons with the theme sound; pressing Mark as read reads it (NC-R8, NC-R13)', async () => {
  const item = desktop.trayItem();
  const before = await settled(item);
  const shown = desktop.toasts().filter((c) => c.call === 'notify');
  assert.ok(shown.length > 0, 'toasts were shown');
  const closed = new Set(desktop.toasts().filter((c) => c.call === 'close').map((c) => c.id));
  const open = shown.filter((c) => !closed.has(c.id) && c.actions.includes('mark-read'));
  assert.ok(open.length > 0, JSON.stringify(shown.slice(-3)));
  const toast = open[open.length - 1];
  assert.deepEqual(toast.actions, ['default', 'Open', 'open', 'Open', 'mark-read', 'Mark as read']);
  assert.equal(toast.sound_name, 'message-new-instant');
  desktop.press(toast.id, 'mark-read');
  await until('withdrawn', () => desktop.toasts().some((c) => c.call === 'close' && c.id === toast.id));
  await until('one fewer unread', () => unread(item) < before);
  await until('the icon follows', () => readBadge(desktop.trayPixmap(item)) === badge(unread(item)));
});

test('the window opens next to the tray icon, kept on the work area, whichever edge the panel is on', async () => {
  const item = desktop.trayItem();
  const work = desktop.workArea();
  // The window has no frame: what xdotool measures is all of it.
  const inside = (r) => r.x >= work.x && r.y >= work.y && r.x + r.width <= work.x + work.width
    && r.y + r.height <= work.y + work.height;
  // What the window and the app did, when the window is not where it should be.
  const seen = () => `window: ${JSON.stringify(desktop.windowRect('Lonceng'))}\napp log:\n${proc.log().split('\n').slice(-40).join('\n')}`;
  // Where it settles: the window manager may map it once before it lands.
  const rect = (what, ok) => until(what, () => {
    const r = desktop.windowRect('Lonceng');
    return r && ok(r) ? r : null;
  }, 20000, seen);
  // The tray host's panel at the bottom (a taskbar, as on Windows), the icon at its right: above
  // the click, its right edge by the icon.
  const [bx, by] = [work.x + work.width - 10, work.y + work.height + 15];
  desktop.activateAt(item, bx, by);
  const low = await rect('above the click, by the icon', (r) => r.y + r.height <= by && r.x + r.width >= bx - 20);
  assert.ok(inside(low), `on the work area: ${JSON.stringify({ low, work })}`);
  desktop.activateAt(item, bx, by);
  await until('hidden', () => !desktop.hasWindow('Lonceng'), 20000, seen);
  // A top panel on the left (GNOME, XFCE): below the click, at the left.
  const [tx, ty] = [work.x + 20, work.y + 5];
  desktop.activateAt(item, tx, ty);
  const high = await rect('below the click, by the icon', (r) => r.y >= ty && r.x <= tx && r.y < low.y);
  assert.ok(inside(high), `on the work area: ${JSON.stringify({ high, work })}`);
  desktop.activateAt(item, tx, ty);
  await until('hidden', () => !desktop.hasWindow('Lonceng'), 20000, seen);
});

test('quiet hours hold toasts, the tray says so, and turning them off gives one silent summary', async () => {
  // The first instance goes (a second launch would only open its window).
  proc.kill('SIGTERM');
  await until('the first app gone', () => proc.exitCode !== null || proc.signalCode !== null, 15000);
  await until('its tray item gone', () => !desktop.trayItem());
  const dataDir = mkdtempSync(join(tmpdir(), 'lonceng-quiet-'));
  // Every day, all day: quiet whatever the time here.
  writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({
    quiet_hours: { enabled: true, days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: 0, end: 0, breakthrough: [] },
  }));
  const toastsBefore = desktop.toasts().length;
  proc = desktop.start(app, ['--demo'], env(dataDir));
  const item = await until('the tray item', () => desktop.trayItem());
  const n = await settled(item);
  assert.ok(n > 0);
  assert.equal(desktop.toasts().length, toastsBefore, 'nothing toasted');
  assert.match(desktop.trayProperty(item, 'ToolTip'), /Quiet until \d\d:\d\d/);
  const icon = desktop.trayPixmap(item);
  assert.ok(iconAlpha(icon) < 128, 'the quiet look is faded');
    assert.equal(readBadge(icon), badge(n), 'and keeps its number');
  saveIcon(icon, 'tray-icon-quiet.png');

  const entry = desktop.trayMenu(item).find((m) => m.label === 'Quiet hours');
  assert.ok(entry, 'a Quiet hours item in the tray menu');
  desktop.clickMenu(entry);
  await until('one summary', () => desktop.toasts().length === toastsBefore + 1);
  const [summary] = desktop.toasts().slice(toastsBefore);
  // The unread items held, and the chat messages held (they are not items): the demo sends both.
  const told = Number(summary.body.replace(/[\u2068\u2069]/g, '').match(/^(\d+) notifications arrived while notifications were paused$/)?.[1]);
  assert.ok(told >= n && told <= EVENTS, `${summary.body} (${n} unread, ${EVENTS} events)`);
  assert.equal(summary.suppress_sound, true, 'a summary is silent');
  await quiet('once', 1500, () => desktop.toasts().length === toastsBefore + 1);
  await until('the tooltip no longer quiet', () => !/Quiet/.test(desktop.trayProperty(item, 'ToolTip')));
  assert.equal(iconAlpha(desktop.trayPixmap(item)), 255, 'the icon bright again');
});
