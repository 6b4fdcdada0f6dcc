// `virtctl memory-dump` end to end on the test bed, as KubeVirt does it on a node: a real
// kube-apiserver, virt-handler as a process, KubeVirt's default non-root launcher (uid 107) in a pod
// sandbox booting the test guest, and an attachment pod with the dump claim mounted at /<volume>. The
// test plays virt-controller: it adds the memoryDump volume to the VMI's spec and its volume status
// (the attachment pod, memoryDumpVolume with the claim) to the status. virt-handler bind-mounts the
// claim's directory into the launcher pod, marks the volume MemoryDumpInProgress with a target file,
// asks the launcher for the dump (VirtualMachineMemoryDump), and from the domain's metadata marks it
// MemoryDumpCompleted with its start and end; the ELF core of the guest's memory is in the claim.
// A utility volume (spec.utilityVolumes) is mounted the same way, as a directory, and never reaches the domain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { poll } from '../../../test/bed/poll.ts';
import { mountsUnder } from '../../../test/bed/mounts.ts';
import type { SerialConsole } from '../../../test/bed/serial.ts';
import { startAttachmentPod, type AttachmentPod } from '../../../test/bed/attachment-pod.ts';
import { startHandlerNode, VMI, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';

type MemoryDumpInfo = { claimName?: string; targetFileName?: string; startTimestamp?: string; endTimestamp?: string };
type VolumeStatus = {
  name: string;
  target: string;
  phase?: string;
  reason?: string;
  message?: string;
  hotplugVolume?: object;
  memoryDumpVolume?: MemoryDumpInfo;
};
type VMIBody = {
  metadata: { name: string; resourceVersion?: string };
  spec: { volumes: { name: string }[]; utilityVolumes?: { name: string; claimName: string; type?: string }[] };
  status: { phase?: string; volumeStatus?: VolumeStatus[] };
};

/** The test guest's memory (testVMI). */
const GUEST_MEMORY_BYTES = 128 * 1024 * 1024;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
/** virtctl memory-dump names the volume after the claim; virt-controller's memoryDumpVolume.claimName is the volume's name. */
const VOLUME = 'dumpclaim';

describe('memory dump: attachment pod → virt-handler mount → launcher dump → volume status', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  let namespace: string;
  let vm: TestVM;
  let serial: SerialConsole | undefined;
  let pod: AttachmentPod | undefined;
  const logs = () => `${node.handler.logs().slice(-6000)}\nlauncher:\n${vm?.launcher.logs().slice(-4000) ?? ''}`;
  const getVMI = async (name: string) => (await api.getNamespacedCustomObject({ ...VMI, namespace, name })) as VMIBody;
  const updateVMI = (name: string, change: (vmi: VMIBody) => void) => node.updateVMI<VMIBody>(name, change);
  const volumeStatus = async (name = VOLUME) => (await getVMI(vm.name)).status.volumeStatus?.find((v) => v.name === name);
  const hotplugMounts = () =>
    mountsUnder(vm.sandbox.volumePath('hotplug-disks'))
      .filter((m) => m !== vm.sandbox.volumePath('hotplug-disks'))
      .map((m) => path.basename(m));

  before(async () => {
    node = await startHandlerNode({ namespace: 'memdump', nodePrefix: 'kvts-md' });
    ({ api, core, namespace } = node);
    vm = await node.startVM('vmi-md', { nonRoot: true });
    serial = await node.guestConsole(vm, { logs, runningMs: 120_000, promptMs: 180_000 });
  });

  after(async () => {
    serial?.close();
    await pod?.stop().catch(() => undefined);
    await node?.stop();
  });

  test('a memoryDump volume: InProgress → Completed with start and end; the ELF dump of the guest memory in the claim', async (t) => {
    const tag = `kvts-memdump-${randomUUID()}`;
    // a string only this guest's memory holds: the shell keeps it in its variables
    await serial!.run(`MARK=${tag}; echo $MARK >/dev/null`);
    pod = await startAttachmentPod({ volumeName: VOLUME, sizeBytes: 4096 });
    const claimDir = path.dirname(pod.diskImage);
    // an earlier dump in the claim goes with the new one (removePreviousMemoryDump)
    const earlier = path.join(claimDir, `${vm.name}-${VOLUME}-20260101-000000.memory.dump`);
    writeFileSync(earlier, 'an earlier dump');

    // virt-controller: the volume in the spec, its status with the attachment pod and the claim
    const added = performance.now();
    await updateVMI(vm.name, (vmi) => {
      vmi.spec.volumes.push({ name: VOLUME, memoryDump: { claimName: VOLUME, hotpluggable: true } } as { name: string });
      vmi.status.volumeStatus = [
        ...(vmi.status.volumeStatus ?? []),
        {
          name: VOLUME,
          target: '',
          phase: 'AttachedToNode',
          reason: 'SuccessfulCreate',
          message: `Created hotplug attachment pod ${pod!.name}, for volume ${VOLUME}`,
          hotplugVolume: { attachPodName: pod!.name, attachPodUID: pod!.podUID },
          memoryDumpVolume: { claimName: VOLUME },
          persistentVolumeClaimInfo: {
            claimName: VOLUME,
            accessModes: ['ReadWriteOnce'],
            volumeMode: 'Filesystem',
            capacity: { storage: '1Gi' },
          },
        } as VolumeStatus,
      ];
    });

    // the phases as the handler writes them (each poll sees the newest; InProgress may be brief)
    const seen: string[] = [];
    const completed = await poll(
      `volume ${VOLUME} MemoryDumpCompleted (or Failed)`,
      async () => {
        const s = await volumeStatus();
        if (s?.phase && seen.at(-1) !== s.phase) seen.push(s.phase);
        return s?.phase === 'MemoryDumpCompleted' || s?.phase === 'MemoryDumpFailed' ? s : undefined;
      },
      120_000,
      () => `${logs()}\nphases seen: ${seen.join(' → ')}`,
    );
    t.diagnostic(`VMI updated → ${completed.phase}: ${Math.round(performance.now() - added)} ms (phases seen: ${seen.join(' → ')})`);
    assert.equal(completed.phase, 'MemoryDumpCompleted', `${completed.message}\n${logs()}`);
    assert.equal(completed.reason, 'VolumeReady');
    assert.equal(completed.message, `Memory dump to Volume ${VOLUME} has completed successfully`);
    assert.equal(completed.target, '');
    const info = completed.memoryDumpVolume ?? {};
    assert.equal(info.claimName, VOLUME);
    assert.match(info.targetFileName ?? '', new RegExp(`^${vm.name}-${VOLUME}-\\d{8}-\\d{6}\\.memory\\.dump$`));
    assert.match(info.startTimestamp ?? '', RFC3339);
    assert.match(info.endTimestamp ?? '', RFC3339);
    assert.ok(Date.parse(info.startTimestamp!) <= Date.parse(info.endTimestamp!), `${info.startTimestamp} ≤ ${info.endTimestamp}`);

    // InProgress came first: its Event (VolumeMountedToPod, the dump's message), then Completed's
    const events = await poll(
      'the memory dump Events',
      async () => {
        const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${vm.name}` });
        const mine = list.items.filter((e) => e.source?.component === 'virt-handler').map((e) => `${e.reason}: ${e.message}`);
        const inProgress = mine.indexOf(`VolumeMountedToPod: Memory dump Volume ${VOLUME} is attached, getting memory dump`);
        const done = mine.indexOf(`VolumeReady: Memory dump to Volume ${VOLUME} has completed successfully`);
        return inProgress >= 0 && done >= 0 ? { mine, inProgress, done } : undefined;
      },
      15_000,
      logs,
    );
    assert.ok(events.inProgress < events.done, `order: ${events.mine.join('; ')}`);

    // the claim's directory was bound into the launcher pod, handed to qemu (107)
    assert.deepEqual(hotplugMounts(), [VOLUME]);
    assert.equal(statSync(claimDir).uid, 107);
    // the dump, written by the launcher's libvirt in the pod, is in the claim on the node
    const dump = path.join(claimDir, info.targetFileName!);
    const size = statSync(dump).size;
    // the guest's RAM, plus its other RAM blocks (the VGA's 16 MiB) and the ELF headers and notes
    assert.ok(size >= GUEST_MEMORY_BYTES && size < GUEST_MEMORY_BYTES * 1.25, `dump size ${size}`);
    const fd = openSync(dump, 'r');
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    assert.deepEqual(magic, Buffer.from([0x7f, 0x45, 0x4c, 0x46]), 'ELF');
    assert.ok(readFileSync(dump).includes(tag), 'the guest shell variable is in the dump');
    assert.equal(existsSync(earlier), false, 'the earlier dump removed');
    assert.deepEqual(
      readdirSync(claimDir).filter((n) => n.includes('memory.dump')),
      [info.targetFileName],
    );
    // one dump, though the handler asked each round while it was in progress
    assert.equal(vm.launcher.logs().split('Starting memory dump').length - 1, 1, vm.launcher.logs().slice(-3000));

    // virt-controller takes the volume out of the spec once the dump completed: the handler unmounts it
    await updateVMI(vm.name, (vmi) => {
      vmi.spec.volumes = vmi.spec.volumes.filter((v) => v.name !== VOLUME);
    });
    await poll(
      'the dump volume unmounted from the launcher pod',
      async () => (hotplugMounts().length === 0 ? true : undefined),
      30_000,
      logs,
    );
    assert.equal(existsSync(path.join(vm.sandbox.volumePath('hotplug-disks'), VOLUME)), false, 'its directory removed');
    assert.ok(existsSync(dump), 'the dump stays in the claim');
    assert.equal((await volumeStatus())?.phase, 'MemoryDumpCompleted');
  });
  test("a utility volume: the claim's directory in the launcher pod, handed to qemu (107), MountedToPod; unmounted once it leaves utilityVolumes", async () => {
    const name = 'utilclaim';
    const util = await startAttachmentPod({ volumeName: name, sizeBytes: 4096 });
    try {
      const claimDir = path.dirname(util.diskImage);
      // virt-controller: the utility volume in the spec, its status with the attachment pod
      await updateVMI(vm.name, (vmi) => {
        vmi.spec.utilityVolumes = [{ name, claimName: name, type: 'Backup' }];
        vmi.status.volumeStatus = [
          ...(vmi.status.volumeStatus ?? []),
          {
            name,
            target: '',
            phase: 'AttachedToNode',
            hotplugVolume: { attachPodName: util.name, attachPodUID: util.podUID },
            persistentVolumeClaimInfo: { claimName: name, volumeMode: 'Filesystem' },
          } as VolumeStatus,
        ];
      });
      const mounted = await poll(
        `utility volume ${name} MountedToPod`,
        async () => {
          const s = await volumeStatus(name);
          return s?.phase === 'MountedToPod' ? s : undefined;
        },
        60_000,
        logs,
      );
      assert.equal(mounted.reason, 'VolumeMountedToPod');
      assert.equal(mounted.target, '', 'never attached to the domain');
      // the whole claim directory (not a disk.img) is bound into the pod, and qemu's user writes through it
      assert.ok(hotplugMounts().includes(name), hotplugMounts().join(', '));
      const inPod = path.join(vm.sandbox.volumePath('hotplug-disks'), name);
      assert.ok(statSync(inPod).isDirectory());
      // handed to qemu (107), as the memory dump's directory; a file written in the pod lands in the claim
      assert.equal(statSync(inPod).uid, 107);
      assert.equal(statSync(inPod).mode & 0o700, 0o700);
      writeFileSync(path.join(inPod, 'from-the-pod'), 'x');
      assert.ok(existsSync(path.join(claimDir, 'from-the-pod')), 'written through the bind into the claim');
      assert.ok(existsSync(path.join(inPod, 'disk.img')), "the claim's files are there");

      await updateVMI(vm.name, (vmi) => {
        vmi.spec.utilityVolumes = [];
      });
      const unmounted = await poll(
        `utility volume ${name} UnMountedFromPod`,
        async () => {
          const s = await volumeStatus(name);
          return s?.phase === 'UnMountedFromPod' ? s : undefined;
        },
        60_000,
        logs,
      );
      assert.equal(unmounted.reason, 'VolumeUnMountedFromPod');
      assert.ok(!hotplugMounts().includes(name), `${hotplugMounts().join(', ')}\n${logs()}`);
      assert.equal(existsSync(inPod), false, 'its directory removed');
      assert.ok(existsSync(path.join(claimDir, 'from-the-pod')), 'what was written stays in the claim');
    } finally {
      await util.stop().catch(() => undefined);
    }
  });
});
