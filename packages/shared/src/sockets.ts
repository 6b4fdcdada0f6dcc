// KubeVirt's directories, socket names and their layout (pkg/util/util.go, pkg/virt-handler/cmd-client,
// notify-server, cache/ghost records, pkg/network/cache). Every directory argument defaults to
// KubeVirt's own, and is a parameter only because both binaries take it as a flag.
import { posix } from 'node:path';

/** util.NonRootUID: the qemu user KubeVirt gives the launcher's files and, for non-root VMIs, runs as. */
export const QEMU_UID = 107;

export const VirtShareDir = '/var/run/kubevirt';
export const VirtPrivateDir = '/var/run/kubevirt-private';
export const EphemeralDiskDir = '/var/run/kubevirt-ephemeral-disks';
export const ContainerDiskDir = `${VirtShareDir}/container-disks`;
export const HotplugDiskDir = `${VirtShareDir}/hotplug-disks`;
/** pkg/virtiofs: the emptyDir virt-controller adds for a VMI with virtiofs filesystems */
export const VirtioFSContainers = 'virtiofs-containers';
/** Where the compute container and each virtiofs container mount it (always under util.VirtShareDir). */
export const VirtioFSContainersMountBaseDir = `${VirtShareDir}/${VirtioFSContainers}`;

/** virtiofs.VirtioFSSocketPath: the vhost-user socket the `virtiofs-<volume>` container serves. */
export function virtioFSSocketPath(volumeName: string): string {
  return posix.join(VirtioFSContainersMountBaseDir, `${volumeName}.sock`);
}
/** pkg/util KubeletRoot. */
export const KubeletRoot = '/var/lib/kubelet';
export const KubeletPodsDir = `${KubeletRoot}/pods`;
/** Where virt-handler's DaemonSet mounts the host's KubeletPodsDir. */
export const HandlerPodsBaseDir = '/pods';

export const StandardLauncherSocketFileName = 'launcher-sock';
export const StandardInitLauncherSocketFileName = 'launcher-init-sock';
export const StandardLauncherUnresponsiveFileName = 'launcher-unresponsive';
/** The handler's notify server, in the handler's share dir. */
export const DomainNotifySocketFileName = 'domain-notify.sock';
/** The proxy the handler plants in the launcher's share dir; the launcher dials it. */
export const DomainNotifyPipeSocketFileName = 'domain-notify-pipe.sock';

/** `<shareDir>/sockets`, the pod emptyDir volume named `sockets` (cmdclient.SocketsDirectory). */
export function socketsDirectory(shareDir: string = VirtShareDir): string {
  return posix.join(shareDir, 'sockets');
}

/** The launcher listens here while it initialises, then renames it to launcherSocketPath. */
export function launcherInitSocketPath(shareDir: string = VirtShareDir): string {
  return posix.join(socketsDirectory(shareDir), StandardInitLauncherSocketFileName);
}

export function launcherSocketPath(shareDir: string = VirtShareDir): string {
  return posix.join(socketsDirectory(shareDir), StandardLauncherSocketFileName);
}

/** The marker the handler's watchdog touches beside a launcher socket it gave up on. */
export function launcherUnresponsivePath(socketPath: string): string {
  return posix.join(posix.dirname(socketPath), StandardLauncherUnresponsiveFileName);
}

export function domainNotifySocketPath(shareDir: string = VirtShareDir): string {
  return posix.join(shareDir, DomainNotifySocketFileName);
}

export function domainNotifyPipeSocketPath(shareDir: string = VirtShareDir): string {
  return posix.join(shareDir, DomainNotifyPipeSocketFileName);
}

/** cmdclient.SocketDirectoryOnHost: `<podsBaseDir>/<podUID>/volumes/kubernetes.io~empty-dir/sockets`. */
export function socketDirectoryOnHost(podUID: string, podsBaseDir: string = HandlerPodsBaseDir): string {
  return posix.join(podsBaseDir, podUID, 'volumes', 'kubernetes.io~empty-dir', 'sockets');
}

/** cmdclient.SocketFilePathOnHost: the launcher-sock of one launcher pod as the handler sees it. */
export function socketFilePathOnHost(podUID: string, podsBaseDir: string = HandlerPodsBaseDir): string {
  return posix.join(socketDirectoryOnHost(podUID, podsBaseDir), StandardLauncherSocketFileName);
}

/** Where the handler checkpoints `{name, namespace, socketFile, uid}` per VMI. */
export function ghostRecordDir(privateDir: string = VirtPrivateDir): string {
  return posix.join(privateDir, 'ghost-records');
}

export function ghostRecordPath(vmiUID: string, privateDir: string = VirtPrivateDir): string {
  return posix.join(ghostRecordDir(privateDir), vmiUID);
}

/** The handler's pod interface cache, one directory per VMI. */
export function networkInfoCacheBaseDir(privateDir: string = VirtPrivateDir): string {
  return posix.join(privateDir, 'network-info-cache');
}

/** The handler's per-VMI pod interface cache; one file per interface name inside. */
export function networkInfoCacheDir(vmiUID: string, privateDir: string = VirtPrivateDir): string {
  return posix.join(networkInfoCacheBaseDir(privateDir), vmiUID);
}

/** `<privateDir>/<vmiUID>`: holds the serial console, VNC and usbredir sockets; must exist before start. */
export function vmiPrivateDir(vmiUID: string, privateDir: string = VirtPrivateDir): string {
  return posix.join(privateDir, vmiUID);
}

export function serialConsoleSocketPath(vmiUID: string, index = 0, privateDir: string = VirtPrivateDir): string {
  return posix.join(vmiPrivateDir(vmiUID, privateDir), `virt-serial${index}`);
}

export function vncSocketPath(vmiUID: string, privateDir: string = VirtPrivateDir): string {
  return posix.join(vmiPrivateDir(vmiUID, privateDir), 'virt-vnc');
}

/** config.SecretSourceDir: where virt-controller mounts secrets in the compute container. */
export const SecretSourceDir = `${VirtPrivateDir}/secret`;

/** downwardmetrics.DownwardMetricsChannelDir: where QEMU binds the downward metrics channel's socket. */
export const DownwardMetricsChannelDir = `${VirtPrivateDir}/downwardmetrics-channel`;
/** downwardmetrics.DownwardMetricsChannelSocket, which virt-handler's DownwardMetrics server connects to. */
export const DownwardMetricsChannelSocket = `${DownwardMetricsChannelDir}/downwardmetrics.sock`;
/** downwardmetrics.DownwardMetricsSerialDeviceName: the guest's name for the port (vhostmd's). */
export const DownwardMetricsSerialDeviceName = 'org.github.vhostmd.1';

/** v1.UsbClientPassthroughMaxNumberOf: the usbredir slots a VMI with clientPassthrough has (virt-usbredir-0 … -3). */
export const UsbClientPassthroughMaxNumberOf = 4;

/** The socket QEMU's usb-redir device listens on for one slot (handler's getUnixSocketPath "virt-usbredir-<slot>"). */
export function usbRedirSocketPath(vmiUID: string, slot: number, privateDir: string = VirtPrivateDir): string {
  return posix.join(vmiPrivateDir(vmiUID, privateDir), `virt-usbredir-${slot}`);
}

/**
 * `path` inside process `pid`'s mount namespace: `/proc/<pid>/root<path>`. A leading `/var/run` becomes
 * `/run`: /var/run is an absolute symlink to /run, and through /proc/<pid>/root an absolute symlink
 * resolves against the caller's root, which would land in the caller's own /run.
 */
export function pathInProcRoot(pid: number, path: string): string {
  if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`not a process id: ${pid}`);
  if (!path.startsWith('/')) throw new RangeError(`path must be absolute: ${JSON.stringify(path)}`);
  const clean = posix.normalize(path);
  const inside = clean === '/var/run' || clean.startsWith('/var/run/') ? clean.slice('/var'.length) : clean;
  return `/proc/${pid}/root${inside === '/' ? '' : inside}`;
}

/** sun_path holds 108 bytes including the terminating NUL. */
export const MaxSocketPathBytes = 107;

export function assertSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > MaxSocketPathBytes) {
    throw new RangeError(`unix socket path is ${bytes} bytes, longer than the ${MaxSocketPathBytes} a sockaddr_un can hold: ${path}`);
  }
}
