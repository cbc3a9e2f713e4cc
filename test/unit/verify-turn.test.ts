// oneAtATime: the probes' HTTP checks run one after another, in call order, and a failed one
// does not stop the next (verifyCluster and the verify role share it).
import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { oneAtATime } from '../../src/verify/http-check.js';

test('oneAtATime: never two at once, in call order, a rejection passes to its caller only', async () => {
  const inTurn = oneAtATime();
  let running = 0;
  let most = 0;
  const order: string[] = [];
  const job = (name: string, ms: number, fail = false) => async () => {
    running++;
    most = Math.max(most, running);
    order.push(`start ${name}`);
    await sleep(ms);
    order.push(`end ${name}`);
    running--;
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
  const results = await Promise.allSettled([inTurn(job('a', 30)), inTurn(job('b', 5, true)), inTurn(job('c', 10))]);
  assert.equal(most, 1);
  assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[2] as PromiseFulfilledResult<string>).value, 'c');
});
