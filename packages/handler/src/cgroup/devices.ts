// The device half of KubeVirt's cgroup manager (pkg/virt-handler/cgroup, v1): a hotplugged block
// volume's device is allowed in the launcher's devices cgroup (`b <major>:<minor> rwm` into
// devices.allow) and denied again when it is unplugged. The cgroup is the launcher process's, as
// /proc/<pid>/cgroup names it, under the node's /sys/fs/cgroup.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { forObject, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { DeviceRules } from '../hotplug-disk/mounter.ts';

export interface LauncherDeviceCgroupOptions {
  logger: Logger;
  /** A process of the VMI's launcher pod (its compute container); throws when there is none. */
  launcherPid(vmiUID: string): number;
  /** The node's cgroup file system (cgroupconsts.HostCgroupBasePath). */
  cgroupRoot: string;
  procDir?: string;
}

/**
 * The devices controller's path in a /proc/<pid>/cgroup (v1: `N:devices:/path`, possibly among other
 * controllers of the same hierarchy); undefined on a cgroup v2 only host.
 */
export function devicesCgroupPath(procCgroup: string): string | undefined {
  for (const line of procCgroup.split('\n')) {
    const [, controllers, cgroupPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers?.split(',').includes('devices')) return cgroupPath;
  }
  return undefined;
}

/** The rule as devices.allow and devices.deny take it. */
export const blockDeviceRule = (major: number, minor: number) => `b ${major}:${minor} rwm`;

export class LauncherDeviceCgroup implements DeviceRules {
  readonly #o: LauncherDeviceCgroupOptions;

  constructor(o: LauncherDeviceCgroupOptions) {
    this.#o = o;
  }

  async allow(vmi: VirtualMachineInstance, major: number, minor: number): Promise<void> {
    const log = forObject(this.#o.logger, vmi);
    const dir = this.#devicesDir(this.#o.launcherPid(vmi.metadata.uid));
    const rule = blockDeviceRule(major, minor);
    if (dir === undefined) {
      log.info(`the launcher is in the root devices cgroup, which allows every device: rule ${rule} not needed`);
      return;
    }
    try {
      writeFileSync(path.join(dir, 'devices.allow'), rule);
    } catch (err) {
      log.error({ reason: String(err) }, `cgroup v1 had failed to set device rule. rule: ${rule}`);
      throw new Error(`failed to apply device rule ${rule} in ${dir}: ${String(err)}`, { cause: err });
    }
    log.info(`cgroup v1 device rule is set successfully. rule: ${rule}`);
  }

  async deny(vmiUID: string, major: number, minor: number): Promise<void> {
    let pid: number;
    try {
      pid = this.#o.launcherPid(vmiUID);
    } catch {
      return; // the launcher is gone, and its cgroup with it
    }
    const dir = this.#devicesDir(pid);
    if (dir !== undefined) writeFileSync(path.join(dir, 'devices.deny'), blockDeviceRule(major, minor));
  }

  /** The launcher's devices cgroup directory; undefined for the root cgroup (nothing is denied there). */
  #devicesDir(pid: number): string | undefined {
    const text = readFileSync(path.join(this.#o.procDir ?? '/proc', String(pid), 'cgroup'), 'utf8');
    const cgroupPath = devicesCgroupPath(text);
    if (cgroupPath === undefined) {
      throw new Error('no devices cgroup controller (cgroup v2): device rules for block hotplug volumes need cgroup v1');
    }
    if (cgroupPath === '/') return undefined;
    return path.join(this.#o.cgroupRoot, 'devices', cgroupPath);
  }
}
