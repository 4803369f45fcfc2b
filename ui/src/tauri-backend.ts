// The Backend over Tauri IPC: each method is one command of src-tauri, which calls lonceng-desktop.
// Store changes, status and settings arrive as events, batched by the shell.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type {
  Backend, BackendEvent, Counts, Cursor, DoctorReport, MarkAllResult, Page, Quarantine, Quiet, Reason, Scope, SearchResult, Settings,
  SettingsChanges, SnoozedItem, SnoozeTimes, Status, Tab, UpdateOffer,
} from './backend';
import { BACKEND_EVENTS } from './backend';

export class TauriBackend implements Backend {
  page(scope: Scope, unreadOnly: boolean, after: Cursor | null, limit: number): Promise<Page> {
    return invoke('page', { scope, unreadOnly, after, limit });
  }
  counts(): Promise<Counts> {
    return invoke('counts');
  }
  status(): Promise<Status> {
    return invoke('status');
  }
  markRead(id: string): Promise<void> {
    return invoke('mark_read', { id });
  }
  open(id: string): Promise<void> {
    return invoke('open_item', { id });
  }
  markAllRead(scope: Scope): Promise<MarkAllResult> {
    return invoke('mark_all_read', { scope });
  }
  undo(token: string): Promise<boolean> {
    return invoke('undo', { token });
  }
  snooze(id: string, until: string): Promise<boolean> {
    return invoke('snooze', { id, until });
  }
  unsnooze(id: string): Promise<boolean> {
    return invoke('unsnooze', { id });
  }
  snoozed(): Promise<SnoozedItem[]> {
    return invoke('snoozed');
  }
  snoozeTimes(): Promise<SnoozeTimes> {
    return invoke('snooze_times');
  }
  search(text: string, scope: Scope | null, unreadOnly: boolean): Promise<SearchResult> {
    return invoke('search', { text, scope, unreadOnly });
  }
  gaps(): Promise<Tab[]> {
    return invoke('gaps');
  }
  dismissGap(tab: Tab): Promise<void> {
    return invoke('dismiss_gap', { tab });
  }
  quiet(): Promise<Quiet | null> {
    return invoke('quiet');
  }
  resume(): Promise<void> {
    return invoke('resume');
  }
  why(id: string): Promise<Reason | null> {
    return invoke('why', { id });
  }
  quarantine(): Promise<Quarantine> {
    return invoke('quarantine');
  }
  settings(): Promise<Settings> {
    return invoke('settings');
  }
  saveSettings(changes: SettingsChanges): Promise<Settings> {
    return invoke('save_settings', { changes });
  }
  diagnose(): Promise<DoctorReport> {
    return invoke('diagnose');
  }
  updateOffer(): Promise<UpdateOffer | null> {
    return invoke('update_offer');
  }
  installUpdate(): Promise<void> {
    return invoke('install_update');
  }
  painted(firstLoad: boolean): void {
    // On the first load, the time since the page began to load: the rest of the click-to-paint
    // time is WebKit starting.
    void invoke('painted', { pageMs: firstLoad ? Math.round(performance.now()) : null });
  }
  setPinned(on: boolean): Promise<void> {
    return invoke('set_pinned', { on });
  }
  subscribe(listener: (e: BackendEvent) => void): () => void {
    const stops = BACKEND_EVENTS.map((name) =>
      listen(`lonceng://${name}`, () => listener(name)),
    );
    return () => stops.forEach((p) => void p.then((stop) => stop()));
  }
}
