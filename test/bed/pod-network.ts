// The test bed's pod network, as a CNI bridge plugin would give a pod: a "node" network namespace of
// its own (never the machine's) holding a bridge with the gateway address, and for each pod sandbox a
// veth pair, the pod's end named eth0 with the pod IP and a default route via the bridge. And a
// secondary network as multus would add one (createSecondaryNetwork): a namespace of its own holding
// the peer, a veth to the pod named as multus names the network's interface, L2 only (no IPAM).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { PodSandbox } from './pod-sandbox.ts';

const run = promisify(execFile);

export const POD_SUBNET_PREFIX = 24;
export const NODE_BRIDGE = 'cni0';

export interface NodeNetwork {
  readonly pid: number;
  readonly gateway: string;
  /** The bridge's IPv6 address, when the network is dual stack. */
  readonly gateway6: string | undefined;
  /** Runs a command in the node's network namespace. */
  exec(cmd: string, args: readonly string[]): Promise<string>;
  /** Gives the pod (a sandbox with `network: true`) its eth0 with the pod IP (and IPv6 on a dual-stack network). */
  attach(sandbox: PodSandbox, podIP: string, mtu?: number, podIPv6?: string): Promise<void>;
  destroy(): Promise<void>;
}

export async function inNetNS(pid: number, cmd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', cmd, ...args]);
  return stdout;
}

export const POD_IPV6_PREFIX = 64;

/** A network namespace of the test's own, held by a sleeping process until `release`. */
async function holdNetNS(what: string): Promise<{ pid: number; release(): Promise<void> }> {
  const holder: ChildProcess = spawn('unshare', ['--net', '--', 'sleep', 'infinity'], { stdio: 'ignore', detached: true });
  const pid = holder.pid;
  if (pid === undefined) throw new Error(`${what}: unshare did not start`);
  // the namespace exists once the holder runs sleep in it
  for (let i = 0; i < 100; i++) {
    try {
      await inNetNS(pid, 'ip', ['link', 'set', 'lo', 'up']);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    pid,
    async release() {
      if (holder.exitCode === null && holder.signalCode === null) {
        holder.kill('SIGKILL');
        await once(holder, 'exit');
      }
    },
  };
}

/** A node network; with `gateway6` (a ULA, fd00::/8) dual stack, as host-local with an IPv6 range gives it. */
export async function createNodeNetwork(gateway = '10.244.77.1', gateway6?: string): Promise<NodeNetwork> {
  const holder = await holdNetNS('node network');
  const pid = holder.pid;
  const exec = (cmd: string, args: readonly string[]) => inNetNS(pid, cmd, args);
  await exec('ip', ['link', 'add', NODE_BRIDGE, 'type', 'bridge']);
  await exec('ip', ['addr', 'add', `${gateway}/${POD_SUBNET_PREFIX}`, 'dev', NODE_BRIDGE]);
  // nodad: addresses usable at once (nothing else on these links could hold them)
  if (gateway6) await exec('ip', ['-6', 'addr', 'add', `${gateway6}/${POD_IPV6_PREFIX}`, 'dev', NODE_BRIDGE, 'nodad']);
  await exec('ip', ['link', 'set', NODE_BRIDGE, 'up']);
  let n = 0;
  return {
    pid,
    gateway,
    gateway6,
    exec,
    async attach(sandbox, podIP, mtu = 1500, podIPv6) {
      if (!sandbox.network) throw new Error('the pod sandbox has no network namespace of its own (network: true)');
      const hostSide = `veth${n++}`;
      await exec('ip', ['link', 'add', hostSide, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(sandbox.pid)]);
      await exec('ip', ['link', 'set', hostSide, 'master', NODE_BRIDGE, 'up']);
      const pod = (args: string[]) => inNetNS(sandbox.pid, 'ip', args);
      await pod(['link', 'set', 'lo', 'up']);
      await pod(['addr', 'add', `${podIP}/${POD_SUBNET_PREFIX}`, 'dev', 'eth0']);
      await pod(['link', 'set', 'eth0', 'up']);
      await pod(['route', 'add', 'default', 'via', gateway, 'dev', 'eth0']);
      if (podIPv6) {
        if (!gateway6) throw new Error('an IPv6 pod IP on a node network without IPv6');
        await pod(['-6', 'addr', 'add', `${podIPv6}/${POD_IPV6_PREFIX}`, 'dev', 'eth0', 'nodad']);
        await pod(['-6', 'route', 'add', 'default', 'via', gateway6, 'dev', 'eth0']);
      }
    },
    destroy: () => holder.release(),
  };
}

export interface SecondaryNetwork {
  readonly pid: number;
  /** The peer's address on the network (the pod's side has none: no IPAM). */
  readonly peerIP: string;
  readonly prefix: number;
  /** Runs a command in the peer's network namespace. */
  exec(cmd: string, args: readonly string[]): Promise<string>;
  /**
   * Gives the pod its interface on this network, named and with the MAC multus would give it; with
   * `podIP` (on the peer's subnet) as a CNI with IPAM would address it.
   */
  attach(sandbox: PodSandbox, podIface: string, mac: string, podIP?: string): Promise<void>;
  destroy(): Promise<void>;
}

/** A secondary network: one peer (in a namespace of its own) for one pod, over a veth pair. */
export async function createSecondaryNetwork(peerIP = '192.168.50.1', prefix = 24): Promise<SecondaryNetwork> {
  const holder = await holdNetNS('secondary network');
  const pid = holder.pid;
  const exec = (cmd: string, args: readonly string[]) => inNetNS(pid, cmd, args);
  return {
    pid,
    peerIP,
    prefix,
    exec,
    async attach(sandbox, podIface, mac, podIP) {
      if (!sandbox.network) throw new Error('the pod sandbox has no network namespace of its own (network: true)');
      await exec('ip', ['link', 'add', 'peer0', 'type', 'veth', 'peer', 'name', podIface, 'netns', String(sandbox.pid)]);
      await exec('ip', ['addr', 'add', `${peerIP}/${prefix}`, 'dev', 'peer0']);
      await exec('ip', ['link', 'set', 'peer0', 'up']);
      await inNetNS(sandbox.pid, 'ip', ['link', 'set', podIface, 'address', mac, 'up']);
      if (podIP) await inNetNS(sandbox.pid, 'ip', ['addr', 'add', `${podIP}/${prefix}`, 'dev', podIface]);
    },
    destroy: () => holder.release(),
  };
}
