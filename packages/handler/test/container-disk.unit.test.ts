// The containerDisk mounter's decisions (KubeVirt's pkg/virt-handler/container-disk and isolation tests):
// mountinfo to node paths, the image in a container's root, and what is mounted, recorded and undone.
// The processes are a /proc laid out in a temp dir (ns and root links, mountinfo) around real sockets;
// the node's mount namespace is a fake that records the bind mounts. The real mounts are proven in the
// handler's end-to-end tests (handler.test.ts) and on the real node (test/node/real-node.test.ts).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { findSocketProcess, parentPathForRootMount, parseMountInfo, type MountInfo } from '../src/container-disk/isolation.ts';
import { CONTAINER_DISK_READY_TIMEOUT_MS, getImage, Mounter, type NodeMounts } from '../src/container-disk/mounter.ts';

const mi = (line: string) => parseMountInfo(line)[0]!;

describe('parseMountInfo', () => {
  test('fields, optional tags and octal escapes', () => {
    const [m] = parseMountInfo('36 35 98:0 /mnt\\040dir /mnt/a\\011b rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n');
    assert.deepEqual(m, { major: 98, minor: 0, root: '/mnt dir', mountPoint: '/mnt/a\tb', fsType: 'ext3', source: '/dev/root' });
  });
  test('a line without the separator is an error that names it', () => {
    assert.throws(() => parseMountInfo('36 35 98:0 / /\n'), /malformed mountinfo line: 36 35 98:0/);
  });
});

describe('parentPathForRootMount', () => {
  const overlayChild = [mi('1 0 0:120 / / rw - overlay overlay rw,lowerdir=/l'), mi('2 1 0:5 / /proc rw - proc proc rw')];
  const cases: { name: string; node: MountInfo[]; child: MountInfo[]; want: string | RegExp }[] = [
    {
      name: "containerd's overlay root → its rootfs mount on the node",
      node: [mi('20 1 254:0 / / rw - ext4 /dev/vda rw'), mi('90 20 0:120 / /run/containerd/k8s.io/abc/rootfs rw - overlay overlay rw')],
      child: overlayChild,
      want: '/run/containerd/k8s.io/abc/rootfs',
    },
    {
      name: 'a directory of the node root mounted as root → that directory',
      node: [mi('20 1 254:0 / / rw - ext4 /dev/vda rw')],
      child: [mi('1 0 254:0 /pods/p1/rootfs / rw - ext4 /dev/vda rw')],
      want: '/pods/p1/rootfs',
    },
    {
      name: 'the deepest node mount containing the directory wins',
      node: [mi('20 1 254:0 / / rw - ext4 /dev/vda rw'), mi('21 20 254:0 /pods /srv/pods rw - ext4 /dev/vda rw')],
      child: [mi('1 0 254:0 /pods/p1/rootfs / rw - ext4 /dev/vda rw')],
      want: '/srv/pods/p1/rootfs',
    },
    {
      name: 'the topmost of several mounts on / counts',
      node: [mi('20 1 254:0 / / rw - ext4 /dev/vda rw'), mi('90 20 0:120 / /rootfs rw - overlay overlay rw')],
      child: [mi('1 0 254:0 / / rw - ext4 /dev/vda rw'), mi('2 1 0:120 / / rw - overlay overlay rw')],
      want: '/rootfs',
    },
    {
      name: 'a root device the node does not show → error',
      node: [mi('20 1 254:0 / / rw - ext4 /dev/vda rw')],
      child: overlayChild,
      want: /no mount containing \/ found in the mount namespace of the node/,
    },
    {
      name: 'a node mount of the device that does not contain the directory → error',
      node: [mi('21 20 254:0 /other /srv rw - ext4 /dev/vda rw')],
      child: [mi('1 0 254:0 /pods/p1/rootfs / rw - ext4 /dev/vda rw')],
      want: /no mount containing \/pods\/p1\/rootfs/,
    },
    {
      name: 'no mount on / at all → error',
      node: [mi('20 1 254:0 / / rw - ext4 /dev/vda rw')],
      child: [mi('2 1 0:5 / /proc rw - proc proc rw')],
      want: /no mount on \/ in the container/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      if (typeof c.want === 'string') assert.equal(parentPathForRootMount(c.node, c.child), c.want);
      else assert.throws(() => parentPathForRootMount(c.node, c.child), c.want);
    });
  }
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kvts-cd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('getImage', () => {
  const root = path.join(tmp, 'images');
  const layout = (name: string, files: string[]) => {
    const r = path.join(root, name);
    mkdirSync(path.join(r, 'disk'), { recursive: true });
    for (const f of files) writeFileSync(path.join(r, 'disk', f), 'x');
    return r;
  };
  test("the volume's path, kept inside the root", () => {
    assert.equal(getImage('/run/rootfs', 'custom/disk.qcow2'), '/run/rootfs/custom/disk.qcow2');
    assert.equal(getImage('/run/rootfs', '../../etc/shadow'), '/run/rootfs/etc/shadow');
  });
  test('no path: the one file in /disk', () => {
    const r = layout('one', ['fedora.qcow2']);
    assert.equal(getImage(r, undefined), path.join(r, 'disk', 'fedora.qcow2'));
  });
  test("no path and /disk empty or crowded: KubeVirt's errors", () => {
    assert.throws(() => getImage(layout('none', []), undefined), /^Error: no file found in folder \/disk, no disk present$/);
    assert.throws(
      () => getImage(layout('two', ['a.img', 'b.img']), undefined),
      /more than one file found in folder \/disk, only one disk is allowed/,
    );
    assert.throws(() => getImage(path.join(root, 'missing'), undefined), /failed to check default image path \/disk/);
  });
});

/** One launcher pod with a containerDisk container, as the handler finds them on a node. */
class PodWorld {
  readonly vmiUID = '5f1a0000-0000-4000-8000-000000000001';
  readonly podUID = 'pod-1';
  readonly dir: string;
  readonly proc: string;
  readonly pods: string;
  readonly state: string;
  readonly rootfs: string;
  readonly volume: string;
  readonly nodeMounts: MountInfo[] = [mi('20 1 254:0 / / rw - ext4 /dev/vda rw')];
  readonly binds: Array<[string, string]> = [];
  readonly unmounts: string[] = [];
  readonly #servers: net.Server[] = [];

  constructor(name: string) {
    this.dir = path.join(tmp, name);
    this.proc = path.join(this.dir, 'proc');
    this.pods = path.join(this.dir, 'pods');
    this.state = path.join(this.dir, 'state');
    this.volume = path.join(this.pods, this.podUID, 'volumes/kubernetes.io~empty-dir/container-disks');
    mkdirSync(this.volume, { recursive: true });
    this.rootfs = path.join(this.dir, 'rootfs');
    mkdirSync(path.join(this.rootfs, 'disk'), { recursive: true });
    mkdirSync(path.join(this.rootfs, 'boot'), { recursive: true });
    writeFileSync(path.join(this.rootfs, 'disk', 'data.img'), 'disk');
    writeFileSync(path.join(this.rootfs, 'boot', 'vmlinux'), 'kernel');
    writeFileSync(path.join(this.rootfs, 'boot', 'initrd.img'), 'initrd');
    mkdirSync(path.join(this.rootfs, 'var/run/kubevirt/container-disks'), { recursive: true });
    // the pod's volume seen from the container, as the container's mount puts it there
    symlinkSync(this.volume, path.join(this.rootfs, 'var/run/kubevirt/container-disks', this.vmiUID));
    // PID 1: the node; another process in another namespace that serves nothing
    this.#process(1, 'mnt:[1]', '/', '');
    this.#process(7, 'mnt:[7]', path.join(this.dir, 'elsewhere'), '');
  }

  #process(pid: number, ns: string, root: string, mountinfo: string): void {
    const d = path.join(this.proc, String(pid));
    for (const sub of ['ns', 'net', 'fd']) mkdirSync(path.join(d, sub), { recursive: true });
    writeFileSync(path.join(d, 'net', 'unix'), 'Num       RefCount Protocol Flags    Type St Inode Path\n');
    symlinkSync(ns, path.join(d, 'ns', 'mnt'));
    symlinkSync(root, path.join(d, 'root'));
    writeFileSync(path.join(d, 'mountinfo'), mountinfo);
  }

  /**
   * A disk container starts (pid 42 and up): its root is the rootfs directory, it listens on
   * `socketName`, and its /proc shows that (net/unix, the socket's descriptor).
   */
  async serve(socketName: string, pid = 42 + this.#servers.length): Promise<void> {
    const inode = 9000 + pid;
    this.#process(pid, `mnt:[${pid}]`, this.rootfs, `1 0 254:0 ${this.rootfs} / rw - ext4 /dev/vda rw\n`);
    const d = path.join(this.proc, String(pid));
    const bound = `/var/run/kubevirt/container-disks/${this.vmiUID}/${socketName}`;
    writeFileSync(
      path.join(d, 'net', 'unix'),
      `Num       RefCount Protocol Flags    Type St Inode Path\nffff0001: 00000002 00000000 00010000 0001 01 ${inode} ${bound}\n`,
    );
    symlinkSync(`socket:[${inode}]`, path.join(d, 'fd', '3'));
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(this.volume, socketName), resolve));
    this.#servers.push(server);
  }

  close(): void {
    for (const s of this.#servers) s.close();
  }

  readonly node: NodeMounts = {
    mounts: () => this.nodeMounts,
    bind: async (source, target) => {
      this.binds.push([source, target]);
      this.nodeMounts.push({ major: 254, minor: 0, root: source, mountPoint: target, fsType: 'ext4', source: '/dev/vda' });
    },
    unmount: async (target) => {
      this.unmounts.push(target);
      const at = this.nodeMounts.findIndex((m) => m.mountPoint === target);
      if (at >= 0) this.nodeMounts.splice(at, 1);
    },
    readable: (p) => p,
  };

  mounter(now = () => Date.now()): Mounter {
    return new Mounter({
      logger: pino({ level: 'silent' }),
      podsBaseDir: this.pods,
      kubeletPodsDir: this.pods,
      stateDir: this.state,
      node: this.node,
      procDir: this.proc,
      clock: { now },
    });
  }

  vmi(o: { kernelBoot?: boolean; activePods?: string[]; path?: string } = {}): VirtualMachineInstance {
    return parseVMI({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'testvmi', namespace: 'default', uid: this.vmiUID },
      spec: {
        domain: {
          devices: { disks: [{ name: 'data', disk: { bus: 'virtio' } }] },
          ...(o.kernelBoot
            ? { firmware: { kernelBoot: { container: { image: 'guest', kernelPath: '/boot/vmlinux', initrdPath: '/boot/initrd.img' } } } }
            : {}),
        },
        volumes: [
          { name: 'cloudinit', cloudInitNoCloud: { userData: '#cloud-config' } },
          { name: 'data', containerDisk: { image: 'guest', ...(o.path ? { path: o.path } : {}) } },
        ],
      },
      status: { activePods: Object.fromEntries((o.activePods ?? [this.podUID]).map((p) => [p, 'node01'])) },
    });
  }
}

describe('Mounter', () => {
  test('not ready until the disk container serves disk_<index>.sock; an error after a minute', async () => {
    const w = new PodWorld('ready');
    let now = 1_000;
    const m = w.mounter(() => now);
    assert.equal(m.containerDisksReady(w.vmi(), 1_000), false, 'no socket yet');
    now += CONTAINER_DISK_READY_TIMEOUT_MS + 1;
    assert.throws(() => m.containerDisksReady(w.vmi(), 1_000), /^Error: containerdisk data still not ready after one minute$/);
    await w.serve('disk_1.sock');
    assert.equal(m.containerDisksReady(w.vmi(), 1_000), true);
    assert.equal(m.containerDisksReady(w.vmi({ kernelBoot: true }), now), false, 'kernel-boot.sock not served yet');
    await w.serve('kernel-boot.sock');
    assert.equal(m.containerDisksReady(w.vmi({ kernelBoot: true }), now), true);
    w.close();
  });

  test('every disk container sees every socket of the volume: the one that listens is found', async () => {
    const w = new PodWorld('two');
    await w.serve('disk_1.sock', 42);
    await w.serve('kernel-boot.sock', 43);
    const find = (sock: string) =>
      findSocketProcess(path.join(w.volume, sock), `/var/run/kubevirt/container-disks/${w.vmiUID}/${sock}`, w.proc);
    assert.equal(find('disk_1.sock'), 42);
    assert.equal(find('kernel-boot.sock'), 43);
    w.close();
  });

  test('a socket file nobody serves from the expected path is not ready', async () => {
    const w = new PodWorld('stray');
    await w.serve('disk_1.sock', 43);
    // the process's root no longer shows the pod's volume where a disk container has it
    rmSync(path.join(w.rootfs, 'var/run/kubevirt/container-disks', w.vmiUID));
    assert.equal(
      findSocketProcess(path.join(w.volume, 'disk_1.sock'), `/var/run/kubevirt/container-disks/${w.vmiUID}/disk_1.sock`, w.proc),
      undefined,
    );
    assert.equal(w.mounter().containerDisksReady(w.vmi(), Date.now()), false);
    w.close();
  });

  test('mountAndVerify: the image bind-mounted onto disk_<index>.img, recorded; again → nothing more', async () => {
    const w = new PodWorld('mount');
    await w.serve('disk_1.sock');
    await w.serve('kernel-boot.sock');
    const m = w.mounter();
    await m.mountAndVerify(w.vmi({ kernelBoot: true }));
    assert.deepEqual(w.binds, [
      [path.join(w.rootfs, 'disk/data.img'), path.join(w.volume, 'disk_1.img')],
      [path.join(w.rootfs, 'boot/vmlinux'), path.join(w.volume, 'kernel-boot/vmlinux')],
      [path.join(w.rootfs, 'boot/initrd.img'), path.join(w.volume, 'kernel-boot/initrd.img')],
    ]);
    assert.ok(existsSync(path.join(w.volume, 'disk_1.img')), 'the mount point made');
    assert.deepEqual(JSON.parse(readFileSync(path.join(w.state, w.vmiUID), 'utf8')), {
      mountTargetEntries: [
        { targetFile: path.join(w.volume, 'disk_1.img'), socketFile: path.join(w.volume, 'disk_1.sock') },
        { targetFile: path.join(w.volume, 'kernel-boot'), socketFile: path.join(w.volume, 'kernel-boot.sock') },
      ],
      usesSafePaths: true,
    });
    await m.mountAndVerify(w.vmi({ kernelBoot: true }));
    assert.equal(w.binds.length, 3, 'mounted ones are not mounted twice');

    // a restarted handler unmounts from the record alone
    await w.mounter().unmount(w.vmiUID, pino({ level: 'silent' }));
    assert.deepEqual(w.unmounts.sort(), [
      path.join(w.volume, 'disk_1.img'),
      path.join(w.volume, 'kernel-boot/initrd.img'),
      path.join(w.volume, 'kernel-boot/vmlinux'),
    ]);
    assert.equal(existsSync(path.join(w.state, w.vmiUID)), false, 'record removed');
    assert.equal(existsSync(path.join(w.volume, 'disk_1.sock')), false, 'socket removed: the disk container ends');
    await w.mounter().unmount(w.vmiUID, pino({ level: 'silent' }));
    assert.equal(w.unmounts.length, 3, 'no record, nothing to do');
    w.close();
  });

  test("the volume's own path in the image is taken", async () => {
    const w = new PodWorld('path');
    await w.serve('disk_1.sock');
    await w.mounter().mountAndVerify(w.vmi({ path: '/boot/vmlinux' }));
    assert.deepEqual(w.binds, [[path.join(w.rootfs, 'boot/vmlinux'), path.join(w.volume, 'disk_1.img')]]);
    w.close();
  });

  test("errors in KubeVirt's words: two active pods, no such image, a mount that does not show", async () => {
    const w = new PodWorld('errors');
    await w.serve('disk_1.sock');
    mkdirSync(path.join(w.pods, 'pod-old', 'volumes/kubernetes.io~empty-dir/container-disks'), { recursive: true });
    await assert.rejects(
      w.mounter().mountAndVerify(w.vmi({ activePods: ['pod-old', w.podUID] })),
      /Found multiple pods active for vmi default\/testvmi. Waiting on outdated pod directories to be removed/,
    );
    await assert.rejects(w.mounter().mountAndVerify(w.vmi({ path: '/nope.img' })), /ENOENT.*nope\.img/);
    const silent = new PodWorld('silent-bind');
    await silent.serve('disk_1.sock');
    silent.node.bind = async (s, t) => void silent.binds.push([s, t]);
    await assert.rejects(
      silent.mounter().mountAndVerify(silent.vmi()),
      /containerDisk data: .*disk_1\.img is not mounted after the bind mount/,
    );
    w.close();
    silent.close();
  });
});

describe('VIRT_IN_CONTAINER', () => {
  test('"true" picks the parent as the node; unset or "false" PID 1; anything else is refused', async () => {
    const { virtInContainer } = await import('../src/container-disk/mounter.ts');
    assert.equal(virtInContainer({ VIRT_IN_CONTAINER: 'true' }), true);
    assert.equal(virtInContainer({}), false);
    assert.equal(virtInContainer({ VIRT_IN_CONTAINER: 'false' }), false);
    assert.throws(() => virtInContainer({ VIRT_IN_CONTAINER: 'yes' }), /VIRT_IN_CONTAINER: want "true" or "false", got "yes"/);
  });
});
