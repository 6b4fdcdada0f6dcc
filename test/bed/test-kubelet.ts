// The kubelet's side of the device plugin API, for tests: serves Registration on
// <kubelet-root>/device-plugins/kubelet.sock and, for each plugin that registers, dials its socket, asks for
// its options and follows its ListAndWatch stream, as the kubelet's device manager does. `restart()` does
// what a kubelet restart does to the directory: every socket in it removed, kubelet.sock made anew.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  DEVICE_PLUGINS_DIR,
  DevicePluginClient,
  KUBELET_SOCKET,
  bindUnixSocket,
  callUnary,
  createRegistrationServer,
  dialUnix,
  stopServer,
  type ClientReadableStream,
  type Server,
  type v1beta1,
} from '@kubevirt-ts/proto';

export interface RegisteredPlugin {
  request: v1beta1.RegisterRequest;
  options: v1beta1.DevicePluginOptions;
  client: InstanceType<typeof DevicePluginClient>;
  /** The latest ListAndWatch list. */
  devices: v1beta1.Device[];
  /** How many lists the stream has sent. */
  updates: number;
  /** The stream ended (the plugin stopped). */
  ended: boolean;
}

export interface TestKubelet {
  readonly root: string;
  readonly pluginDir: string;
  /** Every Register call so far, in order. */
  readonly registrations: v1beta1.RegisterRequest[];
  /** The latest registration per resource name. */
  readonly plugins: Map<string, RegisteredPlugin>;
  allocate(resourceName: string, devicesIDs: string[]): Promise<v1beta1.AllocateResponse>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestKubelet(kubeletRoot: string): Promise<TestKubelet> {
  const pluginDir = path.join(kubeletRoot, DEVICE_PLUGINS_DIR);
  mkdirSync(pluginDir, { recursive: true, mode: 0o750 });
  const registrations: v1beta1.RegisterRequest[] = [];
  const plugins = new Map<string, RegisteredPlugin>();
  const streams: ClientReadableStream<v1beta1.ListAndWatchResponse>[] = [];
  let server: Server | undefined;

  const serve = async () => {
    const s = createRegistrationServer({
      Register: async (req) => {
        registrations.push(req);
        if (req.version !== 'v1beta1') throw new Error(`unsupported version ${req.version}`);
        const client = await dialUnix(DevicePluginClient, path.join(pluginDir, req.endpoint ?? ''), 5000);
        const options = await callUnary<v1beta1.Empty, v1beta1.DevicePluginOptions>(client, 'GetDevicePluginOptions', {}, 5000);
        const plugin: RegisteredPlugin = { request: req, options, client, devices: [], updates: 0, ended: false };
        plugins.get(req.resource_name ?? '')?.client.close();
        plugins.set(req.resource_name ?? '', plugin);
        const stream = (
          client as unknown as { ListAndWatch(req: v1beta1.Empty): ClientReadableStream<v1beta1.ListAndWatchResponse> }
        ).ListAndWatch({});
        streams.push(stream);
        stream.on('data', (res: v1beta1.ListAndWatchResponse) => {
          plugin.devices = res.devices ?? [];
          plugin.updates++;
        });
        stream.on('error', () => (plugin.ended = true));
        stream.on('end', () => (plugin.ended = true));
        return {};
      },
    });
    await bindUnixSocket(s, path.join(pluginDir, KUBELET_SOCKET));
    server = s;
  };

  const shutdown = async () => {
    for (const st of streams.splice(0)) st.cancel();
    for (const p of plugins.values()) p.client.close();
    if (server) await stopServer(server, 0);
    server = undefined;
  };

  await serve();
  return {
    root: kubeletRoot,
    pluginDir,
    registrations,
    plugins,
    async allocate(resourceName, devicesIDs) {
      const plugin = plugins.get(resourceName);
      if (!plugin) throw new Error(`no plugin registered for ${resourceName}`);
      return callUnary(plugin.client, 'Allocate', { container_requests: [{ devicesIDs }] }, 5000);
    },
    async restart() {
      await shutdown();
      plugins.clear();
      for (const name of readdirSync(pluginDir)) rmSync(path.join(pluginDir, name), { force: true });
      await serve();
    },
    async stop() {
      await shutdown();
      rmSync(path.join(pluginDir, KUBELET_SOCKET), { force: true });
    },
  };
}
