// Memory on a busy day (issue 25): the release app in the tray for a while with the demo's toasts
// coming at one rate, its whole process tree's PSS sampled every 10 s. Each toast may ready the
// bell window hidden (WebKit alive for the linger); nobody clicks.
//
//   cargo build --release -p lonceng --features demo,tauri/custom-protocol
//   dbus-run-session -- node tests/gui/busy-day.mjs EVERY_S MINUTES
//
// Prints one Markdown row: the rate, the median and the 90th percentile of the PSS samples, the
// median of RSS (shared pages counted whole: an upper bound of the PSS alone, when several of these
// run side by side), and the share of samples with a WebKit process alive. Goals: median ≤ 60 MB
// at one a minute, ≤ 100 MB at one every 3 s.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Desktop, pss, sleep, until } from './desktop.mjs';

const [every = '3', minutes = '60'] = process.argv.slice(2);
const app = process.env.APP ?? fileURLToPath(new URL('../../target/release/lonceng', import.meta.url));
const desktop = await new Desktop().up();
const end = Date.now() + Number(minutes) * 60_000;
const proc = desktop.start(app, ['--demo'], {
  LONCENG_DATA_DIR: mkdtempSync(join(tmpdir(), 'lonceng-busy-')),
  LONCENG_DEMO_PACE_MS: String(Number(every) * 1000),
  LONCENG_DEMO_EVENTS: String(Math.ceil((Number(minutes) * 60) / Number(every)) + 10),
});
try {
  await until('the tray item', () => desktop.trayItem(), 30000);
  const samples = [];
  const rss = [];
  let webkit = 0;
  while (Date.now() < end) {
    const p = pss(proc.pid);
    samples.push(p.mb);
    rss.push(p.rssMb);
    if (p.names.some((n) => n.startsWith('WebKit'))) webkit++;
    await sleep(10_000);
  }
  const at = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(1); };
  console.log(`| a toast every ${every} s, ${minutes} min, ${samples.length} samples | ${at(samples, 0.5)} MB | ${at(samples, 0.9)} MB | ${at(rss, 0.5)} MB | ${Math.round((100 * webkit) / samples.length)} % |`);
} finally {
  await desktop.down();
}
