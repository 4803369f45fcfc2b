// Cold clicks of several builds of the app (or the floor), interleaved: each build started in
// turn, N cold clicks each (no WebKit process alive before a click), ROUNDS times. This machine's
// speed drifts by tens of per cent within minutes (docs/PERFORMANCE.md), so builds compared one
// after the other are not comparable; taken in turn, the drift touches each the same.
//
//   dbus-run-session -- node tests/gui/ab.mjs OLD_BUILD target/release/lonceng target/release/examples/floor
//   (ROUNDS=3 N=3 by default; a build whose path ends in "floor" runs without --demo)

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Desktop, pss, until } from './desktop.mjs';

const builds = process.argv.slice(2);
const rounds = Number(process.env.ROUNDS ?? 3);
const n = Number(process.env.N ?? 3);
const PAINTED = /(?:bell window|floor) painted ms=(\d+) page_ms=(\d+)/g;
const desktop = await new Desktop().up();
const seen = new Map(builds.map((b) => [b, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const build of builds) {
      const floor = build.endsWith('floor');
      const proc = desktop.start(build, floor ? [] : ['--demo'], {
        LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-ab-')), LONCENG_DEMO_PACE_MS: '40', LONCENG_DEMO_EVENTS: '80',
      });
      const painted = () => [...proc.log().replace(/\x1b\[[0-9;]*m/g, '').matchAll(PAINTED)];
      const item = await until('the tray item', () => desktop.trayItem(), 30000);
      // The demo done: the unread count the same for 2 s (it sends an event every 40 ms).
      const counts = [];
      if (!floor) await until('the demo done', () => {
        const now = Date.now();
        counts.push([now, desktop.trayProperty(item, 'ToolTip').match(/(\d+)/)?.[1] ?? '']);
        const recent = counts.filter(([t]) => now - t <= 2000);
        return now - counts[0][0] >= 2000 && recent.every(([, c]) => c && c !== '0' && c === recent[0][1]);
      }, 60000);
      for (let i = 0; i < n; i++) {
        await until('no WebKit process alive', () => !pss(proc.pid).names.some((x) => x.startsWith('WebKit')), 30000);
        const before = painted().length;
        desktop.activate(item);
        await until('painted', () => painted().length > before, 20000);
        const [, ms, page] = painted().at(-1);
        seen.get(build).push({ ms: Number(ms), page: Number(page) });
        console.log(`${build}: ${ms} ms (its page ${page} ms)`);
        desktop.activate(item);
        await until('closed', () => !desktop.hasWindow('Lonceng') && !desktop.hasWindow('Floor'));
      }
      proc.kill('SIGTERM');
      await until(`${build} gone`, () => proc.exitCode !== null || proc.signalCode !== null, 15000);
      await until('its tray item gone', () => !desktop.trayItem(), 15000);
    }
  }
} finally {
  await desktop.down();
}
const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [build, clicks] of seen) {
  console.log(`| ${build} | ${p50(clicks.map((c) => c.ms))} ms | ${p50(clicks.map((c) => c.page))} ms | ${clicks.map((c) => c.ms).join(', ')} |`);
}
