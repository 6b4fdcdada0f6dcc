// Reads the launcher's own pod interfaces with iproute2's JSON output (`ip -j addr show`), as
// KubeVirt's netdriver reads them through netlink: name, MAC, MTU and IPv4 addresses.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseIPAddr, type IPLink } from '@kubevirt-ts/shared';

const run = promisify(execFile);

export type PodLink = IPLink;

/** The link, or undefined when it does not exist. */
export async function readLink(name: string): Promise<PodLink | undefined> {
  try {
    const { stdout } = await run('ip', ['-j', 'addr', 'show', 'dev', name]);
    return parseIPAddr(stdout)[0];
  } catch (err) {
    if (/does not exist/.test(String((err as { stderr?: unknown }).stderr ?? ''))) return undefined;
    throw err;
  }
}
