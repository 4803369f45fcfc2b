// A virtual desktop for the GUI suites: Xvfb, openbox, dunst, and a StatusNotifierItem tray host,
// all inside the caller's D-Bus session (or a headless Wayland compositor: `WaylandDesktop`); plus
// helpers to reach the app's tray item over D-Bus and to measure the app's whole process tree.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asserts that `f` holds throughout `ms` (a quiet period: nothing more happens), checking as it goes. */
export async function quiet(what, ms, f) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await f())) throw new Error(`stopped holding: ${what}`);
    await sleep(50);
  }
}

/** Waits until `f` returns something truthy and returns it; `detail`, if given, says what was
 * seen instead when it times out. */
export async function until(what, f, ms = 20000, detail = null) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(100);
  }
}

function freeDisplay() {
  for (let n = 140; n < 600; n++) {
    if (!existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`)) return `:${n}`;
  }
  throw new Error('no free X display');
}

export class Desktop {
  children = [];

  /** The environment of what runs on this desktop: X11, whatever session runs the suite. */
  env(extra = {}) {
    return { ...process.env, DISPLAY: this.display, WAYLAND_DISPLAY: undefined, XDG_SESSION_TYPE: 'x11', ...extra };
  }

  start(cmd, args, env = {}) {
    const p = spawn(cmd, args, { env: this.env(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout.on('data', (d) => { log += d; });
    p.stderr.on('data', (d) => { log += d; });
    p.log = () => log;
    this.children.push(p);
    return p;
  }

  /** `tray: false` leaves the desktop without a tray host; `recorder: true` runs the recording
   * notification server (tests/src/bin/notification-recorder.rs) instead of dunst. */
  async up({ tray = true, recorder = false, screen = '1280x800' } = {}) {
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) throw new Error('run inside dbus-run-session');
    this.display = freeDisplay();
    this.start('Xvfb', [this.display, '-screen', '0', `${screen}x24`, '-nolisten', 'tcp', '-noreset']);
    await until('Xvfb', () => { try { execFileSync('xdpyinfo', ['-display', this.display], { stdio: 'ignore' }); return true; } catch { return false; } });
    this.start('openbox', []);
    await until('openbox', () => execFileSync('xprop', ['-display', this.display, '-root', '_NET_SUPPORTING_WM_CHECK']).toString().includes('window id'));
    await this.notifications(recorder);
    if (!tray) return this;
    this.start('gtk-sni-tray-standalone', ['--watcher', '--bottom']);
    await this.trayWatcher();
    return this;
  }

  /** The recording notification server (tests/src/bin/notification-recorder.rs), or dunst. */
  async notifications(recorder) {
    if (recorder) {
      const bin = new URL('../../target/debug/notification-recorder', import.meta.url).pathname;
      this.recorder = this.start(bin, []);
      await until('the notification recorder', () => this.recorder.log().includes('"ready"'));
    } else {
      this.start('dunst', []);
    }
  }

  trayWatcher() {
    return until('the tray watcher', () => this.gdbus(['introspect', '--session', '--dest', 'org.kde.StatusNotifierWatcher', '--object-path', '/StatusNotifierWatcher']).includes('RegisterStatusNotifierItem'));
  }

  /** Stops what it started, and waits until each is gone (the next desktop on the same bus must
   * find the tray watcher's and the app's names free). */
  async down() {
    const gone = (p) => p.exitCode !== null || p.signalCode !== null;
    for (const p of this.children.reverse()) p.kill('SIGTERM');
    try {
      await until('the desktop stopped', () => this.children.every(gone), 10000);
    } catch {
      for (const p of this.children.filter((c) => !gone(c))) p.kill('SIGKILL');
      await until('the desktop killed', () => this.children.every(gone), 5000);
    }
    this.children = [];
  }

  gdbus(args) {
    try {
      return execFileSync('gdbus', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    } catch {
      return '';
    }
  }

  /** The bus name of the app's tray item, once registered. */
  trayItem() {
    const out = this.gdbus(['call', '--session', '--dest', 'org.kde.StatusNotifierWatcher', '--object-path', '/StatusNotifierWatcher',
      '--method', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierWatcher', 'RegisteredStatusNotifierItems']);
    const m = out.match(/'([^']+)'/);
    return m ? m[1] : null;
  }

  trayProperty(item, name) {
    const [dest, path] = item.includes('/') ? [item.slice(0, item.indexOf('/')), item.slice(item.indexOf('/'))] : [item, '/StatusNotifierItem'];
    return this.gdbus(['call', '--session', '--dest', dest, '--object-path', path, '--method', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', name]);
  }

  /** A left click on the tray icon, as a tray host sends it. */
  activate(item) {
    const [dest, path] = item.includes('/') ? [item.slice(0, item.indexOf('/')), item.slice(item.indexOf('/'))] : [item, '/StatusNotifierItem'];
    return this.gdbus(['call', '--session', '--dest', dest, '--object-path', path, '--method', 'org.kde.StatusNotifierItem.Activate', '400', '780']);
  }

  /** What the app asked of the recording notification server, one object per call. */
  toasts() {
    return this.recorder.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
      .filter((c) => c.call === 'notify' || c.call === 'close');
  }

  /** Presses button `key` of toast `id` ("default": a click on the toast), as the agent would. */
  press(id, key) {
    return this.gdbus(['call', '--session', '--dest', 'org.freedesktop.Notifications', '--object-path', '/org/freedesktop/Notifications',
      '--method', 'org.lonceng.Recorder.Invoke', String(id), key]);
  }

  /** The icon the tray item exports (IconPixmap: ARGB32, network byte order), largest first. */
  trayPixmap(item) {
    const out = this.trayProperty(item, 'IconPixmap');
    const m = out.match(/\((\d+), (\d+), \[byte ([^\]]*)\]/);
    if (!m) return null;
    const bytes = m[3].split(',').map((b) => Number(b.trim()));
    return { width: Number(m[1]), height: Number(m[2]), argb: Uint8Array.from(bytes) };
  }

  /** A left click on the tray icon at (x, y) on the screen. */
  activateAt(item, x, y) {
    const [dest, path] = item.includes('/') ? [item.slice(0, item.indexOf('/')), item.slice(item.indexOf('/'))] : [item, '/StatusNotifierItem'];
    return this.gdbus(['call', '--session', '--dest', dest, '--object-path', path, '--method', 'org.kde.StatusNotifierItem.Activate', String(x), String(y)]);
  }

  /** The window's frame on the screen, `{ x, y, width, height }`, or null. */
  windowRect(title) {
    try {
      const env = this.env();
      const id = execFileSync('xdotool', ['search', '--onlyvisible', '--name', `^${title}$`], { env }).toString().trim().split('\n')[0];
      const g = execFileSync('xdotool', ['getwindowgeometry', '--shell', id], { env }).toString();
      const v = (k) => Number(g.match(new RegExp(`${k}=(-?\\d+)`))[1]);
      return { x: v('X'), y: v('Y'), width: v('WIDTH'), height: v('HEIGHT') };
    } catch {
      return null;
    }
  }

  /** The screen's work area (_NET_WORKAREA): what panels leave free. */
  workArea() {
    const out = execFileSync('xprop', ['-display', this.display, '-root', '_NET_WORKAREA']).toString();
    const [x, y, width, height] = out.split('=')[1].split(',').map((v) => Number(v.trim()));
    return { x, y, width, height };
  }

  /** The tray menu's items as `{ id, label }`, read over com.canonical.dbusmenu. */
  trayMenu(item) {
    const menuPath = this.trayProperty(item, 'Menu').match(/objectpath '([^']+)'/)?.[1];
    if (!menuPath) return [];
    const dest = item.includes('/') ? item.slice(0, item.indexOf('/')) : item;
    const layout = this.gdbus(['call', '--session', '--dest', dest, '--object-path', menuPath,
      '--method', 'com.canonical.dbusmenu.GetLayout', '--', '0', '-1', '@as []']);
    return [...layout.matchAll(/\((\d+), \{[^}]*'label': <'([^']*)'>/g)].map((m) => ({ id: Number(m[1]), label: m[2], menuPath, dest }));
  }

  /** Clicks a tray menu item, as the tray host does. */
  clickMenu(entry) {
    return this.gdbus(['call', '--session', '--dest', entry.dest, '--object-path', entry.menuPath,
      '--method', 'com.canonical.dbusmenu.Event', '--', String(entry.id), 'clicked', '<0>', '0']);
  }

  /** Where the mapped window titled `title` is and how big, in the screen's pixels. */
  windowGeometry(title) {
    const out = execFileSync('xwininfo', ['-name', title], { env: { ...process.env, DISPLAY: this.display } }).toString();
    const n = (label) => Number(out.match(new RegExp(`${label}:\\s+(-?\\d+)`))[1]);
    return { x: n('Absolute upper-left X'), y: n('Absolute upper-left Y'), width: n('Width'), height: n('Height') };
  }

  /** A screenshot of the region `g` of the screen, saved as `path`. */
  shoot(g, path) {
    execFileSync('import', ['-window', 'root', '-crop', `${g.width}x${g.height}+${g.x}+${g.y}`, '+repage', path], {
      env: { ...process.env, DISPLAY: this.display },
    });
  }

  /** Whether a top-level window titled `title` is mapped. */
  hasWindow(title) {
    try {
      return execFileSync('xdotool', ['search', '--onlyvisible', '--name', `^${title}$`], { env: { ...process.env, DISPLAY: this.display } }).toString().trim().length > 0;
    } catch {
      return false;
    }
  }
}

/** The same desktop on Wayland: headless sway (wlroots), its swaybar the tray host (and the
 * StatusNotifierWatcher), and no X at all (DISPLAY unset), as an agent's GNOME or KDE session is by
 * default. sway refuses to run as root, so it runs in a user namespace where root is uid 1000 (its
 * socket and its D-Bus peer stay root's). Windows are read from sway's tree, screens shot with grim.
 */
export class WaylandDesktop extends Desktop {
  env(extra = {}) {
    // Node leaves out variables set to undefined: DISPLAY is not inherited.
    return { ...process.env, DISPLAY: undefined, ...this.wayland, ...extra };
  }

  /** `scale`: the output's scale factor (1.5 for 150 %; Wayland scales by fractions). */
  async up({ tray = true, recorder = false, screen = '1280x800', scale = 1 } = {}) {
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) throw new Error('run inside dbus-run-session');
    const dir = mkdtempSync(join(tmpdir(), 'lonceng-wayland-'));
    const ready = join(dir, 'ready');
    writeFileSync(join(dir, 'config'), [
      'xwayland disable',
      `output HEADLESS-1 resolution ${screen} position 0 0 scale ${scale}`,
      'default_border none',
      'default_floating_border none',
      // A tray app's window floats; tiled, sway would give it the whole screen.
      'for_window [app_id=".*"] floating enable',
      ...(tray ? ['bar {', '  position bottom', '  tray_output *', '}'] : []),
      `exec echo "$WAYLAND_DISPLAY $SWAYSOCK" > ${ready}`,
    ].join('\n'));
    this.wayland = { XDG_RUNTIME_DIR: dir, GDK_BACKEND: 'wayland', XDG_SESSION_TYPE: 'wayland' };
    this.start('unshare', ['--user', '--map-user=1000', '--map-group=1000', 'sway', '-c', join(dir, 'config')],
      { WLR_BACKENDS: 'headless', WLR_LIBINPUT_NO_DEVICES: '1', WLR_RENDERER: 'pixman' });
    const said = await until('sway', () => existsSync(ready) && readFileSync(ready, 'utf8').trim());
    const [display, socket] = said.split(' ');
    Object.assign(this.wayland, { WAYLAND_DISPLAY: display, SWAYSOCK: socket });
    // What D-Bus starts on demand must find Wayland too.
    execFileSync('dbus-update-activation-environment', ['WAYLAND_DISPLAY', 'XDG_RUNTIME_DIR', 'GDK_BACKEND'], { env: this.env() });
    await this.notifications(recorder);
    if (tray) await this.trayWatcher();
    return this;
  }

  sway(...args) {
    return JSON.parse(execFileSync('swaymsg', args, { env: this.env() }).toString());
  }

  /** The visible windows titled `title`, from sway's tree. */
  windows(title) {
    const out = [];
    const walk = (n) => {
      if ((n.type === 'con' || n.type === 'floating_con') && n.name === title && n.visible) out.push(n);
      for (const c of [...(n.nodes ?? []), ...(n.floating_nodes ?? [])]) walk(c);
    };
    walk(this.sway('-t', 'get_tree'));
    return out;
  }

  windowRect(title) {
    const [n] = this.windows(title);
    return n ? { ...n.rect } : null;
  }

  windowGeometry(title) {
    return this.windowRect(title);
  }

  hasWindow(title) {
    return this.windows(title).length > 0;
  }

  /** The output's area that windows may use (without swaybar). */
  workArea() {
    return { ...this.sway('-t', 'get_workspaces').find((w) => w.visible).rect };
  }

  shoot(g, path) {
    execFileSync('grim', ['-g', `${g.x},${g.y} ${g.width}x${g.height}`, path], { env: this.env() });
  }
}

/** The process and all its descendants. */
export function tree(pid) {
  const kids = new Map();
  for (const d of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  const out = [];
  const walk = (p) => { out.push(p); for (const k of kids.get(p) ?? []) walk(k); };
  walk(pid);
  return out;
}

/** Proportional set size of the whole tree, in MB, and the names and pids of its processes. */
export function pss(pid) {
  let kb = 0;
  let rss = 0;
  const names = [];
  const pids = [];
  for (const p of tree(pid)) {
    try {
      const lines = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8').split('\n');
      const field = (name) => Number(lines.find((l) => l.startsWith(`${name}:`)).split(/\s+/)[1]);
      kb += field('Pss');
      rss += field('Rss');
      names.push(readFileSync(`/proc/${p}/comm`, 'utf8').trim());
      pids.push(p);
    } catch { /* gone */ }
  }
  // RSS counts shared pages whole (in each process of the tree, too): an upper bound of the PSS the
  // tree would have alone on the machine, whatever else runs beside it.
  return { mb: kb / 1024, rssMb: rss / 1024, names, pids };
}
