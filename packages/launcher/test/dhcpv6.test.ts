// The launcher's DHCPv6 server against a real client: ISC dhclient -6 in a network namespace of its
// own, on a veth into a namespace holding the masquerade bridge k6t-eth0 where the server listens.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { poll } from '../../../test/bed/poll.ts';

const SERVER = path.resolve(import.meta.dirname, '../src/network/dhcpv6-server.ts');
const suffix = process.pid.toString(36);
const server = `kvts6s-${suffix}`;
const client = `kvts6c-${suffix}`;
let dir: string;
let child: ChildProcess | undefined;
let serverLog = '';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

before(async () => {
  dir = mkdtempSync('/tmp/kvts-dhcpv6-');
  ip('netns', 'add', server);
  ip('netns', 'add', client);
  ip('-n', server, 'link', 'add', 'k6t-eth0', 'type', 'bridge');
  ip('-n', server, 'link', 'set', 'k6t-eth0', 'address', '02:00:00:00:00:00');
  ip('-n', server, 'link', 'add', 'tap-ish', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client);
  ip('-n', server, 'link', 'set', 'tap-ish', 'master', 'k6t-eth0', 'up');
  ip('-n', server, 'link', 'set', 'k6t-eth0', 'up');
  ip('-n', server, '-6', 'addr', 'add', 'fd10:0:2::1/120', 'dev', 'k6t-eth0');
  ip('-n', client, 'link', 'set', 'eth0', 'up');
  // the server as phase 2 starts it, in the bridge's namespace
  const script = `import { startDHCPv6Server } from ${JSON.stringify(SERVER)};
const log = { info() {}, error: (o, m) => console.error(m, JSON.stringify(o)) };
await startDHCPv6Server({ clientIP: 'fd10:0:2::2', serverIface: 'k6t-eth0', serverMAC: '02:00:00:00:00:00', dnsServers: ['fd00:10:96::a'] }, log);
console.log('listening');`;
  child = spawn('ip', ['netns', 'exec', server, process.execPath, '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  await poll(
    'the DHCPv6 server listening',
    async () => (serverLog.includes('listening') ? true : undefined),
    20_000,
    () => serverLog,
  );
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  for (const ns of [server, client]) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

test("dhclient -6 gets the guest's address, KubeVirt's 999-day lifetimes, the server's DUID-LL and the DNS servers", async () => {
  const lease = path.join(dir, 'lease');
  // -1: one try; the client's link-local address must be past duplicate address detection first
  await poll(
    'a DHCPv6 lease',
    async () => {
      try {
        execFileSync(
          'ip',
          ['netns', 'exec', client, 'dhclient', '-6', '-1', '-lf', lease, '-pf', path.join(dir, 'pid'), '-sf', '/bin/true', 'eth0'],
          {
            stdio: 'ignore',
            timeout: 15_000,
          },
        );
      } catch {
        return undefined;
      }
      return readFileSync(lease, 'utf8');
    },
    60_000,
    () => serverLog,
  );
  const text = readFileSync(lease, 'utf8');
  assert.match(text, /iaaddr fd10:0:2::2 \{/);
  assert.match(text, /preferred-life 86313600;/);
  assert.match(text, /max-life 86313600;/);
  assert.match(text, /option dhcp6\.server-id 0:3:0:1:2:0:0:0:0:0;/, 'DUID-LL of the bridge MAC 02:00:00:00:00:00');
  assert.match(text, /option dhcp6\.name-servers fd00:10:96::a;/);
  // dhclient leaves a daemon behind after binding; end it
  try {
    process.kill(Number(readFileSync(path.join(dir, 'pid'), 'utf8').trim()), 'SIGTERM');
  } catch {
    // it did not stay
  }
});
