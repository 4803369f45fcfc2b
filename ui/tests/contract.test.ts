// The web mock runs the behaviour contract the real runtime runs (tests/contract/backend.json, run
// in Rust by crates/desktop/tests/desktop/contract.rs): every command of the one list, called by its
// name with its arguments as the window sends them. Browser tests of the mock then prove something
// about the product.

import { describe, expect, it } from 'vitest';
import contract from '../../tests/contract/backend.json';
import type { Commands, Item } from '../src/backend';
import { COMMAND_PARAMS } from '../src/backend';
import { MockBackend } from '../src/mock-backend';

interface Step {
  do: string;
  args?: Record<string, unknown>;
  expect?: unknown;
  error?: string;
  opened?: string[];
  save?: string;
}

/** `want` holds for `have`: objects field by field, arrays element by element, "$some" for anything
 * but null. */
function holds(want: unknown, have: unknown): boolean {
  if (want === '$some') return have !== null && have !== undefined;
  if (Array.isArray(want)) {
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => holds(w, have[i]));
  }
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object') return false;
    return Object.entries(want).every(([k, v]) => holds(v, (have as Record<string, unknown>)[k]));
  }
  return JSON.stringify(want) === JSON.stringify(have ?? null);
}

/** `unread_only` → `unreadOnly`, as the window names commands and arguments. */
const camel = (s: string) => s.replace(/_(.)/g, (_, c: string) => c.toUpperCase());

/** An argument as a case writes it: "$name.field" reads what a step saved as `name`. */
function resolve(arg: unknown, saved: Map<string, unknown>): unknown {
  if (typeof arg !== 'string' || !arg.startsWith('$')) return arg;
  const [name, field] = arg.slice(1).split('.');
  if (!saved.has(name)) throw new Error(`nothing saved as '${name}'`);
  const value = saved.get(name) as Record<string, unknown>;
  return field ? value[field] : value;
}

const called = new Set<string>();

describe('the web mock follows the backend contract', () => {
  for (const c of contract.cases) {
    it(c.name, async () => {
      const quarantined = contract.quarantined.map((q) => ({ received_at: '2026-01-20T12:00:00Z', reason: q.error }));
      const now = () => new Date('2026-01-20T12:00:00Z');
      const mock = new MockBackend(structuredClone(contract.seed) as unknown as Item[], quarantined, now);
      const saved = new Map<string, unknown>();
      for (const [i, step] of (c.steps as Step[]).entries()) {
        const name = camel(step.do) as keyof Commands;
        const params = COMMAND_PARAMS[name];
        expect(params, `no command '${step.do}'`).toBeDefined();
        called.add(step.do);
        const args = params.map((p) => resolve(step.args?.[p] ?? null, saved));
        const at = `${c.name}, step ${i} ${JSON.stringify(step)}`;
        let have: unknown;
        let error: string | undefined;
        try {
          have = await (mock[name] as (...a: unknown[]) => Promise<unknown>)(...args);
        } catch (e) {
          error = (e as { kind?: string }).kind ?? String(e);
        }
        if (step.error !== undefined) expect(error, at).toBe(step.error);
        else expect(error, `${at}: failed`).toBeUndefined();
        if (error === undefined) {
          if ('expect' in step) expect(holds(step.expect, have), `${at}: got ${JSON.stringify(have)}`).toBe(true);
          if (step.save) saved.set(step.save, have);
        }
        if (step.opened) expect(mock.opened, at).toEqual(step.opened);
      }
    });
  }

  it('has a case for every command', () => {
    const untested = Object.keys(COMMAND_PARAMS).filter((n) => ![...called].some((d) => camel(d) === n));
    expect(untested).toEqual([]);
  });
});
