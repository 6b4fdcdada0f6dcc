// The device half of KubeVirt's cgroup manager (pkg/virt-handler/cgroup): a hotplugged block volume's
// device is allowed in the launcher pod's cgroup and denied again when it is unplugged. The cgroup is
// the launcher process's, as /proc/<pid>/cgroup names it, under the node's /sys/fs/cgroup.
// - cgroup v1: the one rule into devices.allow / devices.deny.
// - cgroup v2 (a node whose /sys/fs/cgroup is cgroup2): there is no such file, the allowlist is an
//   eBPF program, and a new one replaces the pod's whole list. So, as KubeVirt's v2Manager, the list
//   is rebuilt each time: KubeVirt's default rules, the devices the VMI needs (generateDeviceRulesForVMI)
//   and the hotplugged block devices allowed so far; `cgroup-device-filter` (virt-chroot
//   set-cgroups-resources) loads and attaches it.
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { forObject, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { devNumbers, type DeviceRules } from '../hotplug-disk/mounter.ts';

const execFileAsync = promisify(execFile);

/** statfs(2)'s f_type of a cgroup2 file system (CGROUP2_SUPER_MAGIC). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

export type CgroupVersion = 'v1' | 'v2';

export interface LauncherDeviceCgroupOptions {
  logger: Logger;
  /** A process of the VMI's launcher pod (its compute container); throws when there is none. */
  launcherPid(vmiUID: string): number;
  /** The node's cgroup file system (cgroupconsts.HostCgroupBasePath). */
  cgroupRoot: string;
  /** Whether a node without /dev/kvm may run VMIs (the KubeVirt CR's useEmulation). */
  allowEmulation(): boolean;
  /** The cgroup v2 program loader; `cgroup-device-filter` on PATH (the handler image's /usr/bin). */
  deviceFilterProgram?: string;
  procDir?: string;
}

/** A device rule, as devices.allow takes it: `b 7:3 rwm`; -1 is `*` (any). */
export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  permissions: string;
}

export const formatRule = (r: DeviceRule) => `${r.type} ${r.major < 0 ? '*' : r.major}:${r.minor < 0 ? '*' : r.minor} ${r.permissions}`;

const ruleKey = (r: DeviceRule) => `${r.type} ${r.major}:${r.minor}`;

/** The rule as devices.allow and devices.deny take it. */
export const blockDeviceRule = (major: number, minor: number) => formatRule({ type: 'b', major, minor, permissions: 'rwm' });

/** cgroups.IsCgroup2UnifiedMode, for the node's cgroup file system. */
export function cgroupVersion(cgroupRoot: string): CgroupVersion {
  return statfsSync(cgroupRoot).type === CGROUP2_SUPER_MAGIC ? 'v2' : 'v1';
}

/** managerPath: a housekeeping sub-cgroup's settings belong to its parent. */
export const managerPath = (cgroupPath: string) =>
  path.posix.basename(cgroupPath) === 'housekeeping' ? path.posix.dirname(cgroupPath) : cgroupPath;

/** A v1 controller's path in a /proc/<pid>/cgroup (`N:controller[,…]:/path`); undefined when no line names it. */
export function controllerCgroupPath(procCgroup: string, controller: string): string | undefined {
  for (const line of procCgroup.split('\n')) {
    const [, controllers, cgroupPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers?.split(',').includes(controller)) return cgroupPath;
  }
  return undefined;
}

/** The devices controller's path (v1); undefined on a cgroup v2 only host. */
export const devicesCgroupPath = (procCgroup: string) => controllerCgroupPath(procCgroup, 'devices');

/** The unified hierarchy's path in a /proc/<pid>/cgroup (`0::/path`), as managerPath trims it. */
export function unifiedCgroupPath(procCgroup: string): string | undefined {
  const found = /^0::(.*)$/m.exec(procCgroup)?.[1];
  return found === undefined ? undefined : managerPath(found);
}

/**
 * The cgroup directories a v2 rule list goes to: the launcher's, and for crun's `<pod>.scope/container`
 * layout its parent too (crun configures both).
 */
export function v2Targets(cgroupRoot: string, cgroupPath: string): string[] {
  const target = path.join(cgroupRoot, cgroupPath);
  const parent = path.dirname(target);
  return path.basename(target) === 'container' && parent.endsWith('.scope') ? [target, parent] : [target];
}

/** GenerateDefaultDeviceRules: ptmx, null, tun, vhost-net and the 16 pty majors. */
export function defaultDeviceRules(permissions: string): DeviceRule[] {
  const rules: DeviceRule[] = [
    { type: 'c', major: 5, minor: 2, permissions },
    { type: 'c', major: 1, minor: 3, permissions },
    { type: 'c', major: 10, minor: 200, permissions },
    { type: 'c', major: 10, minor: 238, permissions },
  ];
  for (let major = 136; major < 136 + 16; major++) rules.push({ type: 'c', major, minor: -1, permissions });
  return rules;
}

/** newAllowedDeviceRule: the device node at `file` (not followed), or undefined when it is not one. */
function deviceRule(file: string): DeviceRule | undefined {
  const st = lstatSync(file);
  if (!st.isBlockDevice() && !st.isCharacterDevice()) return undefined;
  return { type: st.isBlockDevice() ? 'b' : 'c', ...devNumbers(st.rdev), permissions: 'rwm' };
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** discoverDeviceRulesInDir: every device node under `dir`, recursively; none when it does not exist. */
function devicesIn(dir: string): DeviceRule[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  return entries.flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return devicesIn(file);
    const rule = deviceRule(file);
    return rule ? [rule] : [];
  });
}

/**
 * generateDeviceRulesForVMI (cgroup v2, so every permission is rwm): the pod's block volumes at
 * /dev/<volume> (claims and data volumes that are not hotpluggable, ephemeral volumes), /dev/urandom
 * for an RNG, /dev/vhost-vsock for an auto-attached vsock, the hypervisor device (which only an
 * emulating cluster may lack), and everything under /dev/vfio and /dev/bus/usb; `mountRoot` is the
 * launcher's root (/proc/<pid>/root).
 */
export function vmiDeviceRules(vmi: VirtualMachineInstance | undefined, mountRoot: string, allowEmulation: boolean): DeviceRule[] {
  const rules: DeviceRule[] = [];
  const add = (devPath: string, optional: boolean) => {
    try {
      const rule = deviceRule(path.join(mountRoot, devPath));
      if (rule) rules.push(rule);
    } catch (err) {
      if (!(optional && isMissing(err))) throw new Error(`failed to resolve path for ${devPath}: ${String(err)}`, { cause: err });
    }
  };
  for (const volume of vmi?.spec.volumes ?? []) {
    const claim = volume.persistentVolumeClaim ?? volume.dataVolume;
    if ((claim && !claim.hotpluggable) || volume.ephemeral) add(path.join('/dev', volume.name), true);
  }
  if (vmi?.spec.domain.devices?.rng) add('/dev/urandom', false);
  if (vmi?.spec.domain.devices?.autoattachVSOCK) add('/dev/vhost-vsock', false);
  add('/dev/kvm', allowEmulation);
  for (const dir of ['/dev/vfio', '/dev/bus/usb']) rules.push(...devicesIn(path.join(mountRoot, dir)));
  return rules;
}

export class LauncherDeviceCgroup implements DeviceRules {
  readonly #o: LauncherDeviceCgroupOptions;
  /** v2: per VMI, the hotplugged block devices allowed (true) or denied (false) since the handler started. */
  readonly #hotplugged = new Map<string, Map<string, DeviceRule & { allow: boolean }>>();
  /** v2: the VMI each launcher was last seen with, for a deny that comes with its UID only. */
  readonly #vmis = new Map<string, VirtualMachineInstance>();

  constructor(o: LauncherDeviceCgroupOptions) {
    this.#o = o;
  }

  async allow(vmi: VirtualMachineInstance, major: number, minor: number): Promise<void> {
    await this.#set(vmi.metadata.uid, vmi, major, minor, true);
  }

  async deny(vmiUID: string, major: number, minor: number): Promise<void> {
    await this.#set(vmiUID, this.#vmis.get(vmiUID), major, minor, false);
  }

  async #set(uid: string, vmi: VirtualMachineInstance | undefined, major: number, minor: number, allow: boolean): Promise<void> {
    const log = vmi ? forObject(this.#o.logger, vmi) : this.#o.logger.child({ uid });
    let pid: number;
    try {
      pid = this.#o.launcherPid(uid);
    } catch (err) {
      this.#forget(uid);
      if (!allow) return; // the launcher is gone, and its cgroup with it
      throw err;
    }
    const rule = blockDeviceRule(major, minor);
    const version = cgroupVersion(this.#o.cgroupRoot);
    const procCgroup = readFileSync(path.join(this.#procDir, String(pid), 'cgroup'), 'utf8');
    try {
      if (version === 'v1') this.#setV1(procCgroup, rule, allow, log);
      else await this.#setV2(uid, vmi, pid, procCgroup, { type: 'b', major, minor, permissions: 'rwm' }, allow, log);
    } catch (err) {
      log.error({ reason: String(err) }, `cgroup ${version} had failed to set device rule. rule: ${rule}`);
      throw new Error(`failed to apply device rule ${rule}: ${String(err)}`, { cause: err });
    }
    if (allow) log.info(`cgroup ${version} device rule is set successfully. rule: ${rule}`);
  }

  #setV1(procCgroup: string, rule: string, allow: boolean, log: Logger): void {
    const cgroupPath = devicesCgroupPath(procCgroup);
    if (cgroupPath === undefined) {
      throw new Error('no devices cgroup controller: /proc/<pid>/cgroup names none, and the node’s cgroup file system is not cgroup v2');
    }
    if (cgroupPath === '/') {
      if (allow) log.info(`the launcher is in the root devices cgroup, which allows every device: rule ${rule} not needed`);
      return;
    }
    writeFileSync(path.join(this.#o.cgroupRoot, 'devices', cgroupPath, allow ? 'devices.allow' : 'devices.deny'), rule);
  }

  async #setV2(
    uid: string,
    vmi: VirtualMachineInstance | undefined,
    pid: number,
    procCgroup: string,
    rule: DeviceRule,
    allow: boolean,
    log: Logger,
  ): Promise<void> {
    const cgroupPath = unifiedCgroupPath(procCgroup);
    if (cgroupPath === undefined) throw new Error(`the launcher (pid ${pid}) is in no cgroup v2 group`);
    if (cgroupPath === '/') {
      if (allow) log.info(`the launcher is in the root cgroup, which allows every device: rule ${formatRule(rule)} not needed`);
      return;
    }
    if (vmi) this.#vmis.set(uid, vmi);
    const hotplugged = this.#hotplugged.get(uid) ?? new Map<string, DeviceRule & { allow: boolean }>();
    this.#hotplugged.set(uid, hotplugged);
    hotplugged.set(ruleKey(rule), { ...rule, allow });
    // addCurrentRules: the requested rules first, then the current ones for other devices
    const base = [
      ...vmiDeviceRules(vmi, path.join(this.#procDir, String(pid), 'root'), this.#o.allowEmulation()),
      ...defaultDeviceRules('rwm'),
    ];
    const allowed = [...hotplugged.values()].filter((r) => r.allow);
    const rules = [...allowed, ...base.filter((r) => !hotplugged.has(ruleKey(r)))].map(formatRule);
    const unique = [...new Set(rules)];
    log.debug({ rules: unique }, 'cgroupsv2 device allowlist');
    for (const dir of v2Targets(this.#o.cgroupRoot, cgroupPath)) {
      const { stdout } = await execFileAsync(this.#o.deviceFilterProgram ?? 'cgroup-device-filter', [dir, ...unique]).catch(
        (err: unknown) => {
          const e = err as { stderr?: string };
          throw new Error(e.stderr?.trim() || String(err), { cause: err });
        },
      );
      // another program beside ours (attached meanwhile) would narrow the list: all must allow
      if (stdout.trim() !== '1') log.warn(`${stdout.trim()} device programs on ${dir} after replacing them with one`);
    }
  }

  #forget(uid: string): void {
    this.#hotplugged.delete(uid);
    this.#vmis.delete(uid);
  }

  get #procDir(): string {
    return this.#o.procDir ?? '/proc';
  }
}
