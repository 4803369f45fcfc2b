// The settings panel of the bell window: language, toasts per category and for chat messages, where
// notifications come from (the Lonceng server and its sign-in token, or the Qontak CRM directly with
// the company's credentials; secrets are never shown back), the chat window's title patterns, start
// at login.

import {
  CATEGORIES, TABS, type Backend, type Category, type Day, type DoctorReport, type Lang, type MessageText, type MuteUntil, type QuietHours, type Settings, type SettingsChanges,
  type SourceKind, type Tab,
} from './backend';
import { h } from './dom';
import { t } from './i18n';

function tabOf(c: Category): Tab {
  return TABS.find((tab) => CATEGORIES[tab].includes(c)) ?? 'general';
}

const DAYS: Day[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** Minutes after midnight as an `<input type="time">` value, and back. */
export function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
export function minutesOf(value: string): number | null {
  const m = /^(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const [hours, minutes] = [Number(m[1]), Number(m[2])];
  return hours < 24 && minutes < 60 ? hours * 60 + minutes : null;
}

/** Quiet hours (a weekly schedule, categories that break through) and sound: each change is saved
 * at once, as the toast checkboxes are. */
function quietAndSound(st: Settings, lang: Lang, backend: Backend, quietly: (c: SettingsChanges) => void): HTMLElement[] {
  const q: QuietHours = st.quiet_hours;
  // Each change is made to the settings as they are when it is saved, so that one made meanwhile
  // elsewhere (quiet hours turned off from the tray, say) is not undone by this form.
  const saveQuiet = (change: (q: QuietHours) => void) => void backend.settings().then((cur) => {
    const next = { ...cur.quiet_hours, days: [...cur.quiet_hours.days], breakthrough: [...cur.quiet_hours.breakthrough] };
    change(next);
    quietly({ quiet_hours: next });
  });
  const saveSound = (change: (s: Settings['sound']) => void) => void backend.settings().then((cur) => {
    const next = { ...cur.sound, silent: [...cur.sound.silent] };
    change(next);
    quietly({ sound: next });
  });
  const enabled = h('input', { type: 'checkbox', id: 'quiet-enabled', checked: q.enabled });
  enabled.addEventListener('change', () => saveQuiet((n) => { n.enabled = enabled.checked; }));
  const time = (id: string, minutes: number, set: (n: QuietHours, m: number) => void) => {
    const input = h('input', { type: 'time', id, value: hhmm(minutes), required: true });
    input.addEventListener('change', () => {
      const m = minutesOf(input.value);
      if (m !== null) saveQuiet((n) => set(n, m));
    });
    return input;
  };
  const from = time('quiet-start', q.start, (n, m) => { n.start = m; });
  const to = time('quiet-end', q.end, (n, m) => { n.end = m; });
  const toggle = <T,>(list: T[], x: T, on: boolean): T[] => (on ? [...new Set([...list, x])] : list.filter((v) => v !== x));
  const days = DAYS.map((d) => {
    const box = h('input', { type: 'checkbox', 'data-day': d, checked: q.days.includes(d) });
    box.addEventListener('change', () => saveQuiet((n) => { n.days = DAYS.filter((x) => toggle(n.days, d, box.checked).includes(x)); }));
    return h('label', { class: 'toggle day' }, box, t(lang, `day-${d}`));
  });
  const categories = Object.values(CATEGORIES).flat();
  const label = (c: Category) => `${t(lang, `tab-${tabOf(c)}`)} · ${t(lang, `category-${c}`)}`;
  const through = categories.map((c) => {
    const box = h('input', { type: 'checkbox', 'data-breakthrough': c, checked: q.breakthrough.includes(c) });
    box.addEventListener('change', () => saveQuiet((n) => { n.breakthrough = toggle(n.breakthrough, c, box.checked); }));
    return h('label', { class: 'toggle' }, box, label(c));
  });
  const soundOn = h('input', { type: 'checkbox', id: 'sound-on', checked: st.sound.on });
  const silent = categories.map((c) => {
    const box = h('input', { type: 'checkbox', 'data-sound': c, checked: !st.sound.silent.includes(c), disabled: !st.sound.on });
    box.addEventListener('change', () => saveSound((n) => { n.silent = toggle(n.silent, c, !box.checked); }));
    return h('label', { class: 'toggle' }, box, label(c));
  });
  soundOn.addEventListener('change', () => {
    for (const l of silent) (l.querySelector('input') as HTMLInputElement).disabled = !soundOn.checked;
    saveSound((n) => { n.on = soundOn.checked; });
  });
  // ORG-5: names and message text in toasts, or not on a locked screen, or never.
  const choices: MessageText[] = ['always', 'not_while_locked', 'never'];
  const privacy = h('select', { id: 'message-text' },
    ...choices.map((c) => h('option', { value: c, selected: st.message_text === c }, t(lang, `settings-message-text-${c.replace(/_/g, '-')}`))));
  privacy.addEventListener('change', () => quietly({ message_text: privacy.value as MessageText }));
  // ORG-6: the computer's Do Not Disturb holds every toast unless approvals may break through it.
  const approvals = h('input', { type: 'checkbox', id: 'approvals-break-dnd', checked: st.approvals_break_dnd });
  approvals.addEventListener('change', () => quietly({ approvals_break_dnd: approvals.checked }));
  return [
    h('fieldset', { id: 'quiet-hours' }, h('legend', {}, t(lang, 'settings-quiet')),
      h('label', { class: 'toggle' }, enabled, t(lang, 'settings-quiet-enabled')),
      h('div', { class: 'quiet-times' },
        h('label', { class: 'field' }, t(lang, 'settings-quiet-from'), from),
        h('label', { class: 'field' }, t(lang, 'settings-quiet-to'), to),
      ),
      h('div', { class: 'days', role: 'group', 'aria-label': t(lang, 'settings-quiet-days') }, ...days),
      h('p', { class: 'note' }, t(lang, 'settings-quiet-note')),
      h('label', { class: 'toggle' }, approvals, t(lang, 'settings-approvals-break-dnd')),
      h('details', {}, h('summary', {}, t(lang, 'settings-quiet-breakthrough')), ...through),
    ),
    h('fieldset', { id: 'sound' }, h('legend', {}, t(lang, 'settings-sound')),
      h('label', { class: 'toggle' }, soundOn, t(lang, 'settings-sound-on')),
      h('details', {}, h('summary', {}, t(lang, 'settings-sound-silent')), ...silent),
    ),
    h('label', { class: 'field', id: 'privacy' }, t(lang, 'settings-message-text'), privacy),
  ];
}

/** Chat channels whose messages make no toast. */
const CHANNELS = ['whatsapp', 'instagram', 'facebook', 'telegram', 'line', 'webchat', 'tokopedia', 'email'];

/** Chat toasts by channel, and the conversations muted from a toast (an hour, until resolved,
 * always, or unmuted here). Each change is saved at once. */
function chatMutes(st: Settings, lang: Lang, backend: Backend, quietly: (c: SettingsChanges) => void): HTMLElement {
  const channels = CHANNELS.map((c) => {
    const box = h('input', { type: 'checkbox', 'data-channel': c, checked: !st.muted_channels.includes(c) });
    box.addEventListener('change', () => void backend.settings().then((cur) => {
      const muted = new Set(cur.muted_channels);
      if (box.checked) muted.delete(c); else muted.add(c);
      quietly({ muted_channels: [...muted] });
    }));
    return h('label', { class: 'toggle' }, box, t(lang, `channel-${c}`));
  });
  const now = Date.now();
  const rows = Object.entries(st.muted_conversations)
    .filter(([, m]) => m.until.kind !== 'time' || Date.parse(m.until.at) > now)
    .map(([id, m]) => {
      const choice = h('select', { 'data-conversation': id, 'aria-label': m.label },
        ...['hour', 'resolved', 'always', 'unmute'].map((v) => h('option', {
          value: v, selected: v === (m.until.kind === 'time' ? 'hour' : m.until.kind),
        }, t(lang, `mute-${v}`))));
      choice.addEventListener('change', () => void backend.settings().then((cur) => {
        const next = { ...cur.muted_conversations };
        const until: MuteUntil = choice.value === 'hour' ? { kind: 'time', at: new Date(Date.now() + 3600e3).toISOString() }
          : choice.value === 'always' ? { kind: 'always' } : { kind: 'resolved' };
        if (choice.value === 'unmute') delete next[id];
        else if (next[id]) next[id] = { ...next[id], until };
        quietly({ muted_conversations: next });
      }));
      return h('div', { class: 'field muted-conversation' }, h('bdi', {}, m.label), choice);
    });
  return h('fieldset', { id: 'chat-mutes' }, h('legend', {}, t(lang, 'settings-chat-mutes')),
    h('div', { class: 'channels', role: 'group', 'aria-label': t(lang, 'settings-chat-channels') }, ...channels),
    ...(rows.length ? rows : [h('p', { class: 'note' }, t(lang, 'settings-muted-none'))]));
}

export interface PanelEvents {
  /** The save button stored these settings. */
  saved(settings: Settings): void;
  /** A change was refused (an address that is not http(s), say). */
  failed(error: unknown): void;
}

/** ORG-1: who the app is signed in as at the organisation's server, or the button that signs in
 * (the system browser opens the organisation's sign-in page; no token is ever shown). */
function accountSection(st: Settings, lang: Lang, backend: Backend, server: HTMLInputElement, on: PanelEvents): HTMLElement {
  const a = st.account;
  const section = h('fieldset', { id: 'account' }, h('legend', {}, t(lang, 'settings-account')));
  if (a.signed_in_as) {
    const out = h('button', { id: 'sign-out', class: 'secondary' }, t(lang, 'settings-sign-out'));
    out.addEventListener('click', () => {
      out.disabled = true;
      void backend.signOut().then(() => backend.settings()).then(on.saved, (e: unknown) => { out.disabled = false; on.failed(e); });
    });
    section.append(h('p', { id: 'signed-in-as' }, t(lang, 'settings-signed-in-as', { user: a.signed_in_as })), out);
    return section;
  }
  const waiting = h('p', { class: 'note', id: 'signing-in', 'aria-live': 'polite', hidden: !a.signing_in }, t(lang, 'settings-signing-in'));
  const button = h('button', { id: 'sign-in', class: 'primary' }, t(lang, a.signed_out ? 'settings-sign-in-again' : 'settings-sign-in'));
  button.addEventListener('click', () => {
    const address = server.value.trim();
    if (!address) { server.focus(); on.failed(new Error(t(lang, 'settings-sign-in-first'))); return; }
    button.disabled = true;
    waiting.hidden = false;
    // The address as typed is saved first: signing in goes to the server it names.
    const saved = address === st.server_url ? Promise.resolve(st) : backend.saveSettings({ source: 'server', server_url: address });
    void saved.then(() => backend.signIn()).then(() => backend.settings()).then(on.saved, (e: unknown) => {
      button.disabled = false;
      waiting.hidden = true;
      on.failed(e);
    });
  });
  if (a.signed_out) section.append(h('p', { class: 'note warning', id: 'signed-out', role: 'status' }, t(lang, 'settings-signed-out')));
  section.append(button, waiting);
  return section;
}

/** The Diagnose report: one row per check, its level in words (not only colour), what to do. */
function renderReport(r: DoctorReport, lang: Lang): HTMLElement {
  return h('ul', { class: 'doctor', id: 'doctor-lines' },
    ...r.lines.map((l) => h('li', { class: `doctor-line ${l.level}`, 'data-check': l.check, 'data-level': l.level },
      h('span', { class: 'doctor-level' }, t(lang, `doctor-level-${l.level}`)),
      h('strong', {}, l.title),
      h('span', { class: 'doctor-text' }, l.text),
      l.advice ? h('small', { class: 'doctor-advice' }, `→ ${l.advice}`) : null,
    )),
  );
}

export function renderSettingsPanel(el: HTMLElement, st: Settings, lang: Lang, backend: Backend, on: PanelEvents): void {
  const save = (changes: SettingsChanges) => backend.saveSettings(changes).catch((e: unknown) => { on.failed(e); throw e; });
  const quietly = (changes: SettingsChanges) => void save(changes).catch(() => {});
  const langSelect = h('select', { id: 'lang', 'aria-label': t(lang, 'tray-language') },
    h('option', { value: 'en', selected: st.lang === 'en' }, 'English'),
    h('option', { value: 'id', selected: st.lang === 'id' }, 'Bahasa Indonesia'),
  );
  langSelect.addEventListener('change', () => quietly({ lang: langSelect.value as Lang }));
  const mutes = Object.values(CATEGORIES).flat().map((c) => {
    const box = h('input', { type: 'checkbox', 'data-mute': c, checked: !st.muted.includes(c) });
    box.addEventListener('change', () => {
      const muted = new Set(st.muted);
      if (box.checked) muted.delete(c); else muted.add(c);
      quietly({ muted: [...muted] });
    });
    return h('label', { class: 'toggle' }, box, `${t(lang, `tab-${tabOf(c)}`)} · ${t(lang, `category-${c}`)}`);
  });
  const chatBox = h('input', { type: 'checkbox', 'data-mute': 'chat', checked: !st.mute_chat });
  chatBox.addEventListener('change', () => quietly({ mute_chat: !chatBox.checked }));
  const chat = chatMutes(st, lang, backend, quietly);
  const server = h('input', { id: 'server-url', type: 'url', value: st.server_url, placeholder: 'https://', disabled: st.demo });
  const token = h('input', { id: 'token', type: 'password', placeholder: st.has_token ? '••••••••' : '', autocomplete: 'off', disabled: st.demo });
  const sourceRadio = (kind: SourceKind) =>
    h('input', { type: 'radio', name: 'source', id: `source-${kind}`, value: kind, checked: st.source === kind, disabled: st.demo });
  const sources = { server: sourceRadio('server'), crm: sourceRadio('crm') };
  const crmBase = h('input', { id: 'crm-base-url', type: 'url', value: st.crm_base_url, placeholder: 'https://api.mekari.com' });
  const crmClient = h('input', { id: 'crm-client-id', value: st.crm_client_id, autocomplete: 'off' });
  const crmSecret = h('input', { id: 'crm-secret', type: 'password', placeholder: st.has_crm_secret ? '••••••••' : '', autocomplete: 'off' });
  const crmSso = h('input', { id: 'crm-sso', value: st.crm_sso_user_id, autocomplete: 'off' });
  const secretNote = t(lang, st.has_crm_secret ? (st.crm_secret_store === 'file' ? 'settings-crm-secret-file' : 'settings-crm-secret-keyring') : 'settings-crm-secret-none');
  const patterns = h('input', { id: 'patterns', value: st.chat_window_patterns.join(', ') });
  // Only an installed Lonceng manages start at login; a build folder's copy and the demo never do.
  const autostart = h('input', { type: 'checkbox', id: 'autostart', checked: st.autostart && st.autostart_managed, disabled: !st.autostart_managed });
  const updateUrl = h('input', { id: 'update-url', type: 'url', value: st.update_url, placeholder: 'https://', disabled: st.demo });
  // A corporate network's proxy: empty for the computer's own, "direct" for none.
  const proxy = h('input', { id: 'proxy', value: st.proxy, placeholder: 'http://proxy.example:3128', autocomplete: 'off', spellcheck: 'false' });
  // The bell from the keyboard anywhere; what the desktop refused is said below it.
  const shortcut = h('input', { id: 'shortcut', value: st.shortcut, placeholder: 'Ctrl+Alt+N', autocomplete: 'off', spellcheck: 'false' });
  const shortcutProblem = h('div', { id: 'shortcut-problem-slot' });
  const saveButton = h('button', { id: 'save-settings', class: 'primary' }, t(lang, 'settings-save'));
  const diagnoseButton = h('button', { id: 'diagnose', class: 'secondary' }, t(lang, 'doctor-run'));
  const report = h('div', { id: 'doctor-report', 'aria-live': 'polite' });
  diagnoseButton.addEventListener('click', () => {
    diagnoseButton.disabled = true;
    report.replaceChildren(h('p', { class: 'note' }, t(lang, 'doctor-running')));
    backend.diagnose()
      .then((r) => report.replaceChildren(renderReport(r, lang)), (e: unknown) => { report.replaceChildren(); on.failed(e); })
      .finally(() => { diagnoseButton.disabled = false; });
  });
  // One zip for IT: the report, the week's logs and the settings, redacted by the runtime.
  const reportButton = h('button', { id: 'save-report', class: 'secondary' }, t(lang, 'doctor-save-report'));
  const saved = h('p', { class: 'note', id: 'report-saved', 'aria-live': 'polite', hidden: true });
  reportButton.addEventListener('click', () => {
    reportButton.disabled = true;
    backend.saveReport()
      .then((path) => { saved.hidden = false; saved.textContent = t(lang, 'doctor-report-saved', { path }); }, on.failed)
      .finally(() => { reportButton.disabled = false; });
  });
  saveButton.addEventListener('click', () => {
    const changes: SettingsChanges = {
      chat_window_patterns: patterns.value.split(',').map((p) => p.trim()).filter(Boolean),
      shortcut: shortcut.value.trim(),
      proxy: proxy.value.trim(),
    };
    if (st.autostart_managed) changes.autostart = autostart.checked;
    if (!st.demo) {
      changes.source = sources.crm.checked ? 'crm' : 'server';
      changes.server_url = server.value.trim();
      changes.crm_base_url = crmBase.value.trim();
      changes.crm_client_id = crmClient.value.trim();
      changes.crm_sso_user_id = crmSso.value.trim();
      changes.update_url = updateUrl.value.trim();
    }
    if (token.value) changes.token = token.value;
    if (crmSecret.value) changes.crm_client_secret = crmSecret.value;
    token.value = '';
    crmSecret.value = '';
    void save(changes).then(on.saved, () => {});
  });
  const tokenNote = t(lang, st.has_token ? (st.token_store === 'file' ? 'settings-token-file' : 'settings-token-keyring') : 'settings-token-none');
  const demoNote = st.demo ? [h('p', { class: 'note' }, t(lang, 'settings-demo'))] : [];
  // Only the chosen source's fields are shown; switching shows the other's at once, unsaved.
  const serverFields = h('div', { class: 'source-fields', id: 'server-fields' },
    h('label', { class: 'field' }, t(lang, 'settings-server'), server),
    // IT may decide how this computer signs in (ORG-3): the other way is then not offered.
    st.demo || st.account.method === 'token' ? null : accountSection(st, lang, backend, server, on),
    // ORG-1: pasting an admin's token stays possible, for headless and test set-ups.
    st.account.method === 'organisation' ? null : h('details', { id: 'advanced', open: st.has_token && !st.account.signed_in_as },
      h('summary', {}, t(lang, 'settings-advanced')),
      h('label', { class: 'field' }, t(lang, 'settings-token'), token, h('small', {}, tokenNote)),
    ),
  );
  const crmFields = h('div', { class: 'source-fields', id: 'crm-fields' },
    h('p', { class: 'note warning', id: 'crm-warning', role: 'note' }, t(lang, 'settings-crm-warning')),
    h('label', { class: 'field' }, t(lang, 'settings-crm-client-id'), crmClient),
    h('label', { class: 'field' }, t(lang, 'settings-crm-secret'), crmSecret, h('small', {}, secretNote)),
    h('label', { class: 'field' }, t(lang, 'settings-crm-sso'), crmSso),
    h('label', { class: 'field' }, t(lang, 'settings-crm-base'), crmBase),
  );
  const showSource = () => {
    serverFields.hidden = sources.crm.checked;
    crmFields.hidden = !sources.crm.checked;
  };
  sources.server.addEventListener('change', showSource);
  sources.crm.addEventListener('change', showSource);
  showSource();
  el.replaceChildren(
    h('h2', {}, t(lang, 'tray-settings')),
    ...demoNote,
    h('label', { class: 'field' }, t(lang, 'tray-language'), langSelect),
    h('fieldset', {}, h('legend', {}, t(lang, 'settings-toasts')), h('label', { class: 'toggle' }, chatBox, t(lang, 'settings-chat-messages')), ...mutes),
    chat,
    ...quietAndSound(st, lang, backend, quietly),
    h('fieldset', { id: 'source' }, h('legend', {}, t(lang, 'settings-source')),
      h('label', { class: 'toggle' }, sources.server, t(lang, 'settings-source-server')),
      h('label', { class: 'toggle' }, sources.crm, t(lang, 'settings-source-crm')),
    ),
    serverFields,
    crmFields,
    h('label', { class: 'field' }, t(lang, 'settings-chat-window'), patterns),
    h('label', { class: 'toggle' }, autostart, t(lang, 'tray-autostart')),
    ...(st.autostart_managed ? [] : [h('p', { class: 'note', id: 'autostart-note' }, t(lang, 'settings-autostart-unmanaged'))]),
    h('label', { class: 'field' }, t(lang, 'settings-update-url'), updateUrl),
    h('label', { class: 'field' }, t(lang, 'settings-proxy'), proxy),
    h('label', { class: 'field' }, t(lang, 'settings-shortcut'), shortcut),
    shortcutProblem,
    saveButton,
    h('section', { id: 'diagnose-section' }, h('h3', {}, t(lang, 'doctor-title')), diagnoseButton, ' ', reportButton, saved, report),
  );
  lock(el, st, lang);
  renderShortcutProblem(el, st, lang);
}

/** What the desktop said of the keyboard shortcut, drawn again when it says it (after a save, the
 * shell registers the shortcut and reports), without touching the rest of an open form. */
export function renderShortcutProblem(root: HTMLElement, st: Settings, lang: Lang): void {
  const slot = root.querySelector('#shortcut-problem-slot');
  if (!slot) return;
  slot.replaceChildren(...(st.shortcut_problem
    ? [h('p', { class: 'note problem', id: 'shortcut-problem', role: 'alert' },
      t(lang, `settings-shortcut-${st.shortcut_problem.kind}`, { shortcut: st.shortcut_problem.shortcut }))]
    : []));
}

/** The controls of each setting a policy can fix (how to sign in is not a control: the way IT did not
 * choose is left out). */
const LOCKABLE: Partial<Record<Settings['locked'][number], string>> = {
  server_url: '#server-url',
  source: 'input[name="source"]',
  lang: '#lang',
  autostart: '#autostart',
  update_url: '#update-url',
  // The categories, not chat messages (mute_chat, which no policy fixes).
  muted: 'input[data-mute]:not([data-mute="chat"])',
  // Sound on or off; which categories are silent stays the agent's.
  sound: '#sound-on',
  proxy: '#proxy',
};

/** What IT's policy fixes (ORG-3): its controls disabled, and a note saying who set it. */
function lock(el: HTMLElement, st: Settings, lang: Lang): void {
  for (const name of st.locked) {
    const selector = LOCKABLE[name];
    if (!selector) continue;
    const controls = [...el.querySelectorAll<HTMLInputElement | HTMLSelectElement>(selector)];
    for (const c of controls) c.disabled = true;
    // A group of controls (the sources, the categories, sound) is noted once, on its fieldset.
    const place = controls[0]?.closest(controls.length > 1 ? 'fieldset' : 'fieldset, label');
    place?.append(h('small', { class: 'locked', 'data-locked': name }, t(lang, 'settings-locked')));
  }
}

