// The real app's window through WebDriver (tauri-driver and WebKitWebDriver), as the GUI suites
// drive it: each suite file runs in a process of its own, so the one session here is that file's.
// Set `at.port` and `at.display` once they are known, and `at.session` once the session is made.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from './desktop.mjs';

const shots = fileURLToPath(new URL('./screenshots/', import.meta.url));

export const at = { port: 0, session: null, display: null };

export async function wd(method, path, body) {
  const r = await fetch(`http://127.0.0.1:${at.port}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${JSON.stringify(j.value ?? j)}`);
  return j.value;
}
export const s = (path) => `/session/${at.session}${path}`;
export const js = (script, ...args) => wd('POST', s('/execute/sync'), { script, args });
// W3C names the reference 'element-6066-11e4-a52e-4f735dd0fb22'; older drivers say 'ELEMENT'.
export const find = async (css) => Object.values(await wd('POST', s('/element'), { using: 'css selector', value: css }))[0];
/** Clicks `css`, finding it again if the list re-rendered it between finding and clicking, and
 * waiting a moment for what appears after a call to the app (a menu filled from its answer). */
export async function click(css) {
  await until(`${css} can be clicked`, async () => {
    try {
      await wd('POST', s(`/element/${await find(css)}/click`), {});
      return true;
    } catch (e) {
      if (!/not interactable|stale|no such element/.test(String(e))) throw e;
      return false;
    }
  }, 2000);
}
/** What the agent sees: the window as the X server shows it, into tests/gui/screenshots/. (WebKitWebDriver's
 * screenshot command never answers when WebKit draws without GPU compositing, which is how Lonceng
 * runs it.) */
export function shot(name) {
  const env = { ...process.env, DISPLAY: at.display };
  const id = execFileSync('xdotool', ['search', '--onlyvisible', '--name', '^Lonceng$'], { env }).toString().trim().split('\n')[0];
  execFileSync('import', ['-window', id, join(shots, name)], { env });
}
