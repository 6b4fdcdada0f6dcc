// virt-tail (packages/launcher/native): the guest-console-log container, as KubeVirt's cmd/virt-tail
// (nxadm/tail with Follow, ReOpen, CompleteLines, from the start of the file). Real processes and files.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonLines, nativeProgram, rssKiB } from '../../../test/bed/native.ts';
import { poll } from '../../../test/bed/poll.ts';

const work = mkdtempSync(path.join(tmpdir(), 'kvts-tail-'));
const started: ChildProcess[] = [];
after(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

function tail(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(nativeProgram('virt-tail'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const shows = (what: string) =>
    poll(
      `virt-tail prints ${JSON.stringify(what)}`,
      async () => (stdout.endsWith(what) ? true : undefined),
      10_000,
      () => `stdout: ${stdout}\nstderr: ${stderr}`,
    );
  return { child, stdout: () => stdout, stderr: () => stderr, exited, shows };
}

describe('virt-tail', () => {
  test('waits for the file and its directory, prints complete lines from the start, follows appends', async () => {
    // the serial log's directory (/var/run/kubevirt-private/<uid>) appears only when the launcher makes it
    const dir = path.join(work, 'private', 'vmi-uid');
    const log = path.join(dir, 'virt-serial0-log');
    const t = tail(['--logfile', log]);
    await sleep(300);
    mkdirSync(dir, { recursive: true });
    writeFileSync(log, 'SeaBIOS (version 1.16)\r\nBooting from ROM...\r\n');
    await t.shows('SeaBIOS (version 1.16)\r\nBooting from ROM...\r\n');
    console.log(`# virt-tail RSS: ${rssKiB(t.child.pid as number)} KiB`);
    appendFileSync(log, 'testguest login: ');
    await sleep(300);
    assert.equal(t.stdout(), 'SeaBIOS (version 1.16)\r\nBooting from ROM...\r\n', 'a half line waits for its end');
    appendFileSync(log, 'root\n~ # ');
    await t.shows('testguest login: root\n');
    t.child.kill('SIGTERM');
    assert.equal(await t.exited, 0);
  });

  test('a truncated file is read again from its start', async () => {
    const log = path.join(work, 'truncated-log');
    writeFileSync(log, 'one\ntwo\n');
    const t = tail([`--logfile=${log}`]);
    await t.shows('one\ntwo\n');
    truncateSync(log, 0);
    await sleep(100);
    appendFileSync(log, 'three\n');
    await t.shows('one\ntwo\nthree\n');
    t.child.kill('SIGINT');
    assert.equal(await t.exited, 0);
  });

  test('a replaced file (moved away, then created anew) is followed by name', async () => {
    const log = path.join(work, 'rotated-log');
    writeFileSync(log, 'old\n');
    const t = tail(['--logfile', log]);
    await t.shows('old\n');
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, 'last of old\n');
    writeFileSync(log, 'new\n');
    await t.shows('new\n');
    assert.match(t.stdout(), /^old\n(last of old\n)?new\n$/);
    appendFileSync(log, 'more\n');
    await t.shows('new\nmore\n');
    t.child.kill('SIGTERM');
    assert.equal(await t.exited, 0);
  });

  test('no --logfile → exit 1 (logged at V(3))', async () => {
    const quiet = tail([]);
    assert.equal(await quiet.exited, 1);
    assert.equal(quiet.stderr(), '');
    const verbose = tail([], { VIRT_LAUNCHER_LOG_VERBOSITY: '3' });
    assert.equal(await verbose.exited, 1);
    const lines = jsonLines(verbose.stderr());
    assert.deepEqual(
      lines.map((l) => [l['component'], l['level'], l['msg']]),
      [
        ['virt-tail', 'info', 'set log verbosity to 3'],
        ['virt-tail', 'info', 'logfile flags must be provided'],
      ],
    );
  });
});
