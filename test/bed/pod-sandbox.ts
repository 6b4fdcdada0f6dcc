// The test bed's stand-in for a virt-launcher pod: a private mount namespace, held open by a pause
// process, with a fresh tmpfs on /run, KubeVirt's emptyDir volumes bind-mounted from the kubelet
// layout <podsBaseDir>/<podUID>/volumes/kubernetes.io~empty-dir/<volume>, per-pod copies of the
// directories a launcher container owns (/etc/libvirt, /var/lib/libvirt, /var/log/libvirt,
// /var/cache/libvirt), and a container's /dev (CONTAINER_DEV). The host's /etc, /run and /dev are
// never touched.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { mountsUnder } from './mounts.ts';

// KubeVirt's launcher pod volumes (pkg/virt-controller/services/rendervolumes.go), in mount order.
export const POD_VOLUMES = [
  { name: 'public', mountPath: '/var/run/kubevirt' },
  { name: 'private', mountPath: '/var/run/kubevirt-private' },
  { name: 'sockets', mountPath: '/var/run/kubevirt/sockets' },
  { name: 'ephemeral-disks', mountPath: '/var/run/kubevirt-ephemeral-disks' },
  // HostToContainer (rslave): virt-handler bind-mounts the disk images into it from the node
  { name: 'container-disks', mountPath: '/var/run/kubevirt/container-disks', hostToContainer: true },
  // HostToContainer too: virt-handler bind-mounts hotplugged volumes into it from the node
  { name: 'hotplug-disks', mountPath: '/var/run/kubevirt/hotplug-disks', hostToContainer: true },
  { name: 'libvirt-runtime', mountPath: '/var/run/libvirt' },
] as const;

/** The emptyDir virt-controller adds only for a VMI with hook sidecars (withSidecarVolumes). */
export const HOOK_SIDECAR_VOLUME = { name: 'hook-sidecar-sockets', mountPath: '/var/run/kubevirt-hooks' } as const;
/** The emptyDir virt-controller adds only for a VMI with virtiofs filesystems (withVirioFS). */
export const VIRTIOFS_VOLUME = { name: 'virtiofs-containers', mountPath: '/var/run/kubevirt/virtiofs-containers' } as const;
type VolumeName = (typeof POD_VOLUMES)[number]['name'] | typeof HOOK_SIDECAR_VOLUME.name | typeof VIRTIOFS_VOLUME.name;

const CONTAINER_DIRS = ['/etc/libvirt', '/var/lib/libvirt', '/var/log/libvirt', '/var/cache/libvirt'] as const;

/**
 * The /dev a container runtime gives a container (runc's default devices): a tmpfs with the standard
 * character devices, a private devpts, /dev/shm and /dev/net/tun — and no /dev/kvm, which a launcher pod
 * only gets from KubeVirt's kvm device plugin (and this machine's /dev/kvm hangs guests anyway).
 */
export const CONTAINER_DEVICES = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/net/tun', major: 10, minor: 200 },
] as const;

const CONTAINER_DEV = [
  'mount -t tmpfs -o mode=0755,nosuid,size=65536k tmpfs /dev',
  'mkdir /dev/pts /dev/shm /dev/net',
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts /dev/pts',
  'ln -s pts/ptmx /dev/ptmx',
  'mount -t tmpfs -o mode=1777,nosuid,nodev,size=65536k shm /dev/shm',
  ...CONTAINER_DEVICES.map((d) => `mknod -m 0666 ${d.path} c ${d.major} ${d.minor}`),
  'ln -s /proc/self/fd /dev/fd',
  'ln -s /proc/self/fd/0 /dev/stdin',
  'ln -s /proc/self/fd/1 /dev/stdout',
  'ln -s /proc/self/fd/2 /dev/stderr',
];

/** runc's default device rules for a container (libcontainer/specconv AllowedDevices), as devices.allow lines. */
export const CONTAINER_DEVICE_RULES = [
  'c *:* m',
  'b *:* m',
  ...CONTAINER_DEVICES.map((d) => `c ${d.major}:${d.minor} rwm`),
  'c 5:1 rwm', // /dev/console
  'c 5:2 rwm', // /dev/ptmx
  'c 136:* rwm', // /dev/pts/*
] as const;

/** The test bed's pod device cgroups (cgroup v1), `kvts-pod-<pod uid>` in it, one per pod that asks for one. */
const DEVICES_CGROUP_ROOT = '/sys/fs/cgroup/devices';
/** The same for the cpuset controller (cgroup v1). */
const CPUSET_CGROUP_ROOT = '/sys/fs/cgroup/cpuset';

export interface PodSandbox {
  readonly podUID: string;
  /** The pod's devices cgroup directory (`deviceCgroup: true`), every process of the pod in it. */
  readonly devicesCgroup: string | undefined;
  /** The pod's cpuset cgroup directory (`cpusetCgroup: true`), every process of the pod in it. */
  readonly cpusetCgroup: string | undefined;
  readonly podDir: string;
  readonly podsBaseDir: string;
  /** PID of the pause process that holds the pod's mount namespace (and network namespace, if any). */
  readonly pid: number;
  /** Whether the pod has a network namespace of its own (`network: true`). */
  readonly network: boolean;
  /** Host-visible path of a path inside the pod. */
  hostPath(podPath: string): string;
  /** Host path of an emptyDir volume, as the kubelet lays it out. */
  volumePath(volume: VolumeName): string;
  /** Spawns a process inside the pod's mount namespace. */
  spawn(cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** A process of the pod outside its mount namespace (a containerDisk container): killed by destroy(). */
  adopt(child: ChildProcess): void;
  /** Stops every process in the pod's namespace and removes the pod's directories. */
  destroy(): Promise<void>;
}

let defaultPodsBaseDir: string | undefined;
/** Kept short: unix socket paths under it must stay below 108 bytes, like KubeVirt's /pods. */
export function podsBaseDir(): string {
  if (defaultPodsBaseDir === undefined) {
    const dir = mkdtempSync('/tmp/kvp');
    defaultPodsBaseDir = dir;
    process.once('exit', () => {
      try {
        rmdirSync(dir); // only if every sandbox in it was destroyed
      } catch {
        // a sandbox was left for inspection
      }
    });
  }
  return defaultPodsBaseDir;
}

export function emptyDirPath(base: string, podUID: string, volume: string): string {
  return path.join(base, podUID, 'volumes', 'kubernetes.io~empty-dir', volume);
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export async function createPodSandbox(
  opts: {
    podsBaseDir?: string;
    podUID?: string;
    /** a network namespace of its own, empty but for lo */
    network?: boolean;
    /** the hook-sidecar-sockets volume at /var/run/kubevirt-hooks, as for a VMI with hook sidecars */
    hookSidecars?: boolean;
    /** the virtiofs-containers volume at /var/run/kubevirt/virtiofs-containers, as for a VMI with virtiofs filesystems */
    virtiofs?: boolean;
    /**
     * A devices cgroup (v1) as a container runtime gives a container: every device denied but runc's
     * defaults, so a block device the pod gets later is usable only once someone allows it.
     */
    deviceCgroup?: boolean;
    /** A cpuset cgroup of the pod's own (all the node's CPUs and memory nodes), as a container has. */
    cpusetCgroup?: boolean;
  } = {},
): Promise<PodSandbox> {
  const base = opts.podsBaseDir ?? podsBaseDir();
  const podUID = opts.podUID ?? randomUUID();
  const podDir = path.join(base, podUID);
  const containerRoot = path.join(podDir, 'container');

  const mounts: string[] = ['mount -t tmpfs -o mode=0755 tmpfs /run', ...CONTAINER_DEV];
  const volumes = [...POD_VOLUMES, ...(opts.hookSidecars ? [HOOK_SIDECAR_VOLUME] : []), ...(opts.virtiofs ? [VIRTIOFS_VOLUME] : [])];
  for (const v of volumes) {
    const src = emptyDirPath(base, podUID, v.name);
    mkdirSync(src, { recursive: true });
    chmodSync(src, 0o777); // the kubelet's emptyDir mode: a non-root container writes there too
    mounts.push(`mkdir -p ${v.mountPath} && mount --bind ${shellQuote(src)} ${v.mountPath}`);
    if ('hostToContainer' in v) {
      // a shared mount on the host, a slave of it in the pod: the node's mounts under it reach the pod
      execFileSync('mount', ['--bind', src, src]);
      execFileSync('mount', ['--make-shared', src]);
      mounts.push(`mount --make-rslave ${v.mountPath}`);
    }
  }
  for (const dir of CONTAINER_DIRS) {
    const src = path.join(containerRoot, dir);
    mkdirSync(src, { recursive: true });
    mkdirSync(dir, { recursive: true });
    mounts.push(`mount --bind ${shellQuote(src)} ${dir}`);
  }

  // the launcher image's users: the host's plus KubeVirt's qemu (107), which a non-root pod runs as
  for (const [file, entry] of [
    ['passwd', 'qemu:x:107:107:qemu user:/var/run/kubevirt-private:/usr/sbin/nologin'],
    ['group', 'qemu:x:107:'],
  ] as const) {
    const src = path.join(containerRoot, 'etc', file);
    const host = readFileSync(`/etc/${file}`, 'utf8');
    writeFileSync(src, /^qemu:/m.test(host) ? host : `${host.trimEnd()}\n${entry}\n`);
    mounts.push(`mount --bind ${shellQuote(src)} /etc/${file}`);
  }

  let devicesCgroup: string | undefined;
  const enterCgroup: string[] = [];
  if (opts.deviceCgroup) {
    devicesCgroup = path.join(DEVICES_CGROUP_ROOT, `kvts-pod-${podUID}`);
    mkdirSync(devicesCgroup);
    writeFileSync(path.join(devicesCgroup, 'devices.deny'), 'a');
    for (const rule of CONTAINER_DEVICE_RULES) writeFileSync(path.join(devicesCgroup, 'devices.allow'), rule);
  }
  let cpusetCgroup: string | undefined;
  if (opts.cpusetCgroup) {
    cpusetCgroup = path.join(CPUSET_CGROUP_ROOT, `kvts-pod-${podUID}`);
    mkdirSync(cpusetCgroup);
    // a new cpuset group has no CPUs and no memory until given some
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      writeFileSync(path.join(cpusetCgroup, file), readFileSync(path.join(CPUSET_CGROUP_ROOT, file), 'utf8').trim());
    }
  }
  const podCgroups = [devicesCgroup, cpusetCgroup].filter((d) => d !== undefined);
  const enterCgroups = podCgroups.map((d) => `echo $$ > ${shellQuote(path.join(d, 'cgroup.procs'))}`);
  enterCgroup.push(...enterCgroups);
  const script = `set -e; ${[...enterCgroup, ...mounts].join('; ')}; echo ready; exec sleep infinity`;
  // detached here and in spawn(): a terminal's Ctrl-C is for the demo or test, which tears the pod down in order.
  const netArgs = opts.network ? ['--net'] : [];
  // slave, not private: the host-shared volumes (hostToContainer) must receive the node's mounts
  const pause = spawn('unshare', ['--mount', ...netArgs, '--propagation', 'slave', '--', '/bin/sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const adopted: ChildProcess[] = [];
  let stderr = '';
  pause.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    pause.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    pause.once('exit', (code) => reject(new Error(`pod sandbox setup failed (exit ${code}): ${stderr.trim()}`)));
  });
  await ready;
  const pid = pause.pid;
  if (pid === undefined) throw new Error('pod sandbox: unshare did not start');
  const mntNs = readlinkSync(`/proc/${pid}/ns/mnt`);

  const sandbox: PodSandbox = {
    podUID,
    devicesCgroup,
    cpusetCgroup,
    podDir,
    podsBaseDir: base,
    pid,
    network: opts.network ?? false,
    hostPath: (p) => `/proc/${pid}/root${inPodRealPath(p)}`,
    volumePath: (v) => emptyDirPath(base, podUID, v),
    spawn: (cmd, args, spawnOpts = {}) => {
      // into the pod's cgroups first, so that everything it starts is there too
      const argv = podCgroups.length > 0 ? ['sh', '-c', [...enterCgroups, 'exec "$@"'].join(' && '), 'sh', cmd, ...args] : [cmd, ...args];
      return spawn('nsenter', [`--target=${pid}`, '--mount', ...(opts.network ? ['--net'] : []), '--', ...argv], {
        detached: true,
        ...spawnOpts,
      });
    },
    adopt: (child) => adopted.push(child),
    async destroy() {
      // Everything still in the pod's namespace was started by this sandbox (libvirtd, qemu, ...).
      for (const p of processesInNamespace(mntNs)) {
        if (p !== pid) tryKill(p, 'SIGKILL');
      }
      for (const child of [...adopted, pause]) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await once(child, 'exit');
        }
      }
      // what the node still has mounted in the pod's directory (the shared volumes, disks left mounted)
      // again while any is left: a shared volume's mounts can show more than once; never rm a mounted tree
      for (let round = 0; mountsUnder(podDir).length > 0; round++) {
        if (round === 10) throw new Error(`pod sandbox ${podUID}: still mounted: ${mountsUnder(podDir).join(', ')}`);
        for (const target of mountsUnder(podDir)) {
          try {
            execFileSync('umount', ['-l', target], { stdio: 'ignore' });
          } catch {
            // gone with a mount above it meanwhile
          }
        }
      }
      rmSync(podDir, { recursive: true, force: true });
      // empty once every process of the pod has exited (the killed ones may take a moment); a group the
      // handler made in the pod's (cpuset's housekeeping) goes first
      const groups = podCgroups
        .filter((d) => existsSync(d))
        .flatMap((d) => [
          ...readdirSync(d, { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => path.join(d, e.name)),
          d,
        ]);
      for (const group of groups) {
        for (let attempt = 0; existsSync(group); attempt++) {
          try {
            rmdirSync(group);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 100) throw err;
            await sleep(50);
          }
        }
      }
    },
  };
  return sandbox;
}

/**
 * /var/run is an absolute symlink to /run; through /proc/<pid>/root it would resolve against the
 * caller's root (the host's /run), so paths under it are rewritten to their real location.
 */
export function inPodRealPath(p: string): string {
  const abs = path.posix.resolve('/', p);
  return abs === '/var/run' || abs.startsWith('/var/run/') ? abs.slice('/var'.length) : abs;
}

export function processesInNamespace(mntNs: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) === mntNs) pids.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return pids;
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
