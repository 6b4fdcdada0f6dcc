// The test bed's stand-in for the `virtiofs-<volume>` container virt-controller renders for each
// virtiofs filesystem (pkg/virt-controller/services/virtiofs.go): the launcher image's
// /usr/libexec/virtiofsd (packages/launcher/native/virtiofsd) with KubeVirt's arguments, serving the
// volume's files on /var/run/kubevirt/virtiofs-containers/<volume>.sock, as uid/gid 107 with every
// capability dropped, in a root of its own that holds only what the container's volume mounts give
// it: the virtiofs-containers emptyDir and the volume at KubeVirt's mount point for its kind.
//
// KubeVirt's image has the Rust virtiofsd, which Debian 12 does not ship (neither bookworm nor
// bookworm-backports); the image's /usr/libexec/virtiofsd runs Debian QEMU's C virtiofsd with
// KubeVirt's options translated, as root of a user namespace that maps 107 alone.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { virtioFSSocketPath } from '@kubevirt-ts/shared';
import { VIRTIOFS_VOLUME, type PodSandbox } from './pod-sandbox.ts';
import { poll } from './poll.ts';

/** Debian's QEMU virtiofsd (qemu-system-common), which the image's /usr/libexec/virtiofsd runs. */
export const C_VIRTIOFSD = '/usr/lib/qemu/virtiofsd';
/** The launcher image's /usr/libexec/virtiofsd (Dockerfile.launcher). */
export const VIRTIOFSD_PROGRAM = path.resolve(import.meta.dirname, '../../packages/launcher/native/virtiofsd');
/** util.NonRootUID: the virtiofs container's runAsUser and runAsGroup. */
const NON_ROOT_UID = 107;

/** The volume kinds KubeVirt mounts into a virtiofs container, as a VMI names them. */
export interface SharedVolume {
  name: string;
  persistentVolumeClaim?: object;
  dataVolume?: object;
  configMap?: object;
  secret?: object;
  serviceAccount?: object;
  downwardAPI?: object;
}

/** virtioFSMountPoint: where the virtiofs container has the volume (and what it shares). */
export function virtioFSMountPoint(volume: SharedVolume): string {
  if (volume.configMap) return `/var/run/kubevirt-private/config-map/${volume.name}`;
  if (volume.secret) return `/var/run/kubevirt-private/secret/${volume.name}`;
  if (volume.serviceAccount) return '/var/run/secrets/kubernetes.io/serviceaccount/';
  if (volume.downwardAPI) return `/var/run/kubevirt-private/downwardapi/${volume.name}`;
  return `/${volume.name}`;
}

/** The kubelet mounts configMap, secret, downward API and service account volumes read-only; a claim as it says. */
export function isReadOnlyVolume(volume: SharedVolume): boolean {
  const claim = (volume.persistentVolumeClaim ?? {}) as { readOnly?: boolean };
  return Boolean(volume.configMap || volume.secret || volume.downwardAPI || volume.serviceAccount || claim.readOnly);
}

/** The container's arguments to /usr/libexec/virtiofsd, as generateContainerFromVolume renders them. */
export function kubevirtVirtiofsdArgs(volume: SharedVolume): string[] {
  return [
    `--socket-path=${virtioFSSocketPath(volume.name)}`,
    `--shared-dir=${virtioFSMountPoint(volume)}`,
    '--sandbox=none',
    '--cache=auto',
    '--migration-on-error=guest-error',
    '--migration-mode=find-paths',
    ...(volume.serviceAccount ? [`--translate-uid=host:${NON_ROOT_UID}:0:1`] : []),
  ];
}

export interface VirtiofsContainer {
  /** virt-controller's container name, `virtiofs-<volume>` */
  readonly name: string;
  /** The vhost-user socket, on the host. */
  readonly socket: string;
  readonly process: ChildProcess;
  /** What the daemon printed. */
  output(): string;
  /** Ends it as the kubelet would (SIGTERM), waiting for it. */
  stop(): Promise<void>;
}

/**
 * Starts the virtiofs container of `volume` in `sandbox` (made with `virtiofs: true`), sharing
 * `source`, the host directory the kubelet would mount as that volume; resolves once it listens.
 * The sandbox's destroy() ends it too.
 */
export async function startVirtiofsContainer(
  sandbox: PodSandbox,
  volume: SharedVolume,
  source: string,
  opts: {
    /** as root on the node (a virtiofsd not in KubeVirt's securityContext): its socket is root's, 0700 */
    runAsRoot?: boolean;
  } = {},
): Promise<VirtiofsContainer> {
  if (!existsSync(C_VIRTIOFSD)) throw new Error(`${C_VIRTIOFSD} is missing: install qemu-system-x86 (scripts/setup)`);
  if (!statSync(source).isDirectory()) throw new Error(`virtiofs volume ${volume.name}: ${source} is not a directory`);
  const name = `virtiofs-${volume.name}`;
  const rootfs = path.join(sandbox.podDir, 'containers', name, 'rootfs');
  for (const dir of ['usr', 'proc', 'dev', 'run', 'var', 'etc']) mkdirSync(path.join(rootfs, dir), { recursive: true });
  // Debian's merged /usr, and /var/run as in any image
  for (const [link, to] of [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['var/run', '../run'],
  ] as const) {
    if (!existsSync(path.join(rootfs, link))) symlinkSync(to, path.join(rootfs, link));
  }
  const mountPoint = virtioFSMountPoint(volume);
  // As a container runtime does it: the root a mount of its own holding the image's /usr (read-only,
  // with the image's /usr/libexec/virtiofsd), proc, the pod's /dev, a /run of its own and the
  // container's volume mounts; pivot_root into it; then the container's user, every capability dropped.
  const script = [
    'set -e',
    'root=$1 src=$2 dst=$3 sockets=$4 uid=$5 ro=$6 program=$7; shift 7',
    'mount --bind "$root" "$root"',
    'mount --rbind /usr "$root/usr" && mount -o remount,bind,ro "$root/usr"',
    'mount -t tmpfs -o mode=0755 tmpfs "$root/usr/libexec" && cp "$program" "$root/usr/libexec/virtiofsd"',
    'mount -t proc proc "$root/proc"',
    'mount --rbind /dev "$root/dev"',
    'mount -t tmpfs -o mode=0755 tmpfs "$root/run"',
    // the C daemon's lock directory, /var/run/virtiofsd
    'mkdir "$root/run/virtiofsd" && chown "$uid:$uid" "$root/run/virtiofsd"',
    `mkdir -p "$root${VIRTIOFS_VOLUME.mountPath.replace(/^\/var\/run/, '/run')}"`,
    `mount --bind "$sockets" "$root${VIRTIOFS_VOLUME.mountPath.replace(/^\/var\/run/, '/run')}"`,
    'dst_in_root=$(echo "$dst" | sed "s|^/var/run/|/run/|")',
    'mkdir -p "$root$dst_in_root" && mount --bind "$src" "$root$dst_in_root"',
    '[ "$ro" = ro ] && mount -o remount,bind,ro "$root$dst_in_root"',
    'mkdir -p "$root/.oldroot" && cd "$root" && pivot_root . .oldroot && umount -l /.oldroot && rmdir /.oldroot && cd /',
    '[ "$uid" = 0 ] && exec "$@"',
    'exec setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"',
  ].join('\n');
  const child = sandbox.spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      script,
      'sh',
      rootfs,
      source,
      mountPoint,
      sandbox.volumePath('virtiofs-containers'),
      String(opts.runAsRoot ? 0 : NON_ROOT_UID),
      isReadOnlyVolume(volume) ? 'ro' : 'rw',
      VIRTIOFSD_PROGRAM,
      '/usr/libexec/virtiofsd',
      ...kubevirtVirtiofsdArgs(volume),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  sandbox.adopt(child);
  let output = '';
  const keep = (d: Buffer) => (output += d.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const socket = path.join(sandbox.volumePath('virtiofs-containers'), `${volume.name}.sock`);
  await poll(
    `${name} listening on ${socket}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited ${child.exitCode}: ${output.trim()}`);
      return existsSync(socket) ? true : undefined;
    },
    10_000,
  );
  return {
    name,
    socket,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
