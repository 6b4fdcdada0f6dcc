// container-disk (packages/launcher/native): the process of a containerDisk container, as KubeVirt's
// cmd/container-disk-v2alpha. Real processes; the socket is found the way virt-handler finds the
// container (socket → the process that holds it → /proc/<pid>/root).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { nativeProgram, rssKiB } from '../../../test/bed/native.ts';
import { poll } from '../../../test/bed/poll.ts';

const run = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'kvts-cdisk-'));
const started: ChildProcess[] = [];
after(() => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

function start(args: readonly string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(nativeProgram('container-disk'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: once(child, 'close').then(([code]) => code as number | null) };
}

/** The PIDs holding a listening unix socket bound at `socketPath` (what the handler learns from it). */
function holdersOf(socketPath: string): number[] {
  const inode = readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[7] === socketPath)?.[6];
  if (inode === undefined) return [];
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const connectAndWaitClose = (socketPath: string) =>
  new Promise<void>((resolve, reject) => {
    const s = net.connect(socketPath);
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });

describe('container-disk', () => {
  test('--no-op (the pre-pulling init containers) exits 0 at once', async () => {
    const p = start(['--no-op']);
    assert.equal(await p.exited, 0, p.output());
  });

  test("--copy-path P: creates P's directory and listens on P.sock; the socket leads to its process", async () => {
    // the container-disks volume is there; the directory of the copy path is made (one level, as KubeVirt's)
    mkdirSync(path.join(work, 'volume'));
    const dir = path.join(work, 'volume', 'uid-1234');
    const p = start(['--copy-path', path.join(dir, 'disk_0')]);
    const sock = path.join(dir, 'disk_0.sock');
    await poll('disk_0.sock listening', async () => (holdersOf(sock).length > 0 ? true : undefined), 10_000, p.output);
    assert.ok(statSync(sock).isSocket());
    assert.deepEqual(holdersOf(sock), [p.child.pid]);
    console.log(`# container-disk RSS: ${rssKiB(p.child.pid as number)} KiB`);
    // connections are accepted and closed, the queue drained: more than its backlog of 50, in two rounds
    for (let round = 0; round < 2; round++) await Promise.all(Array.from({ length: 40 }, () => connectAndWaitClose(sock)));
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
    assert.equal(existsSync(sock), false, 'SIGTERM removes the socket');
  });

  test('the socket removed (the monitor cleans container-disks as the launcher ends) → exits 0', async () => {
    const p = start([`--copy-path=${path.join(work, 'kernel-boot')}`]);
    const sock = path.join(work, 'kernel-boot.sock');
    await poll('kernel-boot.sock', async () => (existsSync(sock) ? true : undefined), 10_000, p.output);
    unlinkSync(sock);
    assert.equal(await p.exited, 0, p.output());
    assert.match(p.output(), /error: socket .*kernel-boot\.sock does not exist anymore/);
  });

  test("a copy path longer than a socket address allows → exit 1 with KubeVirt's message", async () => {
    const p = start(['--copy-path', `/${'x'.repeat(102)}`]);
    assert.equal(await p.exited, 1);
    assert.match(p.output(), /error: copy path can not be longer than 102 characters/);
  });

  test('an unknown flag → exit 1', async () => {
    const p = start(['--copy-path', path.join(work, 'd'), '--bogus']);
    assert.equal(await p.exited, 1);
  });

  test('runs in an image with nothing else in it (copied by cp --preserve=all, as the init container does)', async () => {
    const root = path.join(work, 'scratch');
    mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    mkdirSync(path.join(root, 'disk'));
    // where the pod's container-disks volume is mounted in the container
    mkdirSync(path.join(root, 'var/run/kubevirt/container-disks'), { recursive: true });
    await run('/usr/bin/cp', ['--preserve=all', nativeProgram('container-disk'), path.join(root, 'usr/bin/container-disk')]);
    copyFileSync('/dev/null', path.join(root, 'disk/disk.img'));
    const child = spawn('chroot', [root, '/usr/bin/container-disk', '--copy-path', '/var/run/kubevirt/container-disks/disk_0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const sock = path.join(root, 'var/run/kubevirt/container-disks/disk_0.sock');
    await poll(
      'socket in the scratch root',
      async () => (existsSync(sock) ? true : undefined),
      10_000,
      () => out,
    );
    child.kill('SIGTERM');
    assert.equal((await once(child, 'exit'))[0], 0, out);
    assert.equal(existsSync(sock), false);
  });
});
