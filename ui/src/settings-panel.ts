// The settings panel of the bell window: language, toasts per category and for chat messages, the
// server and sign-in token (never shown back), the chat window's title patterns, start at login.

import { CATEGORIES, TABS, type Backend, type Category, type Lang, type Settings, type SettingsChanges, type Tab } from './backend';
import { h } from './dom';
import { t } from './i18n';

function tabOf(c: Category): Tab {
  return TABS.find((tab) => CATEGORIES[tab].includes(c)) ?? 'general';
}

export interface PanelEvents {
  /** The save button stored these settings. */
  saved(settings: Settings): void;
  /** A change was refused (an address that is not http(s), say). */
  failed(error: unknown): void;
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
  const server = h('input', { id: 'server-url', type: 'url', value: st.server_url, placeholder: 'https://', disabled: st.demo });
  const token = h('input', { id: 'token', type: 'password', placeholder: st.has_token ? '••••••••' : '', autocomplete: 'off', disabled: st.demo });
  const patterns = h('input', { id: 'patterns', value: st.chat_window_patterns.join(', ') });
  const autostart = h('input', { type: 'checkbox', id: 'autostart', checked: st.autostart });
  const saveButton = h('button', { id: 'save-settings', class: 'primary' }, t(lang, 'settings-save'));
  saveButton.addEventListener('click', () => {
    const changes: SettingsChanges = {
      chat_window_patterns: patterns.value.split(',').map((p) => p.trim()).filter(Boolean),
      autostart: autostart.checked,
    };
    if (!st.demo) changes.server_url = server.value.trim();
    if (token.value) changes.token = token.value;
    token.value = '';
    void save(changes).then(on.saved, () => {});
  });
  const tokenNote = t(lang, st.has_token ? (st.token_store === 'file' ? 'settings-token-file' : 'settings-token-keyring') : 'settings-token-none');
  const demoNote = st.demo ? [h('p', { class: 'note' }, t(lang, 'settings-demo'))] : [];
  el.replaceChildren(
    h('h2', {}, t(lang, 'tray-settings')),
    ...demoNote,
    h('label', { class: 'field' }, t(lang, 'tray-language'), langSelect),
    h('fieldset', {}, h('legend', {}, t(lang, 'settings-toasts')), h('label', { class: 'toggle' }, chatBox, t(lang, 'settings-chat-messages')), ...mutes),
    h('label', { class: 'field' }, t(lang, 'settings-server'), server),
    h('label', { class: 'field' }, t(lang, 'settings-token'), token, h('small', {}, tokenNote)),
    h('label', { class: 'field' }, t(lang, 'settings-chat-window'), patterns),
    h('label', { class: 'toggle' }, autostart, t(lang, 'tray-autostart')),
    saveButton,
  );
}
