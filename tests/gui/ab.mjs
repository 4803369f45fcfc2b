// Cold clicks of several builds of the app (or the floor), interleaved: each build started in
// turn, N cold clicks each (no WebKit process alive before a click), ROUNDS times. This machine's
// speed drifts by tens of per cent within minutes (docs/PERFORMANCE.md), so builds compared one
// after the other are not comparable; taken in turn, the drift touches each the same. The clicks
// are the desktop bench's own (clicks.mjs).
//
//   dbus-run-session -- node tests/gui/ab.mjs OLD_BUILD target/release/lonceng target/release/examples/floor
//   (ROUNDS=3 N=3 by default; a build whose path ends in "floor" runs without --demo)

import { alone, coldClicks, demoDone, demoEnv, FLOOR_PAINTED, median, PAINTED } from './clicks.mjs';
import { Desktop } from './desktop.mjs';

const builds = process.argv.slice(2);
const rounds = Number(process.env.ROUNDS ?? 3);
const n = Number(process.env.N ?? 3);
const desktop = await new Desktop().up();
const seen = new Map(builds.map((b) => [b, []]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const build of builds) {
      const floor = build.endsWith('floor');
      const clicks = floor
        ? await alone(desktop, build, [], {}, (p) => coldClicks(desktop, p, FLOOR_PAINTED, n))
        : await alone(desktop, build, ['--demo'], demoEnv(), async (p) => {
          await demoDone(desktop);
          return coldClicks(desktop, p, PAINTED, n);
        });
      for (const c of clicks) console.log(`${build}: ${c.ms} ms (its page ${c.page} ms)`);
      seen.get(build).push(...clicks);
    }
  }
} finally {
  await desktop.down();
}
for (const [build, clicks] of seen) {
  console.log(`| ${build} | ${median(clicks.map((c) => c.ms))} ms | ${median(clicks.map((c) => c.page))} ms | ${clicks.map((c) => c.ms).join(', ')} |`);
}
