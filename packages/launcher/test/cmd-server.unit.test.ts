// The cmd server's error form (cmd-server getErrorMessage): what a failing DomainManager call becomes
// in the in-band Response a handler reads, over a real unix socket and gRPC client. libvirt's errors in
// FormatLibvirtError's form; any other error as its message, and never an empty message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorDomain, ErrorNumber, LibvirtError } from '@kubevirt-ts/libvirt';
import { cmdClient, listenUnix, stopServer, vmiRequest, type CmdClient, type Server } from '@kubevirt-ts/proto';
import { createLogger } from '@kubevirt-ts/shared';
import { createLauncherCmdServer } from '../src/cmd-server.ts';
import type { DomainManager } from '../src/domain-manager.ts';

const VMI = {
  apiVersion: 'kubevirt.io/v1',
  kind: 'VirtualMachineInstance',
  metadata: { name: 'testvmi', namespace: 'default', uid: '3b0ed8cb-5c6e-4f4a-9d0e-2a3c5e0f1b7d' },
  spec: { domain: { devices: {} } },
};

describe('cmd server: a failed call answers success:false with KubeVirt’s message', () => {
  let dir: string;
  let server: Server;
  let client: CmdClient;
  /** What the DomainManager's next pauseVMI throws. */
  let failure: unknown;
  /** The launcher's log lines. */
  const logs: { msg: string; reason?: string; name?: string }[] = [];
  const lastLog = () => logs.at(-1);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kvts-cmd-server-'));
    // only the call under test is served; the cmd server reaches the DomainManager through it alone
    const dm = {
      pauseVMI: async () => {
        throw failure;
      },
    } as unknown as DomainManager;
    const destination = { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) };
    server = createLauncherCmdServer(dm, createLogger({ component: 'virt-launcher', verbosity: 0, destination }));
    const socket = path.join(dir, 'launcher-sock');
    await listenUnix(server, socket);
    client = await cmdClient(socket);
  });
  after(async () => {
    client.close();
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a libvirt error → LibvirtError(Code=…, Domain=…, Message='…')", async () => {
    failure = new LibvirtError({
      code: ErrorNumber.OPERATION_INVALID,
      domain: ErrorDomain.QEMU,
      message: 'Requested operation is not valid: domain is not running',
    });
    assert.deepEqual(await client.PauseVirtualMachine(vmiRequest(VMI)), {
      success: false,
      message: `LibvirtError(Code=${ErrorNumber.OPERATION_INVALID}, Domain=${ErrorDomain.QEMU}, Message='Requested operation is not valid: domain is not running')`,
    });
    assert.deepEqual(
      { msg: lastLog()?.msg, name: lastLog()?.name, reason: lastLog()?.reason?.slice(0, 13) },
      { msg: 'Failed to pause vmi', name: 'testvmi', reason: 'LibvirtError(' },
    );
  });

  test('another error → its message', async () => {
    failure = new Error('the guest agent is not connected');
    assert.deepEqual(await client.PauseVirtualMachine(vmiRequest(VMI)), { success: false, message: 'the guest agent is not connected' });
  });

  test('an error with an empty message → still a message, never ""', async () => {
    failure = new Error('');
    const r = await client.PauseVirtualMachine(vmiRequest(VMI));
    assert.equal(r.success, false);
    assert.equal(r.message, 'unknown error');
    assert.equal(lastLog()?.reason, 'unknown error');
  });
});

// GetVMStats' guest-agent part (cmd-server vmstats.go agentDataFields): each marker of the request runs
// its command, and the raw answer lands in the response field of the same name.
describe('cmd server: GetVMStats runs the 14 guest-agent commands KubeVirt maps, as asked', () => {
  /** KubeVirt's agentDataFields: request/response field → guest-agent command. */
  const KUBEVIRT_AGENT_DATA_FIELDS = {
    guestGetLoad: 'guest-get-load',
    guestGetCpuStats: 'guest-get-cpustats',
    guestGetDiskStats: 'guest-get-diskstats',
    guestGetTime: 'guest-get-time',
    guestGetVcpus: 'guest-get-vcpus',
    guestGetMemoryBlockInfo: 'guest-get-memory-block-info',
    guestGetUsers: 'guest-get-users',
    guestGetOsInfo: 'guest-get-osinfo',
    guestGetDisks: 'guest-get-disks',
    guestGetHostName: 'guest-get-host-name',
    guestGetTimezone: 'guest-get-timezone',
    guestNetworkGetRoute: 'guest-network-get-route',
    guestNetworkGetInterfaces: 'guest-network-get-interfaces',
    guestGetMemoryBlocks: 'guest-get-memory-blocks',
  } as const;
  let dir: string;
  let server: Server;
  let client: CmdClient;
  const asked: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kvts-cmd-server-'));
    const dm = {
      getGuestAgentVersion: () => '7.2.22',
      getAgentData: async (command: string) => {
        asked.push(command);
        return JSON.stringify({ return: command });
      },
    } as unknown as DomainManager;
    server = createLauncherCmdServer(dm, createLogger({ component: 'virt-launcher', level: 'silent' }));
    const socket = path.join(dir, 'launcher-sock');
    await listenUnix(server, socket);
    client = await cmdClient(socket);
  });
  after(async () => {
    client.close();
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  test('every marker → its command once, its raw answer in the field of the same name, and the agent version', async () => {
    const fields = Object.keys(KUBEVIRT_AGENT_DATA_FIELDS) as (keyof typeof KUBEVIRT_AGENT_DATA_FIELDS)[];
    assert.equal(fields.length, 14);
    asked.length = 0;
    const r = await client.GetVMStats(Object.fromEntries(fields.map((f) => [f, {}])));
    assert.deepEqual(r.response, { success: true, message: '' });
    assert.deepEqual(r.guestAgentVersion, { success: true, message: '7.2.22' });
    assert.deepEqual(asked.toSorted(), Object.values(KUBEVIRT_AGENT_DATA_FIELDS).toSorted());
    for (const f of fields) {
      assert.deepEqual(r[f], { success: true, message: JSON.stringify({ return: KUBEVIRT_AGENT_DATA_FIELDS[f] }) }, f);
    }
  });

  test('only what is asked: two markers → two commands; none → no agent version either', async () => {
    asked.length = 0;
    const two = await client.GetVMStats({ guestGetHostName: {}, guestNetworkGetRoute: {} });
    assert.deepEqual(asked.toSorted(), ['guest-get-host-name', 'guest-network-get-route']);
    assert.equal(two.guestGetLoad, null);
    asked.length = 0;
    const none = await client.GetVMStats({});
    assert.deepEqual([asked, none.guestAgentVersion], [[], null]);
  });
});
