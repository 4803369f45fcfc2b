// The web mock runs the behaviour contract the real runtime runs (tests/contract/backend.json, run
// in Rust by crates/desktop/tests/contract.rs): browser tests of the mock then prove something
// about the product.

import { describe, expect, it } from 'vitest';
import contract from '../../tests/contract/backend.json';
import type { Cursor, Item, Scope } from '../src/backend';
import { MockBackend } from '../src/mock-backend';

interface Step {
  do: string;
  scope?: Scope;
  unread_only?: boolean;
  limit?: number;
  after?: 'previous';
  id?: string;
  expect?: Record<string, unknown>;
}

/** `want` holds for `have`: every field `want` names has the same value (objects field by field). */
function holds(want: unknown, have: unknown): boolean {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    if (!have || typeof have !== 'object') return false;
    return Object.entries(want).every(([k, v]) => holds(v, (have as Record<string, unknown>)[k]));
  }
  return JSON.stringify(want) === JSON.stringify(have);
}

describe('the web mock follows the backend contract', () => {
  for (const c of contract.cases) {
    it(c.name, async () => {
      const quarantined = contract.quarantined.map((q) => ({ received_at: '2026-01-20T12:00:00Z', reason: q.error }));
      const mock = new MockBackend(structuredClone(contract.seed) as unknown as Item[], quarantined);
      let previous: Cursor | null = null;
      let undo: string | null = null;
      for (const [i, step] of (c.steps as Step[]).entries()) {
        let have: Record<string, unknown>;
        try {
          switch (step.do) {
            case 'page': {
              const after = step.after === 'previous' ? previous : null;
              const p = await mock.page(step.scope as Scope, step.unread_only ?? false, after, step.limit ?? 50);
              previous = p.next;
              have = { ids: p.items.map((n) => n.id), more: p.next !== null, read: p.items.map((n) => n.read_at !== null) };
              break;
            }
            case 'counts':
              have = { ...(await mock.counts()) };
              break;
            case 'mark_read':
              await mock.markRead(step.id as string);
              have = {};
              break;
            case 'open':
              await mock.open(step.id as string);
              have = {};
              break;
            case 'mark_all_read': {
              const r = await mock.markAllRead(step.scope as Scope);
              undo = r.undo;
              have = { changed: r.changed, undoable: r.undo !== null };
              break;
            }
            case 'undo':
              have = { undone: await mock.undo(undo ?? '') };
              break;
            case 'quarantine': {
              const q = await mock.quarantine();
              have = { count: q.count, reasons: q.latest.map((l) => l.reason) };
              break;
            }
            default:
              throw new Error(`unknown step ${step.do}`);
          }
        } catch (e) {
          have = { error: (e as { kind?: string }).kind ?? String(e) };
        }
        have.opened = [...mock.opened];
        const at = `${c.name}, step ${i} ${JSON.stringify(step)}: got ${JSON.stringify(have)}`;
        if (step.expect) expect(holds(step.expect, have), at).toBe(true);
        else expect(have.error, at).toBeUndefined();
      }
    });
  }
});
