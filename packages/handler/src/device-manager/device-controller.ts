// DeviceController (pkg/virt-handler/device-manager/device_controller.go): runs each device plugin in a loop
// that starts it again after it ends (the kubelet restarted) or fails (back-off 1, 2, 5, 10 s), and says
// whether all of them are registered; the heartbeat labels the node schedulable only then.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEVICE_PLUGINS_DIR } from '@kubevirt-ts/proto';
import { withReason, type Logger } from '@kubevirt-ts/shared';
import { cgroupVersion } from '../cgroup/devices.ts';
import { GenericDevicePlugin, type Device } from './generic-device.ts';

export const DefaultBackoffMs = [1000, 2000, 5000, 10_000];
/** util.HostRootMount: the host's / from the handler's pod (hostPID). */
export const HostRootMount = '/proc/1/root';

/**
 * HostRootMount when the handler can see through it (privileged, hostPID, as in its DaemonSet); else '/' — a
 * handler run on the host without ptrace rights (a test bed) sees the host's /dev directly.
 */
export function hostRootMount(): string {
  try {
    accessSync(path.join(HostRootMount, 'dev'), constants.R_OK);
    return HostRootMount;
  } catch {
    return '/';
  }
}
/** vm.go: "rwm" on cgroup v2 (runc's eBPF device filter otherwise denies access(2) on the node), else "rw". */
export function devicePermissions(cgroupRoot = '/sys/fs/cgroup'): string {
  try {
    return cgroupVersion(cgroupRoot) === 'v2' ? 'rwm' : 'rw';
  } catch {
    return 'rw';
  }
}

/** <kubelet-root>/device-plugins, where the kubelet's socket and every plugin's are. */
export function devicePluginPath(kubeletRoot: string): string {
  return path.join(kubeletRoot, DEVICE_PLUGINS_DIR);
}

export interface PermanentPluginsOptions {
  /** The hypervisor's device name (kvm). */
  hypervisorDevice: string;
  maxDevices: number;
  permissions: string;
  kubeletRoot: string;
  deviceRoot?: string;
  logger: Logger;
}

/** PermanentHostDevicePlugins: the hypervisor device, tun and vhost-net (those two opened first: module autoload). */
export function permanentHostDevicePlugins(o: PermanentPluginsOptions): GenericDevicePlugin[] {
  const paths: Array<[string, string]> = [
    [o.hypervisorDevice, `/dev/${o.hypervisorDevice}`],
    ['tun', '/dev/net/tun'],
    ['vhost-net', '/dev/vhost-net'],
  ];
  return paths.map(
    ([deviceName, devicePath]) =>
      new GenericDevicePlugin({
        deviceName,
        devicePath,
        maxDevices: o.maxDevices,
        permissions: o.permissions,
        preOpen: deviceName !== o.hypervisorDevice,
        devicePluginPath: devicePluginPath(o.kubeletRoot),
        deviceRoot: o.deviceRoot ?? hostRootMount(),
        logger: o.logger,
      }),
  );
}

/** NodeHasDevice: any error means no. */
export function nodeHasDevice(devicePath: string): boolean {
  try {
    statSync(devicePath);
    return true;
  } catch {
    return false;
  }
}

interface ControlledDevice {
  plugin: Device;
  stop: AbortController;
  done: Promise<void>;
}

export class DeviceController {
  readonly #logger: Logger;
  readonly #backoffMs: number[];
  readonly #permanent: Device[];
  readonly #started = new Map<string, ControlledDevice>();

  constructor(o: { logger: Logger; permanentPlugins: Device[]; backoffMs?: number[] }) {
    this.#logger = o.logger;
    this.#permanent = o.permanentPlugins;
    this.#backoffMs = o.backoffMs ?? DefaultBackoffMs;
  }

  /** Run: starts the permanent plugins. */
  run(): void {
    for (const dev of this.#permanent) this.#startDevice(dev);
  }

  /** Initialized: every started plugin is registered and serving. */
  initialized(): boolean {
    for (const { plugin } of this.#started.values()) if (!plugin.getInitialized()) return false;
    return true;
  }

  /** Stops every plugin (each sends an empty device list, stops its server, removes its socket). */
  async stop(): Promise<void> {
    const all = [...this.#started.values()];
    this.#started.clear();
    for (const c of all) c.stop.abort();
    await Promise.all(all.map((c) => c.done));
    this.#logger.info('Shutting down device plugin controller');
  }

  #startDevice(plugin: Device): void {
    const name = plugin.getDeviceName();
    this.#logger.info(`Starting a device plugin for device: ${name}`);
    const stop = new AbortController();
    const done = (async () => {
      let retries = 0;
      while (!stop.signal.aborted) {
        try {
          await plugin.start(stop.signal);
          retries = 0;
        } catch (err) {
          withReason(this.#logger, err).error(`Error starting ${name} device plugin`);
          retries = Math.min(retries + 1, this.#backoffMs.length - 1);
        }
        if (stop.signal.aborted) return;
        // wait a little and register again
        await sleep(this.#backoffMs[retries], undefined, { signal: stop.signal }).catch(() => undefined);
      }
    })();
    this.#started.set(name, { plugin, stop, done });
  }
}
