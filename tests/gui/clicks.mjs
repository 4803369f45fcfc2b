// Cold clicks on a tray item, shared by the desktop bench (bench.mjs) and the interleaved
// comparison of builds (ab.mjs): both must wait for the demo and count a click the same way for
// their figures to compare.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pss, until } from './desktop.mjs';

/** The painted lines of the app and of the floor (src-tauri/examples/floor.rs). */
export const PAINTED = /bell window painted ms=(?<ms>\d+) page_ms=(?<page>\d+)(?: script_ms=(?<script>\d+) data_ms=(?<data>\d+))?/g;
export const FLOOR_PAINTED = /floor painted ms=(?<ms>\d+) page_ms=(?<page>\d+)/g;

/** The environment of a build run with `--demo` for its cold clicks: a data folder of its own,
 * 80 demo events 40 ms apart. */
export const demoEnv = (env = {}) => ({
  LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-clicks-')), LONCENG_DEMO_PACE_MS: '40', LONCENG_DEMO_EVENTS: '80', ...env,
});

/** `proc`'s log, its colours taken out. */
export const plainLog = (proc) => proc.log().replace(/\x1b\[[0-9;]*m/g, '');

/** Waits until the demo's events have arrived: the tray's unread count, once there is one, is the
 * same for 2 s (the demo sends one every 40 ms). Any build of the app says it so. */
export async function demoDone(desktop) {
  const item = await until('the tray item', () => desktop.trayItem(), 30000);
  const seen = [];
  await until('the demo done', () => {
    const now = Date.now();
    seen.push([now, desktop.trayProperty(item, 'ToolTip').match(/(\d+)/)?.[1] ?? '']);
    const recent = seen.filter(([t]) => now - t <= 2000);
    return now - seen[0][0] >= 2000 && recent.every(([, n]) => n && n !== '0' && n === recent[0][1]);
  }, 60000);
}

/** `n` cold clicks on the tray item of `proc` (no WebKit process alive before each): the painted
 * lines `pattern` matches in its output, as { ms, page, script, data }. */
export async function coldClicks(desktop, proc, pattern, n = 5) {
  const alive = () => pss(proc.pid).names.some((x) => x.startsWith('WebKit'));
  const lines = () => [...plainLog(proc).matchAll(pattern)].map((m) => ({
    ms: Number(m.groups.ms), page: Number(m.groups.page), script: Number(m.groups.script ?? NaN), data: Number(m.groups.data ?? NaN),
  }));
  const item = await until('the tray item', () => desktop.trayItem(), 30000);
  const out = [];
  for (let i = 0; i < n; i++) {
    await until('no WebKit process alive', () => !alive(), 30000);
    const before = lines().length;
    desktop.activate(item);
    await until('painted', () => lines().length > before, 20000);
    out.push(lines().at(-1));
    desktop.activate(item);
    await until('closed', () => !desktop.hasWindow('Lonceng') && !desktop.hasWindow('Floor'));
  }
  return out;
}

/** Runs `cmd` alone on the desktop for `f`, then ends it. */
export async function alone(desktop, cmd, args, env, f) {
  const proc = desktop.start(cmd, args, env);
  try {
    return await f(proc);
  } finally {
    proc.kill('SIGTERM');
    await until(`${cmd} gone`, () => proc.exitCode !== null || proc.signalCode !== null, 15000);
    await until('its tray item gone', () => !desktop.trayItem(), 15000);
  }
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
