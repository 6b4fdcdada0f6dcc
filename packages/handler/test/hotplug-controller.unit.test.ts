// The VirtualMachineController around the hotplug mounter, as KubeVirt's vm.go drives it: for a
// Running VMI, Mount before SyncVirtualMachine and Unmount after it (handleRunningVMI, the post-sync
// housekeeping); a waiting mount is looked at again in a second, a missing file is a HotplugFailed
// Event, anything else fails the sync; a starting VMI waits for its hotplug volumes' mounts
// (hotplugVolumesReady); the cleanup unmounts everything (UnmountAll). One execute() per case, with
// fakes around the controller.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { newDomain, parseDomain, parseVMI, type VirtualMachineInstance, type VirtualMachineInstanceStatus } from '@kubevirt-ts/shared';
import { WaitingForHotplugMountError, type HotplugVolumeMounter } from '../src/hotplug-disk/mounter.ts';
import { HOTPLUG_REQUEUE_MS, SYNC_FAILED_REQUEUE_MS, VirtualMachineController, type LauncherClient } from '../src/vm-controller.ts';

const uid = '6a3d1f0e-0000-4000-8000-0000000000h2';
const key = 'default/testvmi';
const socketFile = '/pods/pod-uid/volumes/kubernetes.io~empty-dir/sockets/launcher-sock';

function vmi(phase: string, hpPhase: string | undefined, inSpec = true): VirtualMachineInstance {
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid, resourceVersion: '7', labels: { 'kubevirt.io/nodeName': 'node01' } },
    spec: {
      domain: { devices: { disks: inSpec ? [{ name: 'hp', disk: { bus: 'scsi' } }] : [] } },
      volumes: inSpec ? [{ name: 'hp', persistentVolumeClaim: { claimName: 'c', hotpluggable: true } }] : [],
    },
    status: {
      phase,
      nodeName: 'node01',
      ...(hpPhase
        ? {
            volumeStatus: [{ name: 'hp', target: '', phase: hpPhase, hotplugVolume: { attachPodName: 'hp-volume-x', attachPodUID: 'a1' } }],
          }
        : {}),
    },
  });
}

/** A VMI with a memory dump volume (virtctl memory-dump) in the given phase. */
function dumpVMI(phase: string): VirtualMachineInstance {
  return parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid, resourceVersion: '7', labels: { 'kubevirt.io/nodeName': 'node01' } },
    spec: { domain: { devices: {} }, volumes: [{ name: 'dumpvol', memoryDump: { claimName: 'dump-claim', hotpluggable: true } }] },
    status: {
      phase: 'Running',
      nodeName: 'node01',
      volumeStatus: [
        {
          name: 'dumpvol',
          target: '',
          phase,
          hotplugVolume: { attachPodName: 'hp-volume-x', attachPodUID: 'a1' },
          memoryDumpVolume: { claimName: 'dump-claim', targetFileName: 'testvmi-dumpvol-20261203-230405.memory.dump' },
        },
      ],
    },
  });
}

const running = () => {
  const d = newDomain({ name: 'testvmi', namespace: 'default', uid });
  d.Status.Status = 'Running';
  d.Status.Reason = 'Unknown';
  return parseDomain(d);
};

interface Setup {
  vmi: VirtualMachineInstance | undefined;
  domain?: boolean;
  /** Mount fails with this. */
  mountFails?: Error;
  /** IsMounted's answer. */
  mounted?: boolean;
  /** VirtualMachineMemoryDump answers with this failure. */
  dumpFails?: string;
}

function fixture(s: Setup) {
  const calls: string[] = [];
  const events: string[] = [];
  const writes: VirtualMachineInstanceStatus[] = [];
  const mounter: HotplugVolumeMounter = {
    mount: async () => {
      calls.push('mount');
      if (s.mountFails) throw s.mountFails;
    },
    unmount: async () => void calls.push('unmount'),
    unmountAll: async (u) => void calls.push(`unmountAll ${u}`),
    isMounted: () => s.mounted ?? false,
  };
  const reply = (call: string) => async () => {
    calls.push(call);
    return { success: true, message: '' };
  };
  const client = {
    SyncVirtualMachine: reply('SyncVirtualMachine'),
    ShutdownVirtualMachine: reply('ShutdownVirtualMachine'),
    KillVirtualMachine: reply('KillVirtualMachine'),
    DeleteVirtualMachine: reply('DeleteVirtualMachine'),
    VirtualMachineMemoryDump: async (req: { dumpPath: string }) => {
      calls.push(`VirtualMachineMemoryDump ${req.dumpPath}`);
      return { success: s.dumpFails === undefined, message: s.dumpFails ?? '' };
    },
    GetGuestInfo: async () => ({ guestInfoResponse: '{}', response: { success: true, message: '' } }),
  } as unknown as LauncherClient;
  const record = { name: 'testvmi', namespace: 'default', socketFile, uid };
  const domain = s.domain ? running() : undefined;
  const controller = new VirtualMachineController({
    logger: pino({ level: 'silent' }),
    host: 'node01',
    vmis: [{ get: () => s.vmi, list: () => (s.vmi ? [s.vmi] : []) }],
    domains: { get: () => domain, list: () => (domain ? [domain] : []), on: () => undefined },
    launchers: {
      record: () => record,
      ghostRecords: () => [record],
      findSocket: () => ({ socket: socketFile, initializing: false }),
      remember: () => record,
      client: async () => client,
      resetClient: () => undefined,
      isUnresponsive: () => false,
      close: () => void calls.push('close'),
    },
    statusWriter: { update: async (_v, status) => void writes.push(status) },
    recorder: { event: (_v, type, reason) => void events.push(`${type} ${reason}`) },
    syncOptions: () => ({}),
    hotplugVolumes: mounter,
  });
  return { controller, calls, events, writes };
}

const hpStatus = (writes: VirtualMachineInstanceStatus[]) => writes.at(-1)?.volumeStatus?.find((v) => v.name === 'hp');

describe('VirtualMachineController and the hotplug mounter', () => {
  test('Running VMI: Mount, then SyncVirtualMachine, then Unmount; mounted → MountedToPod (its Event), looked at again in 1 s', async () => {
    const f = fixture({ vmi: vmi('Running', 'AttachedToNode'), domain: true, mounted: true });
    const requeue = await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount', 'SyncVirtualMachine', 'unmount']);
    assert.equal(hpStatus(f.writes)?.phase, 'MountedToPod');
    assert.deepEqual(f.events, ['Normal VolumeMountedToPod']);
    assert.equal(requeue, HOTPLUG_REQUEUE_MS);
  });

  test('Running VMI, the attachment pod not found yet → still synced, looked at again in 1 s, no Event', async () => {
    const f = fixture({
      vmi: vmi('Running', 'AttachedToNode'),
      domain: true,
      mountFails: new WaitingForHotplugMountError('waiting for hotplug mount'),
    });
    const requeue = await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount', 'SyncVirtualMachine', 'unmount']);
    assert.deepEqual(f.events, []);
    assert.equal(requeue, HOTPLUG_REQUEUE_MS);
  });

  test('Running VMI, a file missing → HotplugFailed Event, the sync goes on', async () => {
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/pods/x/disk.img'"), { code: 'ENOENT' });
    const f = fixture({ vmi: vmi('Running', 'AttachedToNode'), domain: true, mountFails: missing });
    await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount', 'SyncVirtualMachine', 'unmount']);
    assert.deepEqual(f.events, ['Warning HotplugFailed']);
  });

  test('Running VMI, the bind mount fails → no sync, SyncFailed; the pending volume is looked at again first', async () => {
    const f = fixture({ vmi: vmi('Running', 'AttachedToNode'), domain: true, mountFails: new Error('failed to bindmount hotplug volume') });
    const requeue = await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount']);
    assert.deepEqual(f.events, ['Warning SyncFailed']);
    assert.equal(f.writes.at(-1)?.conditions?.find((c) => c.type === 'Synchronized')?.status, 'False');
    // KubeVirt both re-enqueues the failed key and adds it after 1 s (needsRefresh): the sooner wins
    assert.ok(HOTPLUG_REQUEUE_MS < SYNC_FAILED_REQUEUE_MS);
    assert.equal(requeue, HOTPLUG_REQUEUE_MS);
  });

  test('Running VMI, the volume gone from the spec and unmounted → UnMountedFromPod and its Event', async () => {
    const f = fixture({ vmi: vmi('Running', 'Ready', false), domain: true, mounted: false });
    await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount', 'SyncVirtualMachine', 'unmount']);
    assert.equal(hpStatus(f.writes)?.phase, 'UnMountedFromPod');
    assert.deepEqual(f.events, ['Normal VolumeUnMountedFromPod']);
  });

  test('starting VMI with a hotplug volume not yet mounted into the pod → no sync yet; mounted → MountedToPod', async () => {
    const f = fixture({ vmi: vmi('Scheduled', 'AttachedToNode'), mounted: true });
    const requeue = await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount']);
    assert.equal(hpStatus(f.writes)?.phase, 'MountedToPod');
    assert.equal(requeue, HOTPLUG_REQUEUE_MS);
  });

  test('starting VMI whose hotplug volume is mounted to the pod → synced (no Unmount before it runs)', async () => {
    const f = fixture({ vmi: vmi('Scheduled', 'MountedToPod'), mounted: true });
    await f.controller.execute(key);
    assert.deepEqual(f.calls, ['mount', 'SyncVirtualMachine']);
  });

  test('Running VMI, a memory dump in progress → VirtualMachineMemoryDump into the volume directory in the pod, before the sync (getMemoryDump)', async () => {
    const f = fixture({ vmi: dumpVMI('MemoryDumpInProgress'), domain: true, mounted: true });
    const requeue = await f.controller.execute(key);
    assert.deepEqual(f.calls, [
      'mount',
      'VirtualMachineMemoryDump /var/run/kubevirt/hotplug-disks/dumpvol/testvmi-dumpvol-20261203-230405.memory.dump',
      'SyncVirtualMachine',
      'unmount',
    ]);
    assert.equal(requeue, HOTPLUG_REQUEUE_MS, 'looked at again in 1 s while the dump runs');
  });

  test('Running VMI, a memory dump volume just mounted (not in progress yet) or completed → no dump asked', async () => {
    for (const phase of ['AttachedToNode', 'MemoryDumpCompleted', 'MemoryDumpFailed']) {
      const f = fixture({ vmi: dumpVMI(phase), domain: true, mounted: true });
      await f.controller.execute(key);
      assert.deepEqual(f.calls, ['mount', 'SyncVirtualMachine', 'unmount'], phase);
    }
  });

  test("Running VMI, the launcher refuses the dump → the round fails with KubeVirt's text, no sync", async () => {
    const f = fixture({ vmi: dumpVMI('MemoryDumpInProgress'), domain: true, mounted: true, dumpFails: 'Domain not found.' });
    await f.controller.execute(key);
    assert.deepEqual(f.calls.slice(-1), [
      'VirtualMachineMemoryDump /var/run/kubevirt/hotplug-disks/dumpvol/testvmi-dumpvol-20261203-230405.memory.dump',
    ]);
    assert.deepEqual(f.events, ['Warning SyncFailed']);
    assert.equal(
      f.writes.at(-1)?.conditions?.find((c) => c.type === 'Synchronized')?.message,
      'failed to getting memory dump: Domain not found.',
    );
  });

  test('the VMI gone and its domain too → every hotplug mount undone (UnmountAll), the launcher forgotten', async () => {
    const f = fixture({ vmi: undefined });
    await f.controller.execute(key);
    assert.deepEqual(f.calls, [`unmountAll ${uid}`, 'close']);
  });
});
