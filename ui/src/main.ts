import './style.css';
import { BellWindow } from './app';
import type { Backend } from './backend';
import type { MockBackend } from './mock-backend';
import { tauriBackend } from './tauri-backend';

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
    /** The web mock, for browser tests. */
    lonceng?: MockBackend;
  }
}

async function backend(): Promise<Backend> {
  if (window.__TAURI_INTERNALS__) return tauriBackend();
  // The web mock, in its own chunk so that the app does not load it: ?items=N for a large list.
  const { MockBackend, seed } = await import('./mock-backend');
  const n = Number(new URLSearchParams(location.search).get('items') ?? 60);
  const mock = new MockBackend(seed(Number.isFinite(n) ? n : 60, new Date()));
  window.lonceng = mock;
  return mock;
}

const root = document.getElementById('app');
if (root) void backend().then((b) => new BellWindow(root, b).start());
