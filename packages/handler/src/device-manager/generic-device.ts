// GenericDevicePlugin (pkg/virt-handler/device-manager/generic_device.go): one kubelet device plugin for a
// character device every VM pod may share (/dev/kvm, /dev/net/tun, /dev/vhost-net). It advertises
// --max-devices identical devices, because the device plugin API has no shared devices, and allocates
// the device node itself to whichever container asks.
import { watch, type FSWatcher } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Server, ServerWritableStream } from '@kubevirt-ts/proto';
import {
  DEVICE_PLUGIN_VERSION,
  Healthy,
  KUBELET_SOCKET,
  RegistrationClient,
  Unhealthy,
  bindUnixSocket,
  callUnary,
  createDevicePluginServer,
  dialUnix,
  stopServer,
  type v1beta1,
} from '@kubevirt-ts/proto';
import { errorMessage, withReason, type Logger } from '@kubevirt-ts/shared';

/** generic_device.go DeviceNamespace */
export const DeviceNamespace = 'devices.kubevirt.io';
/** generic_device.go connectionTimeout */
const ConnectionTimeoutMs = 5000;

/** What the device controller needs of a plugin (device_manager.Device). */
export interface Device {
  /** Serves until the kubelet goes away (its socket removed) or `stop` aborts; rejects when it cannot start. */
  start(stop: AbortSignal): Promise<void>;
  getDeviceName(): string;
  getInitialized(): boolean;
}

/** common.go SocketPath: kubevirt-<device>.sock in the device-plugins directory. */
export function socketPath(devicePluginPath: string, deviceName: string): string {
  return path.join(devicePluginPath, `kubevirt-${deviceName}.sock`);
}

export interface GenericDevicePluginOptions {
  deviceName: string;
  /** The device node, as the container sees it and as the host has it, e.g. /dev/kvm. */
  devicePath: string;
  maxDevices: number;
  /** cgroup device permissions the kubelet grants: "rw", or "rwm" on cgroup v2. */
  permissions: string;
  /** Open the node once first, so the kernel loads its module (tun, vhost-net). */
  preOpen: boolean;
  /** <kubelet-root>/device-plugins */
  devicePluginPath: string;
  /** Where the host's / is seen from the handler (util.HostRootMount, /proc/1/root/); the device's health is watched there. */
  deviceRoot: string;
  logger: Logger;
}

export class GenericDevicePlugin implements Device {
  readonly #o: GenericDevicePluginOptions;
  readonly #socketPath: string;
  readonly #resourceName: string;
  readonly #devs: v1beta1.Device[];
  #initialized = false;
  /** Open ListAndWatch streams of the running server. */
  readonly #streams = new Set<ServerWritableStream<v1beta1.Empty, v1beta1.ListAndWatchResponse>>();

  constructor(o: GenericDevicePluginOptions) {
    this.#o = o;
    this.#socketPath = socketPath(o.devicePluginPath, o.deviceName);
    this.#resourceName = `${DeviceNamespace}/${o.deviceName}`;
    this.#devs = Array.from({ length: o.maxDevices }, (_, i) => ({ ID: `${o.deviceName}${i}`, health: Healthy }));
  }

  getDeviceName(): string {
    return this.#o.deviceName;
  }

  get resourceName(): string {
    return this.#resourceName;
  }

  get socketPath(): string {
    return this.#socketPath;
  }

  getInitialized(): boolean {
    return this.#initialized;
  }

  async start(stop: AbortSignal): Promise<void> {
    const log = this.#o.logger;
    await this.#cleanup();
    if (this.#o.preOpen) {
      // the first open of tun / vhost-net makes the kernel load their modules
      await open(this.#o.devicePath).then(
        (fh) => fh.close(),
        () => undefined,
      );
    }
    const server = createDevicePluginServer({
      GetDevicePluginOptions: () => ({ pre_start_required: false }),
      ListAndWatch: (call) => this.#listAndWatch(call),
      Allocate: (req) => this.#allocate(req),
      PreStartContainer: () => ({}),
    });
    const watchers: FSWatcher[] = [];
    try {
      try {
        // net.Listen as KubeVirt: the kubelet owns the directory, it is not made here
        await bindUnixSocket(server, this.#socketPath);
      } catch (err) {
        throw new Error(`error creating GRPC server socket: ${errorMessage(err)}`);
      }
      try {
        await this.#register();
      } catch (err) {
        throw new Error(`error registering with device plugin manager: ${errorMessage(err)}`);
      }
      const ended = this.#healthCheck(stop, watchers);
      this.#initialized = true;
      log.info(`${this.#o.deviceName} device plugin started`);
      await ended;
    } finally {
      for (const w of watchers) w.close();
      await this.#stopDevicePlugin(server);
    }
  }

  // Register on kubelet.sock: version, our socket's name relative to the directory, the resource name.
  async #register(): Promise<void> {
    const kubeletSocket = path.join(this.#o.devicePluginPath, KUBELET_SOCKET);
    const client = await dialUnix(RegistrationClient, kubeletSocket, ConnectionTimeoutMs);
    try {
      await callUnary<v1beta1.RegisterRequest, v1beta1.Empty>(
        client,
        'Register',
        { version: DEVICE_PLUGIN_VERSION, endpoint: path.basename(this.#socketPath), resource_name: this.#resourceName },
        ConnectionTimeoutMs,
      );
    } finally {
      client.close();
    }
  }

  #listAndWatch(call: ServerWritableStream<v1beta1.Empty, v1beta1.ListAndWatchResponse>): void {
    this.#streams.add(call);
    call.on('cancelled', () => this.#streams.delete(call));
    call.on('error', () => this.#streams.delete(call));
    call.write({ devices: this.#devs });
  }

  #setHealth(health: string): void {
    // one shared device: every advertised device has its health
    for (const dev of this.#devs) dev.health = health;
    for (const call of this.#streams) call.write({ devices: this.#devs });
  }

  #allocate(req: v1beta1.AllocateRequest): v1beta1.AllocateResponse {
    const log = this.#o.logger;
    log.info(`Generic Allocate: resourceName: ${this.#o.deviceName}`);
    log.info(`Generic Allocate: request: ${JSON.stringify(req.container_requests ?? [])}`);
    const dev: v1beta1.DeviceSpec = {
      host_path: this.#o.devicePath,
      container_path: this.#o.devicePath,
      permissions: this.#o.permissions,
    };
    // KubeVirt answers one container response whatever the number of requests
    return { container_responses: [{ devices: [dev] }] };
  }

  /**
   * Watches the device node (its health) and the plugin's own socket: the kubelet empties the device-plugins
   * directory when it restarts, so the socket gone means register again. Resolves then, or on stop.
   */
  #healthCheck(stop: AbortSignal, watchers: FSWatcher[]): Promise<void> {
    const log = this.#o.logger;
    const devicePath = path.join(this.#o.deviceRoot, this.#o.devicePath);
    const socketName = path.basename(this.#socketPath);
    return new Promise<void>((resolve, reject) => {
      if (stop.aborted) {
        resolve();
        return;
      }
      stop.addEventListener('abort', () => resolve(), { once: true });
      const fail = (err: unknown) => reject(new Error(`error watching devices and device plugin directory: ${String(err)}`));
      let present: boolean | undefined;
      const checkDevice = () =>
        stat(devicePath)
          .then(
            () => true,
            () => false,
          )
          .then((exists) => {
            if (exists === present) return;
            if (present !== undefined || !exists) {
              if (exists) log.info(`monitored device ${this.#o.deviceName} appeared`);
              else if (present === undefined) log.warn(`device '${this.#o.devicePath}' is not present, the device plugin can't expose it.`);
              else log.info(`monitored device ${this.#o.deviceName} disappeared`);
              this.#setHealth(exists ? Healthy : Unhealthy);
            } else {
              log.info(`device '${this.#o.devicePath}' is present.`);
            }
            present = exists;
          });
      try {
        // watch first, then look, so nothing happens unseen in between
        const devWatcher = watch(path.dirname(devicePath), (_event, name) => {
          if (name === path.basename(devicePath)) void checkDevice();
        });
        devWatcher.on('error', fail);
        watchers.push(devWatcher);
      } catch (err) {
        reject(new Error(`failed to add the device root path to the watcher: ${String(err)}`));
        return;
      }
      void checkDevice();
      try {
        const sockWatcher = watch(this.#o.devicePluginPath, (_event, name) => {
          if (name !== socketName) return;
          void stat(this.#socketPath).catch(() => {
            log.info(`device socket file for device ${this.#o.deviceName} was removed, kubelet probably restarted.`);
            resolve();
          });
        });
        sockWatcher.on('error', fail);
        watchers.push(sockWatcher);
      } catch (err) {
        reject(new Error(`failed to add the device-plugin kubelet path to the watcher: ${String(err)}`));
        return;
      }
      stat(this.#socketPath).catch((err: unknown) => reject(new Error(`failed to stat the device-plugin socket: ${String(err)}`)));
    });
  }

  // stopDevicePlugin: an empty list tells the kubelet the devices are gone (there is no deregistration), then
  // up to a second for it to arrive before the server stops.
  async #stopDevicePlugin(server: Server): Promise<void> {
    this.#initialized = false;
    const streams = [...this.#streams];
    this.#streams.clear();
    await Promise.race([
      Promise.all(
        streams.map(
          (call) =>
            new Promise<void>((resolve) => {
              try {
                call.write({ devices: [] }, () => resolve());
                call.end();
              } catch (err) {
                withReason(this.#o.logger, err).info(`${this.#o.deviceName} device plugin failed to deregister`);
                resolve();
              }
            }),
        ),
      ),
      new Promise((resolve) => setTimeout(resolve, 1000).unref()),
    ]);
    await stopServer(server, 0);
    await this.#cleanup();
  }

  async #cleanup(): Promise<void> {
    await rm(this.#socketPath, { force: true });
  }
}
