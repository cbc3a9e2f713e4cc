// `provision <inventory>` checks the HA topology before the first connection: an inventory
// with errors (the how-to's own priority tie) stops with exit 4 and nothing is contacted.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { EXIT } from '../../src/errors.js';

test('a run refuses an HA topology with errors before connecting (exit 4)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'provision-preflight-'));
  let connections = 0;
  const srv = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  try {
    // The how-to's explicit instances, every host pointed at a local listener that counts connections.
    const inv = join(dir, 'howto.yaml');
    const text = readFileSync('test/fixtures/topology/howto-explicit.yaml', 'utf8').replace(/^(\s+)addresses:/gm, `$1ansible_host: 127.0.0.1\n$1ansible_port: ${port}\n$1addresses:`);
    writeFileSync(inv, text);
    cpSync('playbooks', join(dir, 'playbooks'), { recursive: true });
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([inv, 'playbooks/site.yaml'], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false });
    assert.equal(code, EXIT.CHECK_FAILED, err.join('\n'));
    const msg = err.join('\n');
    assert.match(msg, /ERROR \[priority-tie\]/);
    assert.match(msg, /nothing was run/);
    assert.doesNotMatch(msg, /\n\s+at /);
    assert.equal(connections, 0);
  } finally {
    srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
