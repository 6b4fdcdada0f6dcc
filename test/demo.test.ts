// The README's main job: `pnpm demo --once` walks the whole product (control plane, virt-handler, a
// launcher booting the guest, virt-api's calls) and tears it down again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

test('pnpm demo --once: VMI Running, guest info, pause/unpause, uname -a on the console, clean teardown', { timeout: 300_000 }, async () => {
  const demo = spawn(process.execPath, [path.join(import.meta.dirname, 'demo', 'demo.ts'), '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(demo, 'exit')) as [number | null];
  assert.equal(code, 0, out);
  for (const line of [/VMI \S+ is Running/, /GET guestosinfo → 200/, /GET userlist → 200/, /GET filesystemlist → 200/, /PUT pause → 202/, /condition Paused/, /PUT unpause → 202/, /torn down/]) {
    assert.match(out, line);
  }
  // the guest's own answer to uname -a, from the console websocket
  assert.match(out, /Linux \S+ \d+\.\d+\.\d+\S* .*x86_64/);
  // every stage line carries its timing
  assert.ok(out.split('\n').filter((l) => /^\[\s*\d+\.\d s\] .*\(\+\d+ ms\)$/.test(l)).length >= 10, out);
});
