// The README's main job: `pnpm demo --once` walks the whole product (control plane, virt-handler, a
// launcher booting the guest, virt-api's calls) and tears it down again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { poll } from './bed/poll.ts';

test('pnpm demo --once: VMI Running, guest info, pause/unpause, uname -a on the console, clean teardown', {
  timeout: 300_000,
}, async () => {
  const demo = spawn(process.execPath, [path.join(import.meta.dirname, 'demo', 'demo.ts'), '--once'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(demo, 'exit')) as [number | null];
  assert.equal(code, 0, out);
  for (const line of [
    /VMI \S+ is Running/,
    /GET guestosinfo → 200/,
    /GET userlist → 200/,
    /GET filesystemlist → 200/,
    /PUT pause → 202/,
    /condition Paused/,
    /PUT unpause → 202/,
    /torn down/,
  ]) {
    assert.match(out, line);
  }
  // the guest's own answer to uname -a, from the console websocket
  assert.match(out, /Linux \S+ \d+\.\d+\.\d+\S* .*x86_64/);
  // every stage line carries its timing
  assert.ok(out.split('\n').filter((l) => /^\[\s*\d+\.\d s\] .*\(\+\d+ ms\)$/.test(l)).length >= 10, out);
});

/** Processes whose command line names the demo's VMI: the launcher (`--name`) and QEMU (`guest=<ns>_<name>`). */
function processesNaming(name: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(name) && !cmdline.includes('demo.ts')) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test('pnpm demo, then Ctrl-C: the terminal signals the whole process group; teardown is clean and exits 0', {
  timeout: 300_000,
}, async () => {
  const name = `ctrlc-${randomBytes(3).toString('hex')}`;
  // detached: the demo leads its own process group, as a shell's foreground job does, so the SIGINT
  // below reaches every process of that group the way a terminal's Ctrl-C does.
  // Through pnpm, as the README runs it: pnpm sits between the terminal and the demo.
  const demo = spawn('pnpm', ['demo', '--name', name], {
    cwd: path.join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await poll(
    'the demo waiting for Ctrl-C',
    async () => (out.includes('Ctrl-C here tears everything down') ? true : undefined),
    240_000,
    () => out,
  );
  assert.ok(processesNaming(name).length > 0, `the launcher and QEMU of ${name} should be running:\n${out}`);
  const pid = demo.pid;
  assert.ok(pid !== undefined);
  process.kill(-pid, 'SIGINT');
  const [code, signal] = await exited;
  assert.equal(signal, null, out);
  assert.equal(code, 0, out);
  assert.match(out, /torn down/);
  assert.doesNotMatch(out, /ELIFECYCLE|Command failed/);
  assert.deepEqual(processesNaming(name), [], 'nothing of the demo is left running');
});
