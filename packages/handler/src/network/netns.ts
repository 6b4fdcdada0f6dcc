// Runs iproute2 / nftables / sysctl inside a launcher pod's network namespace (KubeVirt's netns.Do),
// by nsenter'ing into /proc/<pid>/ns/net. Refuses the handler's own namespace: configuring it would
// change the node's (or the test machine's) network.
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';

export interface NetNS {
  readonly pid: number;
  exec(cmd: string, args: readonly string[], input?: string): Promise<string>;
}

/** True when the process is in virt-handler's own network namespace (a launcher without a pod network). */
export function sharesHandlerNetNS(pid: number): boolean {
  return readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net');
}

export function launcherNetNS(pid: number): NetNS {
  const target = readlinkSync(`/proc/${pid}/ns/net`);
  if (target === readlinkSync('/proc/self/ns/net')) {
    throw new Error(`launcher process ${pid} shares virt-handler's network namespace ${target}: refusing to configure it`);
  }
  return {
    pid,
    exec: (cmd, args, input) =>
      new Promise((resolve, reject) => {
        const child = execFile(
          'nsenter',
          [`--net=/proc/${pid}/ns/net`, '--', cmd, ...args],
          { encoding: 'utf8' },
          (err, stdout, stderr) => {
            if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
          },
        );
        if (input !== undefined) child.stdin?.end(input);
      }),
  };
}
