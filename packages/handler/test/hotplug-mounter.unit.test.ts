// The hotplug volume mounter's decisions (KubeVirt's pkg/virt-handler/hotplug-disk mount_test): which
// volumes it mounts and from where, what it records and undoes, and a block claim's device node and
// rule. The attachment pod's process is a /proc laid out in a temp dir around a real socket; the
// node's mount namespace is a fake that records the bind mounts. The real mounts, the launcher's
// attach and the guest are proven in hotplug-volumes.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { parseMountInfo, type MountInfo } from '../src/container-disk/isolation.ts';
import type { NodeMounts } from '../src/container-disk/mounter.ts';
import { HotplugMounter, WaitingForHotplugMountError, type DeviceRules } from '../src/hotplug-disk/mounter.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kvts-hp-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const mi = (line: string) => parseMountInfo(line)[0]!;
const HOTPLUG = 'volumes/kubernetes.io~empty-dir/hotplug-disks';

/** A node with a launcher pod and an attachment pod, as the handler finds them. */
class HotplugWorld {
  readonly vmiUID = '5f1a0000-0000-4000-8000-0000000000a1';
  readonly launcherUID = 'launcher-pod';
  readonly attachUID = 'attach-pod';
  readonly dir: string;
  readonly proc: string;
  readonly pods: string;
  readonly state: string;
  /** The claim's directory on the node, as kubelet mounted it for the attachment pod. */
  readonly claimDir: string;
  readonly nodeMounts: MountInfo[] = [mi('20 1 254:0 / / rw - ext4 /dev/vda rw')];
  readonly binds: Array<[string, string, boolean | undefined]> = [];
  readonly rules: string[] = [];
  #server: net.Server | undefined;

  constructor(name: string) {
    this.dir = path.join(tmp, name);
    this.proc = path.join(this.dir, 'proc');
    this.pods = path.join(this.dir, 'pods');
    this.state = path.join(this.dir, 'state');
    mkdirSync(path.join(this.pods, this.launcherUID, HOTPLUG), { recursive: true });
    mkdirSync(path.join(this.pods, this.attachUID, HOTPLUG), { recursive: true });
    this.claimDir = path.join(this.pods, this.attachUID, 'volumes/kubernetes.io~csi/pv-hp/mount');
    mkdirSync(this.claimDir, { recursive: true });
    writeFileSync(path.join(this.claimDir, 'disk.img'), 'claim');
  }

  /** The attachment pod's container (pid 42): its root shows the emptyDir at /path, it listens on hp.sock, the claim at /hp. */
  async startAttachmentPod(): Promise<void> {
    const pid = 42;
    const d = path.join(this.proc, String(pid));
    const root = path.join(this.dir, 'attach-root');
    for (const sub of ['ns', 'net', 'fd']) mkdirSync(path.join(d, sub), { recursive: true });
    mkdirSync(root, { recursive: true });
    symlinkSync(path.join(this.pods, this.attachUID, HOTPLUG), path.join(root, 'path'));
    symlinkSync(root, path.join(d, 'root'));
    symlinkSync(`mnt:[${pid}]`, path.join(d, 'ns', 'mnt'));
    const inode = 9042;
    writeFileSync(
      path.join(d, 'net', 'unix'),
      `Num       RefCount Protocol Flags    Type St Inode Path\nffff0001: 00000002 00000000 00010000 0001 01 ${inode} /path/hp.sock\n`,
    );
    symlinkSync(`socket:[${inode}]`, path.join(d, 'fd', '3'));
    writeFileSync(
      path.join(d, 'mountinfo'),
      [
        `1 0 0:120 / / rw - overlay overlay rw`,
        `2 1 254:0 ${path.join(this.pods, this.attachUID, HOTPLUG)} /path rw - ext4 /dev/vda rw`,
        `3 1 254:0 ${this.claimDir} /hp rw - ext4 /dev/vda rw`,
        '',
      ].join('\n'),
    );
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(this.pods, this.attachUID, HOTPLUG, 'hp.sock'), resolve));
    this.#server = server;
  }

  close(): void {
    this.#server?.close();
  }

  readonly node: NodeMounts = {
    mounts: () => this.nodeMounts,
    bind: async (source, target, readOnly) => {
      this.binds.push([source, target, readOnly]);
      this.nodeMounts.push({ major: 254, minor: 0, root: source, mountPoint: target, fsType: 'ext4', source: '/dev/vda' });
    },
    unmount: async (target) => {
      const at = this.nodeMounts.findIndex((m) => m.mountPoint === target);
      if (at >= 0) this.nodeMounts.splice(at, 1);
    },
    readable: (p) => p,
  };

  readonly deviceRules: DeviceRules = {
    allow: async (_vmi, major, minor) => void this.rules.push(`allow b ${major}:${minor}`),
    deny: async (_uid, major, minor) => void this.rules.push(`deny b ${major}:${minor}`),
  };

  mounter(o: { deviceRules?: boolean } = {}): HotplugMounter {
    return new HotplugMounter({
      logger: pino({ level: 'silent' }),
      podsBaseDir: this.pods,
      kubeletPodsDir: this.pods,
      stateDir: this.state,
      node: this.node,
      procDir: this.proc,
      ...(o.deviceRules === false ? {} : { deviceRules: this.deviceRules }),
    });
  }

  /** A running VMI; `hp` hotplugged (in the spec unless `removed`), its status as virt-controller wrote it. */
  vmi(
    o: {
      removed?: boolean;
      attachPodUID?: string;
      volumeMode?: string;
      activePods?: string[];
      memoryDump?: boolean;
      /** `hp` is a utility volume (spec.utilityVolumes), not a volume */
      utility?: boolean;
    } = {},
  ): VirtualMachineInstance {
    const volume = o.memoryDump
      ? { name: 'hp', memoryDump: { claimName: 'c', hotpluggable: true } }
      : { name: 'hp', persistentVolumeClaim: { claimName: 'c', hotpluggable: true } };
    return parseVMI({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'testvmi', namespace: 'default', uid: this.vmiUID },
      spec: {
        domain: { devices: { disks: o.removed || o.memoryDump || o.utility ? [] : [{ name: 'hp', disk: { bus: 'scsi' } }] } },
        volumes: o.removed || o.utility ? [] : [volume],
        ...(o.utility && !o.removed ? { utilityVolumes: [{ name: 'hp', claimName: 'c', type: 'Backup' }] } : {}),
      },
      status: {
        phase: 'Running',
        activePods: Object.fromEntries((o.activePods ?? [this.launcherUID]).map((p) => [p, 'node01'])),
        volumeStatus: [
          {
            name: 'hp',
            target: '',
            phase: 'AttachedToNode',
            hotplugVolume: { attachPodName: 'hp-volume-abcde', attachPodUID: o.attachPodUID ?? this.attachUID },
            persistentVolumeClaimInfo: { claimName: 'c', volumeMode: o.volumeMode ?? 'Filesystem' },
          },
        ],
      },
    });
  }

  get target(): string {
    return path.join(this.pods, this.launcherUID, HOTPLUG, 'hp.img');
  }

  record(): { mountTargetEntries: { targetFile: string }[]; usesSafePaths: boolean } | undefined {
    const file = path.join(this.state, this.vmiUID);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  }
}

describe('HotplugMounter, file system claims', () => {
  test('waits (ErrWaitingForHotplugMount) while no process of the attachment pod serves hp.sock', async () => {
    const w = new HotplugWorld('waiting');
    await assert.rejects(w.mounter().mount(w.vmi()), (err: Error) => {
      assert.ok(err instanceof WaitingForHotplugMountError, String(err));
      assert.match(
        err.message,
        /^failed to mount filesystem hotplug volume hp: failed to get source path for volume hp from source pod attach-pod: .*: waiting for hotplug mount$/,
      );
      return true;
    });
    assert.deepEqual(w.binds, []);
    assert.equal(w.record(), undefined);
  });

  test("binds the claim's disk.img, read-write, onto <volume>.img in the launcher pod; records it first; once", async () => {
    const w = new HotplugWorld('mount');
    await w.startAttachmentPod();
    try {
      const m = w.mounter();
      await m.mount(w.vmi());
      assert.deepEqual(w.binds, [[path.join(w.claimDir, 'disk.img'), w.target, false]]);
      assert.deepEqual(w.record(), { mountTargetEntries: [{ targetFile: w.target }], usesSafePaths: true });
      assert.equal(statSync(w.target).uid, 107);
      assert.equal(m.isMounted(w.vmi(), 'hp'), true);
      await m.mount(w.vmi());
      assert.equal(w.binds.length, 1, 'an existing mount is not mounted again');
    } finally {
      w.close();
    }
  });

  test("a memory dump volume: the claim's directory bound onto the directory <volume>, handed to 107; undone with the volume", async () => {
    const w = new HotplugWorld('memorydump');
    await w.startAttachmentPod();
    try {
      const m = w.mounter();
      const dir = path.join(w.pods, w.launcherUID, HOTPLUG, 'hp');
      await m.mount(w.vmi({ memoryDump: true }));
      assert.deepEqual(w.binds, [[w.claimDir, dir, false]]);
      assert.ok(statSync(dir).isDirectory());
      assert.equal(statSync(dir).mode & 0o777, 0o750);
      assert.equal(statSync(dir).uid, 107);
      assert.equal(existsSync(w.target), false, 'no hp.img');
      assert.deepEqual(w.record(), { mountTargetEntries: [{ targetFile: dir }], usesSafePaths: true });
      assert.equal(m.isMounted(w.vmi({ memoryDump: true }), 'hp'), true);
      await m.unmount(w.vmi({ memoryDump: true }));
      assert.equal(m.isMounted(w.vmi({ memoryDump: true }), 'hp'), true, 'still in the spec: kept');
      await m.unmount(w.vmi({ removed: true }));
      assert.equal(existsSync(dir), false, 'the directory goes once unmounted');
      assert.equal(w.record(), undefined);
    } finally {
      w.close();
    }
  });

  test("a utility volume: the claim's directory bound onto the directory <volume>, handed to 107; undone when it leaves utilityVolumes", async () => {
    const w = new HotplugWorld('utility');
    await w.startAttachmentPod();
    try {
      const m = w.mounter();
      const dir = path.join(w.pods, w.launcherUID, HOTPLUG, 'hp');
      await m.mount(w.vmi({ utility: true }));
      assert.deepEqual(w.binds, [[w.claimDir, dir, false]]);
      assert.ok(statSync(dir).isDirectory());
      assert.equal(statSync(dir).uid, 107);
      assert.equal(existsSync(w.target), false, 'no hp.img');
      assert.equal(m.isMounted(w.vmi({ utility: true }), 'hp'), true);
      await m.unmount(w.vmi({ utility: true }));
      assert.equal(m.isMounted(w.vmi({ utility: true }), 'hp'), true, 'still a utility volume: kept');
      await m.unmount(w.vmi({ utility: true, removed: true }));
      assert.equal(existsSync(dir), false, 'the directory goes once unmounted');
      assert.equal(w.record(), undefined);
    } finally {
      w.close();
    }
  });

  test('a utility volume on a block claim is not mounted (utility volumes need a file system), with a warning', async () => {
    const w = new HotplugWorld('utility-block');
    await w.startAttachmentPod();
    try {
      await w.mounter().mount(w.vmi({ utility: true, volumeMode: 'Block' }));
      assert.deepEqual(w.binds, []);
      assert.equal(existsSync(path.join(w.pods, w.launcherUID, HOTPLUG, 'hp')), false);
      assert.equal(w.record(), undefined);
    } finally {
      w.close();
    }
  });

  test('nothing to mount: the volume left the spec, no attachment pod UID yet, or not this node’s launcher pod', async () => {
    const w = new HotplugWorld('skip');
    await w.startAttachmentPod();
    try {
      const m = w.mounter();
      await m.mount(w.vmi({ removed: true }));
      await m.mount(w.vmi({ attachPodUID: '' }));
      await m.mount(w.vmi({ activePods: ['elsewhere'] }));
      assert.deepEqual(w.binds, []);
      assert.equal(m.isMounted(w.vmi(), 'hp'), false);
      assert.throws(() => m.isMounted(w.vmi({ activePods: ['elsewhere'] }), 'hp'), /Unable to determine virt-launcher UID/);
    } finally {
      w.close();
    }
  });

  test('unmount keeps what the spec still has, and undoes the rest (file and record gone)', async () => {
    const w = new HotplugWorld('unmount');
    await w.startAttachmentPod();
    try {
      const m = w.mounter();
      await m.mount(w.vmi());
      await m.unmount(w.vmi());
      assert.equal(m.isMounted(w.vmi(), 'hp'), true, 'still in the spec: kept');
      assert.ok(w.record());
      await m.unmount(w.vmi({ removed: true }));
      assert.equal(m.isMounted(w.vmi(), 'hp'), false);
      assert.equal(existsSync(w.target), false);
      assert.equal(w.record(), undefined);
    } finally {
      w.close();
    }
  });

  test('a restarted handler (a new mounter) undoes everything its predecessor recorded (UnmountAll)', async () => {
    const w = new HotplugWorld('restart');
    await w.startAttachmentPod();
    try {
      await w.mounter().mount(w.vmi());
      w.close();
      await w.mounter().unmountAll(w.vmiUID, pino({ level: 'silent' }));
      assert.deepEqual(
        w.nodeMounts.map((m) => m.mountPoint),
        ['/'],
      );
      assert.equal(existsSync(w.target), false);
      assert.equal(w.record(), undefined);
    } finally {
      w.close();
    }
  });

  test('a record that is not KubeVirt’s JSON is an error that names the VMI', async () => {
    const w = new HotplugWorld('bad-record');
    mkdirSync(w.state, { recursive: true });
    writeFileSync(path.join(w.state, w.vmiUID), '{"mountTargetEntries":[{"target":1}]}');
    await assert.rejects(w.mounter().unmountAll(w.vmiUID, pino({ level: 'silent' })), new RegExp(`failed to get checkpoint ${w.vmiUID}`));
  });
});

describe('HotplugMounter, block claims', () => {
  /** The attachment pod's volumeDevice: a device node in hotplug-disks/<volume>/ (loop0's numbers). */
  const blockWorld = (name: string) => {
    const w = new HotplugWorld(name);
    const dir = path.join(w.pods, w.attachUID, HOTPLUG, 'hp');
    mkdirSync(dir);
    execFileSync('mknod', ['-m', '0660', path.join(dir, 'pvc-uid'), 'b', '7', '0']);
    return w;
  };
  const device = (w: HotplugWorld) => path.join(w.pods, w.launcherUID, HOTPLUG, 'hp');

  test('a device node of the same numbers in the launcher pod, handed to 107, its device allowed; undone on unplug', async () => {
    const w = blockWorld('block');
    const m = w.mounter();
    await m.mount(w.vmi({ volumeMode: 'Block' }));
    const st = statSync(device(w));
    assert.ok(st.isBlockDevice());
    assert.equal(st.rdev, statSync(path.join(w.pods, w.attachUID, HOTPLUG, 'hp', 'pvc-uid')).rdev);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 107);
    assert.deepEqual(w.rules, ['allow b 7:0']);
    assert.deepEqual(w.binds, [], 'nothing is mounted for a block claim');
    assert.equal(m.isMounted(w.vmi({ volumeMode: 'Block' }), 'hp'), true);
    await m.unmount(w.vmi({ removed: true, volumeMode: 'Block' }));
    assert.equal(existsSync(device(w)), false);
    assert.deepEqual(w.rules, ['allow b 7:0', 'deny b 7:0']);
    assert.equal(w.record(), undefined);
  });

  test('without a cgroup manager a block claim fails, as in KubeVirt', async () => {
    const w = blockWorld('block-nocgroup');
    await assert.rejects(
      w.mounter({ deviceRules: false }).mount(w.vmi({ volumeMode: 'Block' })),
      /failed to mount block hotplug volume hp: failed to apply device rule b 7:0 rwm: cgroup manager is nil/,
    );
  });

  test('an attachment pod without a device in the volume’s directory is an error', async () => {
    const w = new HotplugWorld('block-none');
    mkdirSync(path.join(w.pods, w.attachUID, HOTPLUG, 'hp'));
    await assert.rejects(w.mounter().mount(w.vmi({ volumeMode: 'Block' })), /failed to mount block hotplug volume hp: no device in /);
  });
});
