import './style.css';
import { BellWindow } from './app';
import type { Backend } from './backend';
import { MockBackend, seed } from './mock-backend';
import { TauriBackend } from './tauri-backend';

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
    /** The web mock, for browser tests. */
    lonceng?: MockBackend;
  }
}

function backend(): Backend {
  if (window.__TAURI_INTERNALS__) return new TauriBackend();
  // The web mock: ?items=N for a large list.
  const n = Number(new URLSearchParams(location.search).get('items') ?? 60);
  const mock = new MockBackend(seed(Number.isFinite(n) ? n : 60, new Date()));
  window.lonceng = mock;
  return mock;
}

const root = document.getElementById('app');
if (root) void new BellWindow(root, backend()).start();
