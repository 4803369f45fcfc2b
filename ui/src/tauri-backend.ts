// The Backend over Tauri IPC: every command is sent by its name (generated/contract.ts, made from
// the one command list in Rust); the shell answers each with one call into lonceng-desktop. Store
// changes, status and settings arrive as events, batched by the shell.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { Backend, BackendEvent } from './backend';
import { BACKEND_EVENTS } from './backend';
import { invokeCommands } from './generated/contract';

export function tauriBackend(): Backend {
  return {
    ...invokeCommands((command, args) => invoke(command, args)),
    subscribe(listener: (e: BackendEvent) => void): () => void {
      const stops = BACKEND_EVENTS.map((name) => listen(`lonceng://${name}`, () => listener(name)));
      return () => stops.forEach((p) => void p.then((stop) => stop()));
    },
  };
}
