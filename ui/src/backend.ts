// The bell window reaches the rest of Lonceng only through this interface. The desktop app
// implements it over Tauri IPC (tauri-backend.ts); the web mock (mock-backend.ts) implements it in
// memory, so the window runs and is tested in a plain browser. Both follow one behaviour contract
// (tests/contract/backend.json), which the real runtime runs too.
//
// The commands, their data types, the tabs, the categories and the kind → message map are
// generated from Rust (generated/contract.ts, from the one command list of
// crates/desktop/src/commands.rs): nothing here restates them.

import type { BackendEvent, Commands } from './generated/contract';

export type * from './generated/contract';
export { BACKEND_EVENTS, CATEGORIES, COMMAND_PARAMS, KIND_MESSAGES, TABS, UNDO_WINDOW_MS } from './generated/contract';

/** What a command rejects with: the one IPC error of the runtime (`AppError`). */
export function errorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** The commands (generated from the one Rust list), and the events the window is sent. */
export interface Backend extends Commands {
  subscribe(listener: (e: BackendEvent) => void): () => void;
}
