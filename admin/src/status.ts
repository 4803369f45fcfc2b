// One live region says what an action did (screen readers read it out).
import { t } from './i18n';

export function say(text: string, problem = false): void {
  const el = document.getElementById('status');
  if (!el) return;
  el.textContent = text;
  el.className = problem ? 'problem' : 'ok';
}

/** Runs an action, saying that it works and how it ended; false when it failed. */
export async function act(f: () => Promise<unknown>, done: string = t.done): Promise<boolean> {
  say(t.working);
  try {
    await f();
    say(done);
    return true;
  } catch (err) {
    say(`${t.failed} ${(err as Error).message}`, true);
    return false;
  }
}
