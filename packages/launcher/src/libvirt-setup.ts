// SetupLibvirt / StartLibvirt / StartVirtlog: libvirt's configuration as KubeVirt's launcher writes it
// in its container, and the two daemons as supervised children.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ProcessSupervisor } from './process-supervisor.ts';

/** cmd/virt-launcher/qemu.conf, as root (KubeVirt's non-root mode runs qemu as uid 107). */
export function qemuConf(opts: { hugepagesDir?: string } = {}): string {
  return [
    'stdio_handler = "logd"',
    'vnc_listen = "0.0.0.0"',
    'vnc_tls = 0',
    'vnc_sasl = 0',
    'user = "root"',
    'group = "root"',
    'dynamic_ownership = 1',
    'remember_owner = 0',
    // we are in a container: no namespaces or cgroups of libvirt's own, no SELinux/AppArmor labels
    'namespaces = [ ]',
    'cgroup_controllers = [ ]',
    'security_driver = "none"',
    ...(opts.hugepagesDir ? [`hugetlbfs_mount = "${opts.hugepagesDir}"`] : []),
    '',
  ].join('\n');
}

/** libvirtd logs to stderr, which the supervisor forwards into our structured log. */
export function libvirtdConf(opts: { debug?: boolean } = {}): string {
  return [
    'listen_tls = 0',
    'listen_tcp = 0',
    opts.debug
      ? 'log_filters = "3:remote 4:event 3:util.json 3:util.object 3:util.dbus 3:util.netlink 3:node_device 3:rpc 3:access 1:*"'
      : 'log_filters = "3:*"',
    'log_outputs = "1:stderr"',
    '',
  ].join('\n');
}

export function setupLibvirt(opts: { configDir?: string; debug?: boolean } = {}): void {
  const dir = opts.configDir ?? '/etc/libvirt';
  mkdirSync(dir, { recursive: true });
  const hugepagesDir = existsSync('/dev/hugepages') ? '/dev/hugepages' : undefined;
  writeFileSync(path.join(dir, 'qemu.conf'), qemuConf(hugepagesDir ? { hugepagesDir } : {}));
  writeFileSync(path.join(dir, 'libvirtd.conf'), libvirtdConf(opts));
  writeFileSync(path.join(dir, 'virtlogd.conf'), 'log_outputs = "1:stderr"\n');
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, cmd)));
}

export function startLibvirt(logger: Logger): ProcessSupervisor {
  // Under a child subreaper (virt-launcher-monitor's role in KubeVirt) qemu is reaped at once on
  // destroy; without one libvirt waits for the host's init to reap it.
  const [command, args] = onPath('tini') ? ['tini', ['-s', '--', 'libvirtd']] : ['libvirtd', []];
  const supervisor = new ProcessSupervisor({ name: 'libvirtd', command, args, logger });
  supervisor.start();
  return supervisor;
}

export function startVirtlog(logger: Logger): ProcessSupervisor {
  const supervisor = new ProcessSupervisor({ name: 'virtlogd', command: 'virtlogd', args: [], logger });
  supervisor.start();
  return supervisor;
}
