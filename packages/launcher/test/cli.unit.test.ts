// virt-launcher-cli (packages/launcher/src/cli.ts), the program, against a Cmd server on a unix socket
// that records what it is asked (the launcher's side is proven elsewhere on real parts; this is the
// CLI's): each command makes its RPC with the VMI of --vmi, prints what comes back, fails with the
// launcher's message; `events` serves Notify and prints what a launcher sends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createCmdServer, listenUnix, notifyClient, stopServer, type Server } from '@kubevirt-ts/proto';
import { poll } from '../../../test/bed/poll.ts';

const CLI = path.resolve(import.meta.dirname, '../src/cli.ts');
const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const VMI_YAML = `apiVersion: kubevirt.io/v1
kind: VirtualMachineInstance
metadata:
  name: testvmi
  namespace: default
  uid: 6a1f0c8e-2b7d-4c52-9a0e-0f3b8d1c2e4a
spec:
  domain:
    devices: {}
    resources:
      requests:
        memory: 128Mi
`;

const DOMAIN = {
  kind: 'Domain',
  ObjectMeta: { name: 'testvmi', namespace: 'default', uid: '6a1f0c8e-2b7d-4c52-9a0e-0f3b8d1c2e4a' },
  Status: { Status: 'Paused', Reason: 'User' },
};

describe('virt-launcher-cli', () => {
  let dir: string;
  let socket: string;
  let vmiFile: string;
  let server: Server;
  /** Each RPC the server got: its name and the VMI's name and memory, when it carried one. */
  const calls: { rpc: string; vmi?: { name: string; memory: string | undefined } }[] = [];
  /** What the lifecycle RPCs answer. */
  let answer = { success: true, message: '' };

  const record = (rpc: string) => (r: { vmi: { vmiJson: Buffer } | null }) => {
    const vmi = r.vmi
      ? (JSON.parse(r.vmi.vmiJson.toString()) as {
          metadata: { name: string };
          spec: { domain: { resources?: { requests?: { memory?: string } } } };
        })
      : undefined;
    calls.push({ rpc, ...(vmi ? { vmi: { name: vmi.metadata.name, memory: vmi.spec.domain.resources?.requests?.memory } } : {}) });
    return answer;
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kvts-cli-'));
    socket = path.join(dir, 'launcher-sock');
    vmiFile = path.join(dir, 'testvmi.yaml');
    writeFileSync(vmiFile, VMI_YAML);
    server = createCmdServer({
      SyncVirtualMachine: record('SyncVirtualMachine'),
      PauseVirtualMachine: record('PauseVirtualMachine'),
      UnpauseVirtualMachine: record('UnpauseVirtualMachine'),
      ShutdownVirtualMachine: record('ShutdownVirtualMachine'),
      KillVirtualMachine: record('KillVirtualMachine'),
      DeleteVirtualMachine: record('DeleteVirtualMachine'),
      GetDomain: () => ({ response: { success: true, message: '' }, domain: JSON.stringify(DOMAIN) }),
      GetGuestInfo: () => ({ response: { success: true, message: '' }, guestInfoResponse: JSON.stringify({ hostname: 'testvmi' }) }),
      GetUsers: () => ({ response: { success: false, message: 'the guest agent is not connected' }, guestUserListResponse: '' }),
    });
    await listenUnix(server, socket);
  });
  after(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  test('sync, pause, unpause, shutdown, kill, delete: each its RPC with the VMI of --vmi (YAML), then "<command>: ok"', async () => {
    for (const [command, rpc] of [
      ['sync', 'SyncVirtualMachine'],
      ['pause', 'PauseVirtualMachine'],
      ['unpause', 'UnpauseVirtualMachine'],
      ['shutdown', 'ShutdownVirtualMachine'],
      ['kill', 'KillVirtualMachine'],
      ['delete', 'DeleteVirtualMachine'],
    ] as const) {
      calls.length = 0;
      const r = await cli('--socket', socket, '--vmi', vmiFile, command);
      assert.deepEqual(r, { code: 0, stdout: `${command}: ok\n`, stderr: '' }, command);
      assert.deepEqual(calls, [{ rpc, vmi: { name: 'testvmi', memory: '128Mi' } }], command);
    }
  });

  test('without --vmi a lifecycle command names the launcher’s current domain', async () => {
    calls.length = 0;
    const r = await cli('--socket', socket, 'pause');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      calls.map((c) => [c.rpc, c.vmi?.name]),
      [['PauseVirtualMachine', 'testvmi']],
    );
  });

  test('the launcher’s success:false → exit 1 and "<command> failed: <its message>"', async () => {
    answer = { success: false, message: "LibvirtError(Code=55, Domain=10, Message='domain is not running')" };
    try {
      const r = await cli('--socket', socket, '--vmi', vmiFile, 'unpause');
      assert.deepEqual(r, {
        code: 1,
        stdout: '',
        stderr: "unpause failed: LibvirtError(Code=55, Domain=10, Message='domain is not running')\n",
      });
    } finally {
      answer = { success: true, message: '' };
    }
    const users = await cli('--socket', socket, 'users');
    assert.deepEqual(users, { code: 1, stdout: '', stderr: 'users failed: the guest agent is not connected\n' });
  });

  test('domain and guestinfo print the launcher’s JSON', async () => {
    const domain = await cli('--socket', socket, 'domain');
    assert.equal(domain.code, 0, domain.stderr);
    assert.deepEqual(JSON.parse(domain.stdout), DOMAIN);
    const info = await cli('--socket', socket, 'guestinfo');
    assert.equal(info.code, 0, info.stderr);
    assert.deepEqual(JSON.parse(info.stdout), { hostname: 'testvmi' });
  });

  test('sync without --vmi, or an unknown command, is refused', async () => {
    const sync = await cli('--socket', socket, 'sync');
    assert.deepEqual([sync.code, sync.stderr], [1, 'virt-launcher-cli: sync needs --vmi FILE\n']);
    const unknown = await cli('--socket', socket, 'migrate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^unknown command migrate\nusage: virt-launcher-cli/);
  });

  test('events --listen PATH: a notify server printing each domain event a launcher sends', async (t) => {
    const listen = path.join(dir, 'domain-notify-pipe.sock');
    const child = spawn(process.execPath, [CLI, 'events', '--listen', listen], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await poll(
      'the CLI listening',
      async () => (stderr.includes(`listening on ${listen}`) ? true : undefined),
      15_000,
      () => stderr,
    );
    const client = await notifyClient(listen);
    try {
      assert.deepEqual(await client.HandleDomainEvent({ eventType: 'MODIFIED', domainJSON: Buffer.from(JSON.stringify(DOMAIN)) }), {
        success: true,
        message: '',
      });
    } finally {
      client.close();
    }
    const printed = await poll(
      'the event printed',
      async () => {
        try {
          return JSON.parse(stdout) as unknown;
        } catch {
          return undefined;
        }
      },
      15_000,
      () => stdout + stderr,
    );
    assert.deepEqual(printed, { eventType: 'MODIFIED', status: 'Paused', reason: 'User', domain: DOMAIN });
  });
});
