// lateProgress (src/runner/progress.ts): the run starts while listr2 still loads; the events
// sent before the display is ready reach it in order once it is, and finish waits for it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { lateProgress, plainProgress, type Progress } from '../../src/runner/progress.js';

test('lateProgress: events before the display loaded are shown first, in order; finish waits for the display', async () => {
  const lines: string[] = [];
  let resolve!: (p: Progress) => void;
  const p = lateProgress(new Promise<Progress>((r) => (resolve = r)));
  p.onEvent({ type: 'play', play: 'one', hosts: ['a'] });
  p.onEvent({ type: 'warn', message: 'early' });
  assert.equal(lines.length, 0, 'nothing shown before the display exists');
  let finished = false;
  const fin = p.finish().then(() => (finished = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(finished, false, 'finish waits for the display');
  resolve(plainProgress((l) => lines.push(l)));
  await fin;
  p.onEvent({ type: 'warn', message: 'late' });
  const early = lines.findIndex((l) => l.includes('early'));
  assert.ok(lines.findIndex((l) => l.includes('one')) < early && early >= 0, lines.join('\n'));
  assert.ok(lines.findIndex((l) => l.includes('late')) > early, lines.join('\n'));
});
