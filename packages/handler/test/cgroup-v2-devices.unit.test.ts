// The launcher pod's device allowlist on a cgroup v2 node (KubeVirt's v2Manager + virt-chroot
// set-cgroups-resources): a cgroup2 hierarchy of the test's own, a "launcher" process in it behind a
// container runtime's device program, and the kernel deciding what a process there may open.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  cgroupVersion,
  defaultDeviceRules,
  formatRule,
  LauncherDeviceCgroup,
  unifiedCgroupPath,
  v2Targets,
  vmiDeviceRules,
} from '../src/cgroup/devices.ts';
import { devNumbers } from '../src/hotplug-disk/mounter.ts';
import { nativeProgram } from '../../../test/bed/native.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'kvts-cgv2-'));
const hierarchy = path.join(work, 'cgroup');
const FILTER = nativeProgram('cgroup-device-filter');

const vmiWith = (uid: string, devices: object = {}, volumes: object[] = []): VirtualMachineInstance =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid },
    spec: { domain: { devices }, volumes },
    status: { phase: 'Running' },
  });

describe('cgroup v2 device rules: the parts', () => {
  test('the unified path of /proc/<pid>/cgroup, a housekeeping sub-cgroup as its parent; crun’s layout has two targets', () => {
    assert.equal(unifiedCgroupPath('0::/kubepods.slice/pod1/cri-x.scope\n'), '/kubepods.slice/pod1/cri-x.scope');
    assert.equal(unifiedCgroupPath('0::/kubepods/pod1/c1/housekeeping\n'), '/kubepods/pod1/c1');
    assert.equal(unifiedCgroupPath('5:devices:/kubepods/x\n'), undefined);
    assert.deepEqual(v2Targets('/sys/fs/cgroup', '/k/crun-x.scope/container'), [
      '/sys/fs/cgroup/k/crun-x.scope/container',
      '/sys/fs/cgroup/k/crun-x.scope',
    ]);
    assert.deepEqual(v2Targets('/sys/fs/cgroup', '/k/cri-x.scope'), ['/sys/fs/cgroup/k/cri-x.scope']);
  });

  test('KubeVirt’s default rules: ptmx, null, tun, vhost-net and the 16 pty majors', () => {
    const rules = defaultDeviceRules('rwm').map(formatRule);
    assert.deepEqual(rules.slice(0, 4), ['c 5:2 rwm', 'c 1:3 rwm', 'c 10:200 rwm', 'c 10:238 rwm']);
    assert.deepEqual(
      rules.slice(4),
      Array.from({ length: 16 }, (_, i) => `c ${136 + i}:* rwm`),
    );
  });

  test('the VMI’s devices, found in the launcher’s /dev: block volumes, rng, vsock, kvm, vfio, usb', () => {
    const root = path.join(work, 'mount-root');
    const mknod = (file: string, type: 'b' | 'c', major: number, minor: number) => {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      execFileSync('mknod', [path.join(root, file), type, String(major), String(minor)]);
    };
    mknod('/dev/disk0', 'b', 7, 200);
    mknod('/dev/eph', 'b', 7, 201);
    mknod('/dev/hp', 'b', 7, 202);
    mknod('/dev/urandom', 'c', 1, 9);
    mknod('/dev/kvm', 'c', 10, 232);
    mknod('/dev/vfio/vfio', 'c', 10, 196);
    mknod('/dev/bus/usb/001/001', 'c', 189, 0);
    writeFileSync(path.join(root, '/dev/vfio/not-a-device'), '');
    const volumes = [
      { name: 'disk0', persistentVolumeClaim: { claimName: 'c0' } },
      { name: 'eph', ephemeral: { persistentVolumeClaim: { claimName: 'c1' } } },
      { name: 'hp', persistentVolumeClaim: { claimName: 'c2', hotpluggable: true } },
      { name: 'fsclaim', persistentVolumeClaim: { claimName: 'c3' } }, // a filesystem claim: no /dev node
      { name: 'cd', containerDisk: { image: 'x' } },
    ];
    const rules = (vmi: VirtualMachineInstance | undefined, allowEmulation = false) =>
      vmiDeviceRules(vmi, root, allowEmulation).map(formatRule).sort();
    assert.deepEqual(rules(vmiWith('u', { rng: {} }, volumes)), [
      'b 7:200 rwm',
      'b 7:201 rwm',
      'c 10:196 rwm',
      'c 10:232 rwm',
      'c 189:0 rwm',
      'c 1:9 rwm',
    ]);
    assert.deepEqual(rules(undefined), ['c 10:196 rwm', 'c 10:232 rwm', 'c 189:0 rwm']);
    rmSync(path.join(root, 'dev/kvm'));
    assert.throws(() => rules(vmiWith('u')), /failed to resolve path for \/dev\/kvm/);
    assert.deepEqual(rules(vmiWith('u'), true), ['c 10:196 rwm', 'c 189:0 rwm']);
    assert.throws(() => rules(vmiWith('u', { autoattachVSOCK: true }), true), /\/dev\/vhost-vsock/);
  });

  test('the helper refuses a malformed rule and a missing cgroup, saying so', () => {
    const bad = spawnSync(FILTER, [work, 'b 7:x rwm'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid rule b 7:x rwm/);
    const missing = spawnSync(FILTER, [path.join(work, 'none')], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /none: No such file or directory/);
  });
});

describe('cgroup v2 device rules: a launcher in a cgroup2 group, the kernel enforcing them', () => {
  const loops: string[] = [];
  const processes: ChildProcess[] = [];
  const groups: string[] = [];
  let logs = '';
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logs += chunk.toString();
        done();
      },
    }),
  );

  before(() => {
    mkdirSync(hierarchy);
    execFileSync('mount', ['-t', 'cgroup2', 'none', hierarchy]);
    for (let i = 0; i < 2; i++) {
      const image = path.join(work, `disk${i}.img`);
      writeFileSync(image, Buffer.alloc(1 << 20, i + 1));
      loops.push(execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim());
    }
  });
  after(() => {
    for (const p of processes) p.kill('SIGKILL');
    for (const loop of loops) spawnSync('losetup', ['--detach', loop]);
    // a group goes once its processes have: retried until the killed ones are reaped
    const deadline = Date.now() + 10_000;
    for (const g of groups.sort((a, b) => b.length - a.length)) {
      while (existsSync(g)) {
        try {
          rmdirSync(g);
        } catch (err) {
          if (Date.now() > deadline) throw err;
          spawnSync('sleep', ['0.05']);
        }
      }
    }
    if (existsSync(hierarchy)) execFileSync('umount', [hierarchy]);
    rmSync(work, { recursive: true, force: true });
  });

  const group = (name: string) => {
    const dir = path.join(hierarchy, name);
    mkdirSync(dir, { recursive: true });
    for (let d = dir; d !== hierarchy; d = path.dirname(d)) if (!groups.includes(d)) groups.push(d);
    return dir;
  };
  /** A process that moves itself into `dir`, then lives on (the launcher). */
  const launcherIn = async (dir: string) => {
    const child = spawn('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && echo in && exec sleep 600`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    processes.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the launcher stand-in exited ${code}`)));
    });
    return child.pid as number;
  };
  /** Whether a process in `dir` may open `file` for reading: '' when it may, else the error. */
  const opens = (dir: string, file: string) => {
    const r = spawnSync('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec head -c1 ${file} >/dev/null`], { encoding: 'utf8' });
    return r.status === 0 ? '' : r.stderr.trim();
  };
  const DENIED = /Operation not permitted/;
  /** The container runtime's own list (runc's defaults, roughly): null, zero, urandom, tty, ptmx, pts. */
  const runtimeProgram = (dir: string) =>
    execFileSync(FILTER, [dir, 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm'], { encoding: 'utf8' });

  const manager = (pids: Record<string, number>, o: { filter?: string } = {}) =>
    new LauncherDeviceCgroup({
      logger,
      cgroupRoot: hierarchy,
      allowEmulation: () => true,
      deviceFilterProgram: o.filter ?? FILTER,
      launcherPid: (uid) => {
        const pid = pids[uid];
        if (pid === undefined) throw new Error(`no launcher for ${uid}`);
        return pid;
      },
    });
  const numbers = (device: string) => devNumbers(statSync(device).rdev);

  test('the test’s hierarchy is cgroup v2; the node’s cgroup root decides the version', () => {
    assert.equal(cgroupVersion(hierarchy), 'v2');
    assert.equal(cgroupVersion(work), 'v1');
  });

  test('allow: the hotplugged device opens, the runtime’s list is replaced by KubeVirt’s; deny takes it away again', async () => {
    const pod = group('kubepods/pod-a/cri-a.scope');
    const pid = await launcherIn(pod);
    assert.equal(runtimeProgram(pod).trim(), '1');
    const [loop0, loop1] = loops as [string, string];
    assert.match(opens(pod, loop0), DENIED, 'the runtime’s program denies the volume before the handler allows it');
    assert.equal(opens(pod, '/dev/zero'), '');

    const m = manager({ a: pid });
    const vmi = vmiWith('a', { rng: {} });
    const n0 = numbers(loop0);
    await m.allow(vmi, n0.major, n0.minor);
    assert.equal(opens(pod, loop0), '');
    assert.equal(opens(pod, '/dev/urandom'), '', 'the VMI has an RNG: /dev/urandom stays');
    assert.equal(opens(pod, '/dev/null'), '');
    assert.match(opens(pod, '/dev/zero'), DENIED, 'KubeVirt’s list replaced the runtime’s: /dev/zero is not in it');
    assert.match(logs, /cgroup v2 device rule is set successfully\. rule: b \d+:\d+ rwm/);
    assert.doesNotMatch(logs, /device programs on/, 'exactly one program is left on the group');

    // a second volume: the first one's rule is kept
    const n1 = numbers(loop1);
    await m.allow(vmi, n1.major, n1.minor);
    assert.equal(opens(pod, loop0), '');
    assert.equal(opens(pod, loop1), '');

    await m.deny('a', n0.major, n0.minor);
    assert.match(opens(pod, loop0), DENIED);
    assert.equal(opens(pod, loop1), '', 'the other volume stays allowed');
    assert.equal(opens(pod, '/dev/urandom'), '', 'a deny by UID keeps the VMI’s own devices');
    assert.doesNotMatch(logs, /device programs on/);
    process.kill(pid, 'SIGKILL');
  });

  test('crun’s layout (<pod>.scope/container): the parent group gets the same list', async () => {
    const container = group('kubepods/pod-b/crun-b.scope/container');
    const parent = path.dirname(container);
    const pid = await launcherIn(container);
    runtimeProgram(container);
    runtimeProgram(parent);
    const [loop0] = loops as [string];
    const n0 = numbers(loop0);
    await manager({ b: pid }).allow(vmiWith('b'), n0.major, n0.minor);
    assert.equal(opens(container, loop0), '');
    assert.equal(opens(parent, loop0), '');
    process.kill(pid, 'SIGKILL');
  });

  test('a launcher that is gone: a deny is nothing to do, an allow fails; a failing loader is an error that names it', async () => {
    const m = manager({});
    await m.deny('gone', 7, 0);
    await assert.rejects(m.allow(vmiWith('gone'), 7, 0), /no launcher for gone/);
    const pod = group('kubepods/pod-c/cri-c.scope');
    const pid = await launcherIn(pod);
    await assert.rejects(
      manager({ c: pid }, { filter: path.join(work, 'no-such-loader') }).allow(vmiWith('c'), 7, 0),
      /failed to apply device rule b 7:0 rwm: .*ENOENT/,
    );
    assert.match(logs, /cgroup v2 had failed to set device rule\. rule: b 7:0 rwm/);
    process.kill(pid, 'SIGKILL');
  });
});
