// SetupLibvirt / StartLibvirt / StartVirtlog (virtwrap/util/libvirt_helper.go): libvirt's configuration
// where KubeVirt's launcher keeps it in its container, and the two daemons as supervised children.
// KubeVirt runs the modular virtqemud; Debian 12's libvirt has only libvirtd, which takes the same
// daemon configuration, so ours is `/var/run/libvirt/libvirtd.conf` where KubeVirt's is
// `/var/run/libvirt/virtqemud.conf`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { VirtPrivateDir } from '@kubevirt-ts/shared';
import type { LauncherEnv } from './flags.ts';
import { ProcessSupervisor } from './process-supervisor.ts';

/** The image's /etc/libvirt: qemu.conf and virtlogd.conf. */
export const LIBVIRT_ETC_DIR = '/etc/libvirt';
/** The libvirt-runtime emptyDir: the daemon's runtime configuration, sockets, pid files. */
export const LIBVIRT_RUNTIME_DIR = '/var/run/libvirt';
/**
 * Non-root: libvirt's home in the private emptyDir ($XDG_CONFIG_HOME/libvirt with virt-controller's
 * XDG_CONFIG_HOME), where the session daemon reads qemu.conf and keeps domains, logs and caches.
 */
export const LIBVIRT_HOME_DIR = `${VirtPrivateDir}/libvirt`;

/** util.EXT_LOG_VERBOSITY_THRESHOLD: from this launcher verbosity on, libvirt logs at debug level. */
export const EXT_LOG_VERBOSITY_THRESHOLD = 5;

/**
 * cmd/virt-launcher/qemu.conf; as root QEMU runs as root, non-root (a session daemon) as the launcher's
 * own user, so no user or group is named.
 */
export function qemuConf(
  opts: { hugepagesDir?: string; virtiofsdDebug?: boolean; sharedFilesystemPaths?: string; nonRoot?: boolean } = {},
): string {
  const lines = [
    'stdio_handler = "logd"',
    'vnc_listen = "0.0.0.0"',
    'vnc_tls = 0',
    'vnc_sasl = 0',
    ...(opts.nonRoot ? [] : ['user = "root"', 'group = "root"']),
    'dynamic_ownership = 1',
    'remember_owner = 0',
    // we are in a container: no namespaces or cgroups of libvirt's own, no SELinux/AppArmor labels
    'namespaces = [ ]',
    'cgroup_controllers = [ ]',
    'security_driver = "none"',
  ];
  // configureQemuConf's additions
  if (opts.hugepagesDir) lines.push(`hugetlbfs_mount = "${opts.hugepagesDir}"`);
  if (opts.virtiofsdDebug) lines.push('virtiofsd_debug = 1');
  if (opts.sharedFilesystemPaths !== undefined) {
    lines.push(`shared_filesystems = [ "${opts.sharedFilesystemPaths.split(':').join('", "')}" ]`);
  }
  return `${lines.join('\n')}\n`;
}

/** cmd/virt-launcher/virtqemud.conf plus the debug log filters when they are on. */
export function libvirtdConf(opts: { logFilters?: string | undefined } = {}): string {
  return [
    'listen_tls = 0',
    'listen_tcp = 0',
    'log_outputs = "1:stderr"',
    ...(opts.logFilters !== undefined ? [`log_filters="${opts.logFilters}"`] : []),
    '',
  ].join('\n');
}

const LOGS_LEVEL4 = '3:remote 4:event 3:util.json 3:util.object 3:util.dbus 3:util.netlink 3:node_device 3:rpc 3:access';
const LOGS_LEVEL3 = `${LOGS_LEVEL4} 3:util.threadjob 3:cpu.cpu`;
const LOGS_LEVEL2 = `${LOGS_LEVEL3} 3:qemu.qemu_monitor`;
const LOGS_LEVEL1 = `${LOGS_LEVEL2} 3:qemu.qemu_monitor_json 3:conf.domain_addr`;

/**
 * getLibvirtLogFilters: `--libvirt-log-filters` when given; else debug filters from the launcher's
 * verbosity (VIRT_LAUNCHER_LOG_VERBOSITY ≥ 5, the higher the fewer categories held back), or the
 * most verbose ones when only LIBVIRT_DEBUG_LOGS is set; undefined: libvirt's default logging.
 */
export function libvirtLogFilters(
  customLogFilters: string,
  logVerbosity: string | undefined,
  debugLogs: boolean,
  logger?: Pick<Logger, 'info'>,
): string | undefined {
  if (customLogFilters !== '') return customLogFilters;
  let verbosity = -1;
  if (logVerbosity !== undefined) {
    // strconv.Atoi
    if (/^[+-]?\d+$/.test(logVerbosity)) verbosity = Number(logVerbosity);
    else logger?.info(`cannot apply VIRT_LAUNCHER_LOG_VERBOSITY value ${logVerbosity} - must be a number`);
  }
  if (verbosity < EXT_LOG_VERBOSITY_THRESHOLD) {
    if (!debugLogs) return undefined;
    verbosity = EXT_LOG_VERBOSITY_THRESHOLD + 5;
  }
  const byLevel = [LOGS_LEVEL1, LOGS_LEVEL2, LOGS_LEVEL3];
  return `${byLevel[verbosity - EXT_LOG_VERBOSITY_THRESHOLD] ?? LOGS_LEVEL4} 1:*`;
}

export interface SetupLibvirtOptions {
  etcDir?: string;
  runtimeDir?: string;
  homeDir?: string;
  /**
   * `--run-as-nonroot`: nothing is written to /etc (the image's, read-only to uid 107); qemu.conf goes
   * to libvirt's home in the private dir and virtlogd's configuration to the runtime dir.
   */
  nonRoot?: boolean;
  /** `--libvirt-log-filters` ('' when not given). */
  customLogFilters?: string;
  /** VIRT_LAUNCHER_LOG_VERBOSITY as given. */
  logVerbosity?: string | undefined;
  /** LIBVIRT_DEBUG_LOGS is set (to anything). */
  libvirtDebugLogs?: boolean;
  /** VIRTIOFSD_DEBUG_LOGS is "1". */
  virtiofsdDebugLogs?: boolean;
  /** SHARED_FILESYSTEM_PATHS, colon-separated. */
  sharedFilesystemPaths?: string | undefined;
  logger?: Pick<Logger, 'info'>;
}

export interface LibvirtConfig {
  /** The daemon's configuration file, for `libvirtd -f`. */
  daemonConf: string;
  /** virtlogd's, for `virtlogd -f`. */
  virtlogdConf: string;
  /** The log filters written, if any. */
  logFilters: string | undefined;
}

/** What the compute container's environment asks of libvirt's configuration, read as KubeVirt reads it. */
export function libvirtEnvOptions(
  env: LauncherEnv,
): Pick<SetupLibvirtOptions, 'logVerbosity' | 'libvirtDebugLogs' | 'virtiofsdDebugLogs' | 'sharedFilesystemPaths'> {
  return {
    logVerbosity: env.VIRT_LAUNCHER_LOG_VERBOSITY,
    libvirtDebugLogs: env.LIBVIRT_DEBUG_LOGS !== undefined,
    virtiofsdDebugLogs: env.VIRTIOFSD_DEBUG_LOGS === '1',
    sharedFilesystemPaths: env.SHARED_FILESYSTEM_PATHS,
  };
}

export function setupLibvirt(opts: SetupLibvirtOptions = {}): LibvirtConfig {
  const runtimeDir = opts.runtimeDir ?? LIBVIRT_RUNTIME_DIR;
  const qemuConfDir = opts.nonRoot ? (opts.homeDir ?? LIBVIRT_HOME_DIR) : (opts.etcDir ?? LIBVIRT_ETC_DIR);
  const virtlogdConfDir = opts.nonRoot ? runtimeDir : (opts.etcDir ?? LIBVIRT_ETC_DIR);
  for (const dir of new Set([qemuConfDir, virtlogdConfDir, runtimeDir])) mkdirSync(dir, { recursive: true });
  const hugepagesDir = existsSync('/dev/hugepages') ? '/dev/hugepages' : undefined;
  writeFileSync(
    path.join(qemuConfDir, 'qemu.conf'),
    qemuConf({
      ...(opts.nonRoot ? { nonRoot: true } : {}),
      ...(hugepagesDir ? { hugepagesDir } : {}),
      ...(opts.virtiofsdDebugLogs ? { virtiofsdDebug: true } : {}),
      ...(opts.sharedFilesystemPaths !== undefined ? { sharedFilesystemPaths: opts.sharedFilesystemPaths } : {}),
    }),
  );
  const logFilters = libvirtLogFilters(opts.customLogFilters ?? '', opts.logVerbosity, opts.libvirtDebugLogs ?? false, opts.logger);
  if (logFilters !== undefined) opts.logger?.info(`Enabling libvirt log filters: ${logFilters}`);
  const daemonConf = path.join(runtimeDir, 'libvirtd.conf');
  writeFileSync(daemonConf, libvirtdConf({ logFilters }));
  const virtlogdConf = path.join(virtlogdConfDir, 'virtlogd.conf');
  writeFileSync(virtlogdConf, 'log_outputs = "1:stderr"\n');
  return { daemonConf, virtlogdConf, logFilters };
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, cmd)));
}

export function startLibvirt(logger: Logger, config: Pick<LibvirtConfig, 'daemonConf'>): ProcessSupervisor {
  // Under a child subreaper (virt-launcher-monitor's role in KubeVirt) qemu is reaped at once on
  // destroy; without one libvirt waits for the host's init to reap it.
  const daemon = ['libvirtd', '-f', config.daemonConf];
  const [command, args] = onPath('tini') ? ['tini', ['-s', '--', ...daemon]] : [daemon[0] as string, daemon.slice(1)];
  const supervisor = new ProcessSupervisor({ name: 'libvirtd', command, args, logger });
  supervisor.start();
  return supervisor;
}

export function startVirtlog(logger: Logger, config: Pick<LibvirtConfig, 'virtlogdConf'>): ProcessSupervisor {
  const supervisor = new ProcessSupervisor({ name: 'virtlogd', command: 'virtlogd', args: ['-f', config.virtlogdConf], logger });
  supervisor.start();
  return supervisor;
}
