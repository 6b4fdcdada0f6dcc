// KubeVirt's isolation detector, for the containers that serve a containerDisk: which process listens
// on a socket, and where that process's root filesystem (or another of its mounts) is in the node's
// mount namespace (isolation.ParentPathForRootMount, ParentPathForMount), so a file in it can be
// bind-mounted from there: a containerDisk's image, a hotplug attachment pod's volume.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** One line of /proc/<pid>/mountinfo (proc(5)). */
export interface MountInfo {
  major: number;
  minor: number;
  /** The mounted directory within its filesystem. */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const [major, minor] = (fields[2] ?? '').split(':').map(Number);
    if (dash < 6 || major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) {
      throw new Error(`malformed mountinfo line: ${line}`);
    }
    mounts.push({
      major,
      minor,
      root: unescapeOctal(fields[3] ?? ''),
      mountPoint: unescapeOctal(fields[4] ?? ''),
      fsType: fields[dash + 1] ?? '',
      source: unescapeOctal(fields[dash + 2] ?? ''),
    });
  }
  return mounts;
}

/**
 * ParentPathForRootMount: the path, in the parent's (the node's) mount namespace, of the child's root
 * filesystem.
 */
export function parentPathForRootMount(parent: readonly MountInfo[], child: readonly MountInfo[]): string {
  return parentPathForMount(parent, child, '/');
}

/**
 * ParentPathForMount: the path, in the parent's (the node's) mount namespace, of what the child has
 * mounted at `target`. The child's topmost mount there names a device and a directory in it; a parent
 * mount of the same device whose root contains that directory shows it (the deepest such root wins).
 */
export function parentPathForMount(parent: readonly MountInfo[], child: readonly MountInfo[], target: string): string {
  const mount = child.findLast((m) => m.mountPoint === target);
  if (!mount) throw new Error(target === '/' ? 'no mount on / in the container' : `no mount on ${target} in the container`);
  const candidates = parent
    .filter((m) => m.major === mount.major && m.minor === mount.minor && isWithin(mount.root, m.root))
    .sort((a, b) => b.root.length - a.root.length);
  const best = candidates[0];
  if (!best) throw new Error(`no mount containing ${mount.root} found in the mount namespace of the node`);
  return path.posix.join(best.mountPoint, path.posix.relative(best.root, mount.root));
}

function isWithin(p: string, dir: string): boolean {
  return dir === '/' || p === dir || p.startsWith(`${dir}/`);
}

/** True when `target` (a path of the given namespace) is a mount point there. */
export function isMountPoint(mounts: readonly MountInfo[], target: string): boolean {
  const t = path.posix.normalize(target);
  return mounts.some((m) => m.mountPoint === t);
}

export function readMountInfo(pid: number | 'self', procDir = '/proc'): MountInfo[] {
  return parseMountInfo(readFileSync(path.join(procDir, String(pid), 'mountinfo'), 'utf8'));
}

/**
 * The process serving the socket `socketOnHost`, which it bound at `pathInProcess` in its own root.
 * KubeVirt reads the peer's PID from the socket's credentials (SO_PEERCRED); Node cannot. So: a process
 * whose root shows that very socket file at that path, and which holds the listening socket bound there
 * (its network namespace's unix socket table, and its file descriptors). The root alone is not enough:
 * every containerDisk container of a pod sees the same volume, and all the sockets in it.
 */
export function findSocketProcess(socketOnHost: string, pathInProcess: string, procDir = '/proc'): number | undefined {
  const want = lstatSync(socketOnHost);
  for (const name of readdirSync(procDir)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const st = lstatSync(path.join(procDir, name, 'root', pathInProcess));
      if (st.dev !== want.dev || st.ino !== want.ino || !st.isSocket()) continue;
      if (listensOn(path.join(procDir, name), pathInProcess)) return Number(name);
    } catch {
      // gone meanwhile, or not in its root
    }
  }
  return undefined;
}

/** __SO_ACCEPTCON in /proc/net/unix's Flags: a listening socket. */
const LISTENING = '00010000';

function listensOn(procPid: string, boundPath: string): boolean {
  // Num RefCount Protocol Flags Type St Inode Path
  const inodes = new Set(
    readFileSync(path.join(procPid, 'net', 'unix'), 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === LISTENING && f[7] === boundPath)
      .map((f) => `socket:[${f[6]}]`),
  );
  if (inodes.size === 0) return false;
  const fdDir = path.join(procPid, 'fd');
  return readdirSync(fdDir).some((fd) => {
    try {
      return inodes.has(readlinkSync(path.join(fdDir, fd)));
    } catch {
      return false;
    }
  });
}
