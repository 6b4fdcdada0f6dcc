// What a real node changes on the host, made and undone here: its base directory (a shared bind mount,
// for kubelet's and the handler's Bidirectional mounts), the pod bridge, the cgroup root kubelet puts pods
// under, and the paths kubelet and containerd hard-code. Nothing else: no ip_forward, no iptables, no
// route. Every name is fixed, so a run that died half-way is swept by the next one's start.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { mountsUnder } from '../bed/mounts.ts';

const run = promisify(execFile);

/** Every file of a node lives under it (short: unix socket paths end up under it). */
export const NODE_BASE = '/var/lib/kvts-node';
/**
 * kubelet's root: its default, because KubeVirt assumes it (virt-operator's DaemonSet mounts
 * /var/lib/kubelet and /var/lib/kubelet/pods; the device-plugins directory is hard-coded there).
 * The node takes it whole: it must not be there before.
 */
export const KUBELET_ROOT = '/var/lib/kubelet';
export const BRIDGE = 'kvts-br0';
export const POD_SUBNET = '10.244.77.0/24';
/** The bridge's address: the node's InternalIP, where kube-apiserver and kubelet listen for pods. */
export const NODE_IP = '10.244.77.1';
/** kubelet's --cgroup-root: a cgroup of its own in every v1 hierarchy kubelet uses. */
export const CGROUP_ROOT = 'kvts-node';
const CGROUP_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd'];
const CGROUP_FS = '/sys/fs/cgroup';

/** Paths kubelet and containerd use whatever their configuration says. */
const HARD_CODED = {
  podLogs: '/var/log/pods',
  containerLogs: '/var/log/containers',
  /** containerd's shim sockets (`/run/containerd/s/`) */
  containerdRun: '/run/containerd',
};
const MARKER = path.join(NODE_BASE, '.created');

/** What the host looked like before: restored by teardownHost(). */
interface HostBefore {
  created: string[];
  ipForward: string;
}

/**
 * Prepares the host for one node: sweeps what an earlier run left, then makes the base directory,
 * the bridge and the cgroup root. Returns what teardownHost() needs.
 */
export async function prepareHost(): Promise<void> {
  await teardownHost();
  if (existsSync(KUBELET_ROOT)) throw new Error(`${KUBELET_ROOT} exists: another kubelet's? the test node needs it to itself`);
  const before: HostBefore = {
    // Only the hard-coded paths that are not there yet are the node's to remove at the end.
    created: Object.values(HARD_CODED).filter((p) => !existsSync(p)),
    ipForward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
  };
  mkdirSync(NODE_BASE, { recursive: true });
  writeFileSync(MARKER, JSON.stringify(before));
  // kubelet bind-mounts its root dir onto itself rshared; the handler's host dirs want the same.
  for (const dir of [NODE_BASE, KUBELET_ROOT]) {
    mkdirSync(dir, { recursive: true });
    await run('mount', ['--bind', dir, dir]);
    await run('mount', ['--make-rshared', dir]);
  }

  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${NODE_IP}/24`, 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);

  for (const ctrl of CGROUP_CONTROLLERS) {
    const dir = path.join(CGROUP_FS, ctrl, CGROUP_ROOT);
    mkdirSync(dir, { recursive: true });
    if (ctrl === 'cpuset') {
      // A new cpuset has no CPUs and no memory nodes: nothing could run in it.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        writeFileSync(path.join(dir, f), readFileSync(path.join(CGROUP_FS, ctrl, f)));
      }
    }
  }
}

/** What the node's processes left: processes must be gone already (see real-node.ts). Idempotent. */
export async function teardownHost(): Promise<void> {
  let before: HostBefore | undefined;
  try {
    before = JSON.parse(readFileSync(MARKER, 'utf8')) as HostBefore;
  } catch {
    before = undefined;
  }
  // A run that died left its containers running (containerd and kubelet die with their parent, the
  // shims and what they run do not): they must go before their mounts and cgroups can.
  await killLeftovers();
  await unmountUnder(KUBELET_ROOT);
  await unmountUnder(NODE_BASE);
  // Pod netns files (netns_mounts_under_state_dir) are gone with the mounts; the veths went with them.
  await run('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
  // Every hierarchy, not only those made here: kubelet also makes its tree in the cgroup2 one (hugetlb).
  for (const ctrl of readdirSync(CGROUP_FS)) removeCgroupTree(path.join(CGROUP_FS, ctrl, CGROUP_ROOT));
  for (const p of before?.created ?? []) rmSync(p, { recursive: true, force: true });
  // Made by the run that left the marker (prepareHost refuses a kubelet root it did not make).
  if (before) rmSync(KUBELET_ROOT, { recursive: true, force: true });
  rmSync(NODE_BASE, { recursive: true, force: true });
  if (before && readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== before.ipForward) {
    throw new Error(`net.ipv4.ip_forward changed during the run (was ${before.ipForward}): something wrote it`);
  }
}

/** PIDs of the node's processes: those in its cgroups, and containerd shims serving a socket of its. */
export function nodeProcesses(): number[] {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    try {
      for (const p of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
    } catch {
      // removed meanwhile
    }
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  for (const ctrl of readdirSync(CGROUP_FS)) walk(path.join(CGROUP_FS, ctrl, CGROUP_ROOT));
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('-address');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && at >= 0 && argv[at + 1]?.startsWith(`${NODE_BASE}/`)) pids.add(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

/** A process of a pod: its container (the id in its cgroup path, "" for none), its memory cgroup, its command line. */
export interface PodProcess {
  pid: number;
  containerID: string;
  /** the memory cgroup's directory under /sys/fs/cgroup/memory */
  memoryCgroup: string;
  exe: string;
  cmdline: string;
}

/** The processes in a pod's cgroups (kubelet's cgroupfs driver names them pod<uid>/<container id>). */
export function podProcesses(podUID: string): PodProcess[] {
  const found: PodProcess[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const memory = /^\d+:memory:(.+)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
      const at = memory?.split('/').indexOf(`pod${podUID}`) ?? -1;
      if (!memory || at < 0) continue;
      found.push({
        pid: Number(pid),
        containerID: memory.split('/')[at + 1] ?? '',
        memoryCgroup: path.join(CGROUP_FS, 'memory', memory),
        exe: path.basename(readlinkSync(`/proc/${pid}/exe`)),
        cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(),
      });
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

async function killLeftovers(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const pids = nodeProcesses();
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes of an earlier node would not die: ${pids.join(', ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const targets = mountsUnder(dir);
    if (targets.length === 0) return;
    for (const t of targets) await run('umount', ['-l', t]).catch(() => undefined);
  }
  throw new Error(`mounts under ${dir} would not go: ${mountsUnder(dir).join(', ')}`);
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(path.join(dir, entry.name));
  }
  // A cgroup directory goes with rmdir, its control files with it; one with processes in it stays (EBUSY).
  rmdirSync(dir);
}
