// containerd (Debian's 1.6) with runc as the node's CRI runtime, configured so that it lives under the
// node's directory, runs without the capabilities root lacks here (CAP_SYS_RESOURCE), and can never pull:
// every registry resolves to a loopback port nothing serves, and its HTTP(S) proxy is such a port too,
// so even the default endpoint containerd appends after the mirrors stays on this machine.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, waitUntilReady, type Daemon } from '../control-plane/daemon.ts';
import { BRIDGE, NODE_BASE, POD_SUBNET, NODE_IP } from './host.ts';

const run = promisify(execFile);

/** An address nothing listens on (tcpmux): a pull or a proxied request fails at once, on loopback. */
export const UNSERVED = 'http://127.0.0.1:1';
export const PAUSE_IMAGE = 'docker.io/kubevirt-ts/pause:latest';
const REGISTRIES = ['*', 'docker.io', 'registry-1.docker.io', 'quay.io', 'registry.k8s.io', 'k8s.gcr.io', 'gcr.io', 'ghcr.io'];

export interface Containerd {
  /** unix:// endpoint for kubelet. */
  readonly endpoint: string;
  readonly socket: string;
  readonly daemon: Daemon;
  /** `ctr -n k8s.io` against this containerd. */
  ctr(...args: string[]): Promise<string>;
  /** Imports an OCI archive into the k8s.io namespace (where CRI looks). */
  importImage(archive: string): Promise<void>;
  /** Kills and deletes every task and container, then stops containerd (host.ts sweeps what is left). */
  stop(): Promise<void>;
}

export const CONTAINERD_DIR = path.join(NODE_BASE, 'containerd');
export const CNI_CONF_DIR = path.join(NODE_BASE, 'cni', 'net.d');
/** The pod network's name; host-local keeps a file per allocated IP under CNI_IPAM_DIR/<name>/. */
export const CNI_NETWORK = 'kvts-pods';
export const CNI_IPAM_DIR = path.join(NODE_BASE, 'cni', 'ipam');

export function containerdConfig(dir: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const mirrors = REGISTRIES.map((r) => `[${cri}.registry.mirrors."${r}"]\n  endpoint = ["${UNSERVED}"]`).join('\n');
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
# Snapshotters and tracing this node does not use; devmapper, zfs and btrfs only log failures anyway.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${dir}/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  disable_apparmor = true
  # root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj fails with EACCES
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  Root = "${dir}/state/runc"
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${CNI_CONF_DIR}"

${mirrors}
`;
}

/**
 * The pod network: Debian's bridge + host-local plugins on the node's pre-made bridge. isGateway false
 * (true would set the global ip_forward) and no masquerade: pods reach the node's address and each other.
 */
export function cniConfig(): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: CNI_NETWORK,
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            subnet: POD_SUBNET,
            gateway: NODE_IP,
            routes: [],
            dataDir: CNI_IPAM_DIR,
          },
        },
      ],
    },
    null,
    2,
  );
}

export async function startContainerd(logDir: string): Promise<Containerd> {
  const dir = CONTAINERD_DIR;
  mkdirSync(dir, { recursive: true });
  mkdirSync(CNI_CONF_DIR, { recursive: true });
  const configPath = path.join(dir, 'config.toml');
  writeFileSync(configPath, containerdConfig(dir));
  writeFileSync(path.join(CNI_CONF_DIR, '10-kvts-pods.conflist'), cniConfig());
  const socket = path.join(dir, 'containerd.sock');
  const env = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HTTP_PROXY: UNSERVED,
    HTTPS_PROXY: UNSERVED,
    http_proxy: UNSERVED,
    https_proxy: UNSERVED,
  };
  const daemon = startDaemon('containerd', 'containerd', ['--config', configPath], path.join(logDir, 'containerd.log'), { env });
  const ctr = async (...args: string[]) =>
    (await run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { maxBuffer: 16 << 20 })).stdout;
  await waitUntilReady(daemon, async () => existsSync(socket) && (await ctr('version')).includes('Server'), 60_000);

  return {
    endpoint: `unix://${socket}`,
    socket,
    daemon,
    ctr,
    async importImage(archive) {
      await ctr('images', 'import', archive);
    },
    async stop() {
      if (!daemon.exited) {
        // What kubelet did not remove (it is stopped first): tasks killed, containers deleted, so their
        // shims exit and unmount the rootfs.
        for (const id of lines(await ctr('tasks', 'list', '--quiet').catch(() => ''))) {
          await ctr('tasks', 'kill', '--signal', 'SIGKILL', id).catch(() => undefined);
        }
        for (const id of lines(await ctr('containers', 'list', '--quiet').catch(() => ''))) {
          await ctr('tasks', 'delete', '--force', id).catch(() => undefined);
          await ctr('containers', 'delete', id).catch(() => undefined);
        }
        await daemon.stop(20_000);
      }
    },
  };
}

function lines(s: string): string[] {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}
