// The Backend over Tauri IPC: every command is sent by its name (generated/contract.ts, made from
// the one command list in Rust); the shell answers each with one call into lonceng-desktop. Store
// changes, status and settings arrive as events, batched by the shell.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Backend, BackendEvent, FirstPaint } from './backend';
import { BACKEND_EVENTS } from './backend';
import { withFirstPaint } from './first-paint';
import { invokeCommands } from './generated/contract';

declare global {
  interface Window {
    /** Set by the shell before the page's script runs (`FirstPaint` in Rust). */
    __LONCENG_FIRST__?: FirstPaint;
  }
}

export function tauriBackend(): Backend {
  return {
    ...withFirstPaint(invokeCommands((command, args) => invoke(command, args)), window.__LONCENG_FIRST__),
    subscribe(listener: (e: BackendEvent) => void): () => void {
      const stops = BACKEND_EVENTS.map((name) => listen(`lonceng://${name}`, () => listener(name)));
      return () => stops.forEach((p) => void p.then((stop) => stop()));
    },
  };
}
