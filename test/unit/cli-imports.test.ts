// src/cli has no import cycle: main.ts dispatches to the commands, and the commands take what
// they share from options.ts and session.ts, never from main.ts. Value imports count, static
// and dynamic (`import type` is erased and does not).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const DIR = path.resolve('src/cli');

/** The src/cli files each src/cli file imports values from. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of readdirSync(DIR).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(path.join(DIR, f), 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'\.\/([^']+)\.js'|import\('\.\/([^']+)\.js'\)/gm)].map((m) => `${m[1] ?? m[2]}.ts`);
    g.set(f, deps);
  }
  return g;
}

/** One cycle as a path a -> ... -> a, or undefined. */
function findCycle(g: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const walk = (f: string, trail: string[]): string[] | undefined => {
    if (state.get(f) === 'open') return [...trail.slice(trail.indexOf(f)), f];
    if (state.get(f) === 'done' || !g.has(f)) return undefined;
    state.set(f, 'open');
    for (const d of g.get(f)!) {
      const c = walk(d, [...trail, f]);
      if (c) return c;
    }
    state.set(f, 'done');
    return undefined;
  };
  for (const f of g.keys()) {
    const c = walk(f, []);
    if (c) return c;
  }
  return undefined;
}

test('src/cli has no import cycle, and no command imports main.ts', () => {
  const g = graph();
  assert.ok(g.get('main.ts')?.includes('run-command.ts'), 'the graph is read (main.ts imports the run command)');
  assert.equal(findCycle(g)?.join(' -> '), undefined);
  assert.deepEqual([...g].filter(([, deps]) => deps.includes('main.ts')).map(([f]) => f), []);
});

test('the cycle finder finds a cycle', () => {
  const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']]]);
  assert.deepEqual(findCycle(g), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
});
