// A launcher pod's network as the node sees it, for the real node's pod network tests: the pod's
// network namespace (entered through a process of the pod), what phase 1 made in it, its veth's node end
// on the pod bridge, and what still holds the namespace (processes, containerd's bind mount).
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { mountsUnder } from '../bed/mounts.ts';
import { BRIDGE } from './host.ts';

const run = promisify(execFile);

export interface NetLink {
  ifname: string;
  ifindex: number;
  address: string;
  mtu: number;
  master?: string;
  /** a veth's peer's index, in the namespace link_netnsid names */
  link_index?: number;
  linkinfo?: { info_kind?: string };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

export async function inPodNetns(pid: number, cmd: string, args: readonly string[]): Promise<string> {
  return (await run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', cmd, ...args], { encoding: 'utf8' })).stdout;
}

export async function podLinks(pid: number): Promise<Map<string, NetLink>> {
  const links = JSON.parse(await inPodNetns(pid, 'ip', ['-j', '-d', 'addr', 'show'])) as NetLink[];
  return new Map(links.map((l) => [l.ifname, l]));
}

/** `nft list tables` in the pod: `ip nat`, … */
export async function podNftTables(pid: number): Promise<string[]> {
  const out = JSON.parse(await inPodNetns(pid, 'nft', ['-j', 'list', 'tables'])) as {
    nftables: { table?: { family: string; name: string } }[];
  };
  return out.nftables.flatMap((e) => (e.table ? [`${e.table.family} ${e.table.name}`] : []));
}

export interface NetnsId {
  dev: number;
  ino: number;
}

/** The network namespace's identity (what /proc/<pid>/ns/net and a bind mount of it stat to, on nsfs). */
export function netnsOf(pid: number): NetnsId {
  const { dev, ino } = statSync(`/proc/${pid}/ns/net`);
  return { dev, ino };
}

/** What keeps the namespace alive: processes in it, and bind mounts of it under `mountsDir`. */
export function netnsHolders(ns: NetnsId, mountsDir: string): string[] {
  const same = (path: string) => {
    try {
      const s = statSync(path);
      return s.dev === ns.dev && s.ino === ns.ino;
    } catch {
      return false; // gone meanwhile, or a kernel thread's
    }
  };
  return [
    ...readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d) && same(`/proc/${d}/ns/net`))
      .map((pid) => `process ${pid}`),
    ...mountsUnder(mountsDir)
      .filter(same)
      .map((m) => `mount ${m}`),
  ];
}

/** The node's links on the pod bridge (the pods' veth ends). */
export async function bridgePorts(): Promise<NetLink[]> {
  return JSON.parse((await run('ip', ['-j', 'link', 'show', 'master', BRIDGE], { encoding: 'utf8' })).stdout) as NetLink[];
}

/** The node's links, by index. */
export async function nodeLinks(): Promise<Map<number, NetLink>> {
  const links = JSON.parse((await run('ip', ['-j', '-d', 'link', 'show'], { encoding: 'utf8' })).stdout) as NetLink[];
  return new Map(links.map((l) => [l.ifindex, l]));
}
