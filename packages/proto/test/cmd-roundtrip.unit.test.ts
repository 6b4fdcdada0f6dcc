import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  CMD_METHODS,
  cmdClient,
  createCmdServer,
  listenUnix,
  stopServer,
  type CmdClient,
  type CmdServerImpl,
  type Server,
  type cmdv1,
} from '../src/index.ts';

// Every Cmd RPC answers with something derived from its request (or, for EmptyRequest RPCs, from
// its own name), so a call routed to the wrong handler or a lost field cannot pass.

const VMI_RPCS = [
  'SyncVirtualMachine',
  'PauseVirtualMachine',
  'UnpauseVirtualMachine',
  'UnfreezeVirtualMachine',
  'ResetVirtualMachine',
  'SoftRebootVirtualMachine',
  'ShutdownVirtualMachine',
  'KillVirtualMachine',
  'DeleteVirtualMachine',
  'SyncMigrationTarget',
  'CancelVirtualMachineMigration',
  'SignalTargetPodCleanup',
  'FinalizeVirtualMachineMigration',
  'HotplugHostDevices',
  'SyncVirtualMachineCPUs',
  'SyncVirtualMachineMemory',
] as const;

const called = new Set<string>();

function vmiUid(vmi: cmdv1.VMI__Output | null): string {
  assert.ok(vmi, 'vmi missing');
  assert.ok(Buffer.isBuffer(vmi.vmiJson), 'vmiJson must arrive as a Buffer');
  const parsed = JSON.parse(vmi.vmiJson.toString('utf8')) as { metadata: { uid: string } };
  return parsed.metadata.uid;
}

function vmiRequest(uid: string): { vmi: cmdv1.VMI } {
  return { vmi: { vmiJson: Buffer.from(JSON.stringify({ kind: 'VirtualMachineInstance', metadata: { uid } })) } };
}

function ok(message: string): cmdv1.Response {
  return { success: true, message };
}

/** Records that the RPC's handler ran and answers with `reply`. */
function seen<T>(rpc: string, reply: T): T {
  called.add(rpc);
  return reply;
}

const impl: CmdServerImpl = {
  GetDomain: () => seen('GetDomain', { response: ok(''), domain: '{"kind":"Domain","GetDomain":true}' }),
  GetDomainStats: () => seen('GetDomainStats', { response: ok(''), domainStats: '{"Name":"GetDomainStats"}' }),
  GetGuestInfo: () => seen('GetGuestInfo', { response: ok(''), guestInfoResponse: '{"hostname":"GetGuestInfo"}' }),
  GetUsers: () => seen('GetUsers', { response: ok(''), guestUserListResponse: '[{"userName":"GetUsers"}]' }),
  GetFilesystems: () => seen('GetFilesystems', { response: ok(''), guestFilesystemsResponse: '[{"diskName":"GetFilesystems"}]' }),
  Ping: () => seen('Ping', ok('Ping')),
  Exec: (req) =>
    seen('Exec', {
      response: ok(''),
      exitCode: req.Args.length,
      stdOut: `${req.domainName}$ ${req.Command} ${req.Args.join(' ')} (${req.timeoutSeconds}s)`,
    }),
  GuestPing: (req) => seen('GuestPing', { response: ok(`${req.domainName}/${req.timeoutSeconds}`) }),
  GetQemuVersion: () => seen('GetQemuVersion', { response: ok(''), version: 'GetQemuVersion-9.1.0' }),
  GetSEVInfo: () => seen('GetSEVInfo', { response: ok(''), sevInfo: Buffer.from('{"pdh":"GetSEVInfo"}') }),
  GetDomainDirtyRateStats: () =>
    seen(
      'GetDomainDirtyRateStats', // > 2^53: only survives as a decimal string.
      { response: ok(''), dirtyRateMbs: '9007199254740993' },
    ),
  FreezeVirtualMachine: (req) => seen('FreezeVirtualMachine', ok(`freeze ${vmiUid(req.vmi)} ${req.unfreezeTimeoutSeconds}`)),
  MigrateVirtualMachine: (req) => seen('MigrateVirtualMachine', ok(`migrate ${vmiUid(req.vmi)} ${req.options.toString('utf8')}`)),
  VirtualMachineMemoryDump: (req) => seen('VirtualMachineMemoryDump', ok(`dump ${vmiUid(req.vmi)} ${req.dumpPath}`)),
  InjectLaunchSecret: (req) => seen('InjectLaunchSecret', ok(`secret ${vmiUid(req.vmi)} ${req.options.toString('utf8')}`)),
  BackupVirtualMachine: (req) => seen('BackupVirtualMachine', ok(`backup ${vmiUid(req.vmi)} ${req.options.toString('utf8')}`)),
  RedefineCheckpoint: (req) =>
    seen('RedefineCheckpoint', {
      response: ok(`checkpoint ${vmiUid(req.vmi)} ${req.checkpoint.toString('utf8')}`),
      checkpointInvalid: true,
    }),
  GetLaunchMeasurement: (req) =>
    seen('GetLaunchMeasurement', { response: ok(''), launchMeasurement: Buffer.from(`{"measurement":"${vmiUid(req.vmi)}"}`) }),
  GetScreenshot: (req) =>
    seen('GetScreenshot', {
      response: ok(''),
      mime: 'image/png',
      data: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), Buffer.from(vmiUid(req.vmi))]),
    }),
  GetVMStats: (req) => {
    called.add('GetVMStats');
    const requested = Object.entries(req)
      .filter(([, marker]) => marker !== null)
      .map(([name]) => name)
      .sort();
    return {
      response: ok(requested.join(',')),
      domainStats: { response: ok(''), domainStats: '{"Name":"GetVMStats"}' },
      dirtyRateStats: req.dirtyRate ? { response: ok(''), dirtyRateMbs: 42 } : null,
      guestGetLoad: req.guestGetLoad ? ok('{"load1m":0.5}') : null,
    };
  },
};
for (const rpc of VMI_RPCS) {
  impl[rpc] = (req) => {
    called.add(rpc);
    const o = req.options;
    const summary =
      o === null
        ? 'no-options'
        : JSON.stringify({
            smbios: o.VirtualMachineSMBios?.manufacturer,
            balloon: o.MemBalloonStatsPeriod,
            prealloc: o.PreallocatedVolumes,
            cells: o.topology?.numa_cells.map((c) => ({
              id: c.id,
              memory: c.memory?.amount,
              pages: c.pages.map((p) => [p.count, p.unit, p.size]),
              distances: c.distances.map((d) => [d.id, d.value]),
              cpus: c.cpus.map((cpu) => [cpu.id, cpu.siblings]),
            })),
            disks: Object.fromEntries(
              Object.entries(o.DisksInfo).map(([k, d]) => [k, [d.format, d.backingFile, d.actualSize, d.virtualSize]]),
            ),
            cluster: o.clusterConfig && [o.clusterConfig.FreePageReportingDisabled, o.clusterConfig.GraceIOVirtualizationEnabled],
            attach: o.interfaceDomainAttachment,
            migration: Object.fromEntries(Object.entries(o.interfaceMigration).map(([k, m]) => [k, m.Method])),
            plugins: o.pluginsJson.toString('utf8'),
            grace: o.GraceHostDeviceAliases,
          });
    return ok(`${rpc} ${vmiUid(req.vmi)} ${summary}`);
  };
}

let dir: string;
let server: Server;
let client: CmdClient;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-proto-cmd-'));
  const socket = path.join(dir, 'sockets', 'launcher-sock');
  server = createCmdServer(impl);
  await listenUnix(server, socket);
  client = await cmdClient(socket);
});

after(async () => {
  client.close();
  await stopServer(server);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('cmdClient negotiates Cmd version 1 through CmdInfo.Info before the first command', () => {
  assert.equal(client.version, 1);
});

for (const rpc of VMI_RPCS) {
  test(`${rpc}: VMIRequest (vmiJson bytes) reaches the launcher's ${rpc} handler`, async () => {
    const res = await client[rpc](vmiRequest(`uid-${rpc}`));
    assert.deepEqual(res, { success: true, message: `${rpc} uid-${rpc} no-options` });
  });
}

test('SyncVirtualMachine: VirtualMachineOptions with maps, topology and uint64s arrive intact', async () => {
  const res = await client.SyncVirtualMachine({
    ...vmiRequest('uid-sync-opts'),
    options: {
      VirtualMachineSMBios: { manufacturer: 'KubeVirt' },
      MemBalloonStatsPeriod: 10,
      PreallocatedVolumes: ['rootdisk'],
      topology: {
        numa_cells: [
          {
            id: 0,
            memory: { amount: '18446744073709551615', unit: 'b' },
            pages: [{ count: 512, unit: 'KiB', size: 4 }],
            distances: [{ id: 1, value: '21' }],
            cpus: [{ id: 0, siblings: [0, 1] }],
          },
        ],
      },
      DisksInfo: { rootdisk: { format: 'qcow2', backingFile: '/base.img', actualSize: 123, virtualSize: '10737418240' } },
      clusterConfig: { FreePageReportingDisabled: true, GraceIOVirtualizationEnabled: true },
      interfaceDomainAttachment: { default: 'tap' },
      interfaceMigration: { default: { Method: 'link-refresh' } },
      pluginsJson: Buffer.from('[{"name":"p"}]'),
      GraceHostDeviceAliases: ['hostdev-0'],
    },
  });
  assert.equal(
    res.message,
    'SyncVirtualMachine uid-sync-opts ' +
      JSON.stringify({
        smbios: 'KubeVirt',
        balloon: 10,
        prealloc: ['rootdisk'],
        cells: [{ id: 0, memory: '18446744073709551615', pages: [['512', 'KiB', 4]], distances: [[1, '21']], cpus: [[0, [0, 1]]] }],
        disks: { rootdisk: ['qcow2', '/base.img', '123', '10737418240'] },
        cluster: [true, true],
        attach: { default: 'tap' },
        migration: { default: 'link-refresh' },
        plugins: '[{"name":"p"}]',
        grace: ['hostdev-0'],
      }),
  );
});

test('FreezeVirtualMachine carries unfreezeTimeoutSeconds', async () => {
  assert.deepEqual(await client.FreezeVirtualMachine({ ...vmiRequest('uid-f'), unfreezeTimeoutSeconds: 300 }), {
    success: true,
    message: 'freeze uid-f 300',
  });
});

test('MigrateVirtualMachine carries MigrationOptions JSON bytes', async () => {
  const options = Buffer.from('{"Bandwidth":"64Mi","AllowPostCopy":true}');
  assert.equal((await client.MigrateVirtualMachine({ ...vmiRequest('uid-m'), options })).message, `migrate uid-m ${options}`);
});

test('VirtualMachineMemoryDump carries dumpPath', async () => {
  const res = await client.VirtualMachineMemoryDump({ ...vmiRequest('uid-d'), dumpPath: '/var/run/kubevirt/hotplug-disks/dump' });
  assert.equal(res.message, 'dump uid-d /var/run/kubevirt/hotplug-disks/dump');
});

test('InjectLaunchSecret carries SEVSecretOptions JSON bytes', async () => {
  const res = await client.InjectLaunchSecret({ ...vmiRequest('uid-s'), options: Buffer.from('{"secret":"abc"}') });
  assert.equal(res.message, 'secret uid-s {"secret":"abc"}');
});

test('BackupVirtualMachine carries BackupOptions JSON bytes', async () => {
  const res = await client.BackupVirtualMachine({ ...vmiRequest('uid-b'), options: Buffer.from('{"backupName":"b1"}') });
  assert.equal(res.message, 'backup uid-b {"backupName":"b1"}');
});

test('RedefineCheckpoint carries checkpoint bytes and answers checkpointInvalid', async () => {
  const res = await client.RedefineCheckpoint({ ...vmiRequest('uid-c'), checkpoint: Buffer.from('{"name":"cp1"}') });
  assert.deepEqual(res, { response: { success: true, message: 'checkpoint uid-c {"name":"cp1"}' }, checkpointInvalid: true });
});

test('GetLaunchMeasurement answers launchMeasurement bytes as a Buffer', async () => {
  const res = await client.GetLaunchMeasurement(vmiRequest('uid-lm'));
  assert.ok(Buffer.isBuffer(res.launchMeasurement));
  assert.equal(res.launchMeasurement.toString('utf8'), '{"measurement":"uid-lm"}');
});

test('GetScreenshot answers binary data as a Buffer, byte for byte', async () => {
  const res = await client.GetScreenshot(vmiRequest('uid-ss'));
  assert.equal(res.mime, 'image/png');
  assert.ok(Buffer.isBuffer(res.data));
  assert.deepEqual(res.data, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]), Buffer.from('uid-ss')]));
});

test('GetDomain, GetDomainStats, GetGuestInfo, GetUsers, GetFilesystems answer their JSON strings', async () => {
  assert.deepEqual(await client.GetDomain({}), { response: { success: true, message: '' }, domain: '{"kind":"Domain","GetDomain":true}' });
  assert.equal((await client.GetDomainStats({})).domainStats, '{"Name":"GetDomainStats"}');
  assert.equal((await client.GetGuestInfo({})).guestInfoResponse, '{"hostname":"GetGuestInfo"}');
  assert.equal((await client.GetUsers({})).guestUserListResponse, '[{"userName":"GetUsers"}]');
  assert.equal((await client.GetFilesystems({})).guestFilesystemsResponse, '[{"diskName":"GetFilesystems"}]');
});

test('Ping answers the launcher Response', async () => {
  assert.deepEqual(await client.Ping({}), { success: true, message: 'Ping' });
});

test('Exec carries domain, command, args and timeout; server sees absent fields as proto3 defaults', async () => {
  assert.deepEqual(await client.Exec({ domainName: 'ns_vm', Command: 'cat', Args: ['/etc/os-release', '-n'], timeoutSeconds: 3 }), {
    response: { success: true, message: '' },
    exitCode: 2,
    stdOut: 'ns_vm$ cat /etc/os-release -n (3s)',
  });
  assert.equal((await client.Exec({ Command: 'true' })).stdOut, '$ true  (0s)');
});

test('GuestPing carries domainName and timeoutSeconds', async () => {
  assert.deepEqual(await client.GuestPing({ domainName: 'ns_vm', timeoutSeconds: 7 }), {
    response: { success: true, message: 'ns_vm/7' },
  });
});

test('GetQemuVersion answers the version string', async () => {
  assert.equal((await client.GetQemuVersion({})).version, 'GetQemuVersion-9.1.0');
});

test('GetSEVInfo answers sevInfo bytes as a Buffer', async () => {
  const res = await client.GetSEVInfo({});
  assert.ok(Buffer.isBuffer(res.sevInfo));
  assert.equal(res.sevInfo.toString('utf8'), '{"pdh":"GetSEVInfo"}');
});

test('GetDomainDirtyRateStats answers int64 dirtyRateMbs as a decimal string without precision loss', async () => {
  assert.equal((await client.GetDomainDirtyRateStats({})).dirtyRateMbs, '9007199254740993');
});

test('GetVMStats: presence of empty marker messages selects what to collect', async () => {
  const res = await client.GetVMStats({ domainStats: {}, dirtyRate: {}, guestGetLoad: {} });
  assert.deepEqual(res.response, { success: true, message: 'dirtyRate,domainStats,guestGetLoad' });
  assert.equal(res.domainStats?.domainStats, '{"Name":"GetVMStats"}');
  assert.equal(res.dirtyRateStats?.dirtyRateMbs, '42');
  assert.equal(res.guestGetLoad?.message, '{"load1m":0.5}');
  assert.equal(res.guestGetUsers, null);
});

test('every one of the 36 Cmd RPCs reached its handler over the socket', () => {
  assert.deepEqual([...called].sort(), Object.keys(CMD_METHODS).sort());
});
