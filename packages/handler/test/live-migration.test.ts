// Live migration driven by virt-handler, end to end on real parts: two nodes of one cluster (one
// kube-apiserver, a virt-handler process each, with certificates of one CA), a VMI booted on node A,
// and the test playing virt-controller: it creates the target pod on node B and writes the migration
// into the VMI (activePods, the target label, migrationState) as KubeVirt's migration controller does.
// Everything after that is the handlers': B prepares its pod and publishes its proxy's ports, A opens
// its proxy and has its launcher migrate through both proxies (TLS), B acknowledges the migrated
// domain, moves the VMI to its node and finalizes. Proved in the guest (its memory on B's console),
// in the VMI (nodeName, labels, migrationState) and in the Events, and B then serves the VMI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { serialConsoleSocketPath } from '@kubevirt-ts/shared';
import { poll } from '../../../test/bed/poll.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import type { PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import type { RunningLauncher } from '../../../test/bed/launcher.ts';
import { startAttachmentPod, type AttachmentPod } from '../../../test/bed/attachment-pod.ts';
import { startHandlerNode, type HandlerNode, type TestVM, type VMIObject } from '../../../test/bed/handler-node.ts';

/** What the test reads of a migrating VMI, beyond VMIObject. */
type MigratingVMI = VMIObject & {
  metadata: { labels?: Record<string, string> };
  status?: VMIObject['status'] & {
    nodeName?: string;
    activePods?: Record<string, string>;
    migrationTransport?: string;
    migrationState?: {
      migrationUid?: string;
      sourceNode?: string;
      targetNode?: string;
      targetPod?: string;
      targetNodeAddress?: string;
      targetDirectMigrationNodePorts?: Record<string, number>;
      targetNodeDomainDetected?: boolean;
      targetNodeDomainReadyTimestamp?: string;
      startTimestamp?: string;
      endTimestamp?: string;
      completed?: boolean;
      failed?: boolean;
      abortRequested?: boolean;
      abortStatus?: string;
      migrationConfiguration?: object;
    };
  };
};

const MigrationTargetNodeNameLabel = 'kubevirt.io/migrationTargetNodeName';
const GUEST_AT_BOOT = '256Mi';
const HOTPLUG_SIZE = 64 * 1024 * 1024;
/** A migration configuration (VMIMConfigurationOptions) with KubeVirt's defaults and unsafeMigrationOverride. */
const UNSAFE = { bandwidthPerMigration: '0Mi', progressTimeout: 150, completionTimeoutPerGiB: 150, unsafeMigrationOverride: true };

// KubeVirt's default launchers: non-root (uid 107, session libvirt). Root launchers migrate the same
// way through the same handler code (test/live-migration.test.ts migrates both at the launcher level).
const nonRoot = true;

describe('live migration between two virt-handler nodes, driven by the handlers (non-root launchers, uid 107)', {
  timeout: 900_000,
}, () => {
  let a: HandlerNode;
  let b: HandlerNode;
  let vm: TestVM;
  let target: { sandbox: PodSandbox; launcher: RunningLauncher } | undefined;
  /** A claim hotplugged into the VMI (ReadWriteMany), and the attachment pod it is mounted from. */
  let hotplugged: { volume: string; pod: AttachmentPod } | undefined;
  const attachments: AttachmentPod[] = [];
  const logs = () =>
    `node A:\n${a?.handler.logs().slice(-8000)}\nnode B:\n${b?.handler.logs().slice(-8000)}\nsource launcher:\n${vm?.launcher.logs().slice(-3000)}\ntarget launcher:\n${target?.launcher.logs().slice(-5000) ?? ''}`;
  const getVMI = async () => (await a.getVMI(vm.name)) as MigratingVMI;
  const events = async () =>
    (await a.core.listNamespacedEvent({ namespace: a.namespace, fieldSelector: `involvedObject.name=${vm.name}` })).items;

  /**
   * virt-controller's part: the target pod on `to` and the migration from `from` in the VMI (with
   * `change` to the VMI in the same Update, as its VM controller's hotplug does before it asks for
   * the migration). activePods: the pod the guest runs in and the new one (the older ones are gone).
   */
  const startMigration = async (o: {
    from: HandlerNode;
    to: HandlerNode;
    runningIn: PodSandbox;
    configuration?: object;
    change?: (vmi: MigratingVMI) => void;
  }) => {
    const migrationUid = randomUUID();
    const podName = `virt-launcher-${vm.name}-${randomUUID().slice(0, 5)}`;
    target = await o.to.startTargetPod(vm, podName, { nonRoot });
    // a hotplugged claim: the target node's attachment pod of the same claim
    const targetAttachment = hotplugged
      ? await startAttachmentPod({ volumeName: hotplugged.volume, sizeBytes: HOTPLUG_SIZE, shares: hotplugged.pod })
      : undefined;
    if (targetAttachment) attachments.push(targetAttachment);
    await a.updateVMI<MigratingVMI>(vm.name, (vmi) => {
      vmi.metadata.labels = { ...vmi.metadata.labels, [MigrationTargetNodeNameLabel]: o.to.nodeName };
      const status = vmi.status!;
      status.activePods = { [o.runningIn.podUID]: o.from.nodeName, [target!.sandbox.podUID]: o.to.nodeName };
      status.migrationTransport = 'Unix';
      status.migrationState = {
        migrationUid,
        sourceNode: o.from.nodeName,
        targetNode: o.to.nodeName,
        targetPod: podName,
        ...(o.configuration ? { migrationConfiguration: o.configuration } : {}),
        ...(targetAttachment ? { targetAttachmentPodUID: targetAttachment.podUID } : {}),
      };
      o.change?.(vmi);
    });
    return { migrationUid, targetAttachment };
  };

  /** virt-controller after a migration: the hotplugged volume's attachment pod is the target's now, the old one goes. */
  const handOverAttachment = async (targetAttachment: AttachmentPod | undefined) => {
    if (!hotplugged || !targetAttachment) return;
    const old = hotplugged.pod;
    hotplugged = { volume: hotplugged.volume, pod: targetAttachment };
    await a.updateVMI<MigratingVMI>(vm.name, (vmi) => {
      const status = vmi.status as { volumeStatus?: Array<{ name: string; hotplugVolume?: object }> };
      for (const v of status.volumeStatus ?? []) {
        if (v.hotplugVolume) v.hotplugVolume = { attachPodName: targetAttachment.name, attachPodUID: targetAttachment.podUID };
      }
    });
    await old.stop();
  };

  /** Until the migration completed and the target let the VMI go (its label removed). */
  const migrationDone = (migrationUid: string) =>
    poll(
      'the migration completed and the target let the VMI go',
      async () => {
        const v = await getVMI();
        const s = v.status?.migrationState;
        return s?.migrationUid === migrationUid && s.completed && !v.metadata.labels?.[MigrationTargetNodeNameLabel] ? v : undefined;
      },
      300_000,
      logs,
    );

  /** The guest's console in `sandbox` (the pod its QEMU runs in). */
  const guestConsole = async (sandbox: PodSandbox) => {
    const socket = sandbox.hostPath(serialConsoleSocketPath(vm.uid, 0, '/var/run/kubevirt-private'));
    await poll('serial console socket', async () => (existsSync(socket) ? true : undefined), 30_000, logs);
    const serial = await SerialConsole.open(socket);
    await serial.waitForPrompt(GUEST_PROMPT, 60_000);
    return serial;
  };

  before(async () => {
    a = await startHandlerNode({ namespace: 'migration', nodePrefix: 'kvts-mig-a' });
    b = await startHandlerNode({ namespace: 'migration', nodePrefix: 'kvts-mig-b', join: a });
    // room for a second socket (maxSockets) and for memory (maxGuest, virtio-mem): virt-controller
    // hotplugs vCPUs and memory through a migration. 256Mi: hotplug room makes the guest kernel
    // reserve its swiotlb, and 128Mi is then too little (memory-hotplug.test.ts).
    vm = await a.startVM('migvm', {
      nonRoot,
      autoattachMemBalloon: true,
      customize: (vmi) => {
        Object.assign(vmi.spec.domain, {
          cpu: { sockets: 1, cores: 1, threads: 1, maxSockets: 2 },
          memory: { guest: GUEST_AT_BOOT, maxGuest: '1Gi' },
          resources: { requests: { memory: GUEST_AT_BOOT } },
        });
        // virt-api's webhook: the memory the guest boots with
        Object.assign(vmi.status, { memory: { guestAtBoot: GUEST_AT_BOOT, guestCurrent: GUEST_AT_BOOT, guestRequested: GUEST_AT_BOOT } });
      },
    });
  });

  after(async () => {
    await b?.stop();
    await a?.stop();
    for (const pod of attachments) await pod.stop().catch(() => undefined);
  });

  test('the VMI is LiveMigratable on node A (a containerDisk: a block migration)', async () => {
    const serial = await a.guestConsole(vm, { logs });
    serial.close();
    const vmi = await poll(
      'LiveMigratable True',
      async () => {
        const v = await getVMI();
        return v.status?.conditions?.find((c) => c.type === 'LiveMigratable')?.status === 'True' ? v : undefined;
      },
      30_000,
      logs,
    );
    assert.equal(vmi.status?.migrationMethod, 'BlockMigration');
  });

  test('an aborted migration: A cancels it, B lets its target pod go, the VMI stays on A', async () => {
    // 1 MiB/s: the block migration of the guest's disk and memory takes minutes, time to abort
    const { migrationUid } = await startMigration({
      from: a,
      to: b,
      runningIn: vm.sandbox,
      configuration: { bandwidthPerMigration: '1Mi', progressTimeout: 150, completionTimeoutPerGiB: 800 },
    });
    const started = await poll(
      'the migration started (startTimestamp from the source launcher)',
      async () => {
        const v = await getVMI();
        return v.status?.migrationState?.startTimestamp ? v : undefined;
      },
      120_000,
      logs,
    );
    // B published where its proxy listens, for A to dial
    assert.equal(started.status?.migrationState?.targetNodeAddress, '127.0.0.1');
    assert.equal(Object.keys(started.status?.migrationState?.targetDirectMigrationNodePorts ?? {}).length, 3);
    // A's migration metrics (migrationdomainstats): the source launcher's job stats, every 5 s
    const migrationSeries = async () =>
      (await a.request('GET', '/metrics', { port: a.healthPort })).body
        .split('\n')
        .filter((l) => l.startsWith('kubevirt_vmi_migration_') && l.includes(`name="${vm.name}"`));
    const series = await poll(
      'kubevirt_vmi_migration_* series of the migrating VMI on node A',
      async () => {
        const lines = await migrationSeries();
        const processed = lines.find((l) => l.startsWith('kubevirt_vmi_migration_data_processed_bytes{'));
        return processed && Number(processed.split(' ').at(-1)) > 0 ? lines : undefined;
      },
      60_000,
      logs,
    );
    for (const name of ['data_bytes_total', 'data_remaining_bytes', 'data_processed_bytes', 'memory_transfer_rate_bytes']) {
      assert.ok(
        series.some((l) => l.startsWith(`kubevirt_vmi_migration_${name}{`) && l.includes(`node="${a.nodeName}"`)),
        `${name} in ${series.join('\n')}`,
      );
    }
    await a.updateVMI<MigratingVMI>(vm.name, (vmi) => {
      vmi.status!.migrationState!.abortRequested = true;
    });
    const ended = await poll(
      'the migration failed (aborted) and B let the VMI go',
      async () => {
        const v = await getVMI();
        const s = v.status?.migrationState;
        return s?.failed && s.completed && s.endTimestamp && !v.metadata.labels?.[MigrationTargetNodeNameLabel] ? v : undefined;
      },
      120_000,
      logs,
    );
    assert.equal(ended.status?.migrationState?.migrationUid, migrationUid);
    assert.equal(ended.status?.migrationState?.abortStatus, 'Succeeded');
    assert.equal(ended.status?.nodeName, a.nodeName);
    assert.equal(ended.metadata.labels?.['kubevirt.io/nodeName'], a.nodeName);
    assert.equal(ended.status?.phase, 'Running');
    // the migration over, its series go (the scrape after its queue saw it completed)
    await poll(
      'no kubevirt_vmi_migration_* series any more',
      async () => ((await migrationSeries()).length === 0 ? true : undefined),
      30_000,
      logs,
    );
    // SignalTargetPodCleanup: the target pod's launcher ends
    const code = await Promise.race([target!.launcher.exited, poll('target launcher exit', async () => undefined, 60_000, logs)]);
    assert.notEqual(code, undefined);
    const reasons = (await events()).map((e) => `${e.source?.component}/${e.reason}`);
    assert.ok(reasons.includes('virt-handler/Migrating'), reasons.join(' '));
    // the guest kept running on A
    const serial = await guestConsole(vm.sandbox);
    try {
      assert.match(await serial.run('echo alive-$((40+2))'), /alive-42/);
    } finally {
      serial.close();
    }
    // virt-controller's part: the failed target pod is gone from activePods
    await a.updateVMI<MigratingVMI>(vm.name, (vmi) => {
      vmi.status!.activePods = { [vm.sandbox.podUID]: a.nodeName };
    });
  });

  test('a migration for a vCPU hotplug, with a hotplugged claim: A migrates through both proxies, B acknowledges it, hotplugs the vCPU and takes the VMI over', async () => {
    // virt-controller's volume hotplug on A: a ReadWriteMany claim in an attachment pod, into the spec and the status
    const volume = 'hpmig';
    const pod = await startAttachmentPod({ volumeName: volume, sizeBytes: HOTPLUG_SIZE });
    attachments.push(pod);
    hotplugged = { volume, pod };
    await a.updateVMI<MigratingVMI>(vm.name, (vmi) => {
      const v = vmi as unknown as {
        spec: { volumes: object[]; domain: { devices: { disks: object[] } } };
        status: { volumeStatus?: object[] };
      };
      v.spec.volumes.push({ name: volume, persistentVolumeClaim: { claimName: `claim-${volume}`, hotpluggable: true } });
      v.spec.domain.devices.disks.push({ name: volume, disk: { bus: 'scsi' }, serial: `sn-${volume}` });
      v.status.volumeStatus = [
        ...(v.status.volumeStatus ?? []),
        {
          name: volume,
          target: '',
          phase: 'AttachedToNode',
          hotplugVolume: { attachPodName: pod.name, attachPodUID: pod.podUID },
          persistentVolumeClaimInfo: {
            claimName: `claim-${volume}`,
            accessModes: ['ReadWriteMany'],
            volumeMode: 'Filesystem',
            capacity: { storage: '64Mi' },
            filesystemOverhead: '0',
          },
        },
      ];
    });
    const hotplugReady = (node: HandlerNode) =>
      poll(
        `the hotplugged volume Ready on ${node === a ? 'A' : 'B'}`,
        async () => {
          const s = (await getVMI()).status as { volumeStatus?: Array<{ name: string; phase?: string; target?: string }> };
          return s.volumeStatus?.find((v) => v.name === volume && v.phase === 'Ready' && v.target) ? true : undefined;
        },
        60_000,
        logs,
      );
    await hotplugReady(a);
    const readClaim = (serial: SerialConsole) =>
      poll(
        'the guest reads the claim',
        async () => {
          const out = await serial.run(`dd if=/dev/sda bs=1 count=${pod.marker.length} 2>/dev/null; echo`);
          return out.includes(pod.marker) ? true : undefined;
        },
        30_000,
        () => `${serial.output.slice(-2000)}\n${logs()}`,
      );

    const marker = `kvts-${randomUUID().slice(0, 8)}`;
    const source = await guestConsole(vm.sandbox);
    try {
      await readClaim(source);
      await source.run(`echo ${marker} > /migration-marker`);
    } finally {
      source.close();
    }
    // the hotplug as virt-controller asks for it: a second socket and the HotVCPUChange condition
    const { migrationUid, targetAttachment } = await startMigration({
      from: a,
      to: b,
      runningIn: vm.sandbox,
      // the test bed's ReadWriteMany claim is a file on this machine's local file system, which libvirt
      // will not migrate without VIR_MIGRATE_UNSAFE (a real one is NFS, CephFS…): the migration policy's
      // unsafeMigrationOverride, frozen in the migration's configuration, as virt-controller does
      configuration: UNSAFE,
      change: (vmi) => {
        (vmi as unknown as { spec: { domain: { cpu: { sockets: number } } } }).spec.domain.cpu.sockets = 2;
        vmi.status!.conditions = [...(vmi.status!.conditions ?? []), { type: 'HotVCPUChange', status: 'True' }];
      },
    });
    const done = await migrationDone(migrationUid);
    const state = done.status!.migrationState!;
    assert.equal(state.failed ?? false, false, (state as { failureReason?: string }).failureReason);
    assert.ok(state.startTimestamp && state.endTimestamp, 'start and end');
    assert.equal(state.targetNodeDomainDetected, true);
    assert.ok(state.targetNodeDomainReadyTimestamp, 'targetNodeDomainReadyTimestamp');
    assert.equal(done.status?.nodeName, b.nodeName);
    assert.equal(done.metadata.labels?.['kubevirt.io/nodeName'], b.nodeName);
    assert.equal(done.status?.migrationTransport, 'Unix');
    const reasons = (await events()).map((e) => e.reason);
    for (const reason of ['PreparingTarget', 'Migrating', 'Migrated'])
      assert.ok(reasons.includes(reason), `${reason} in ${reasons.join(' ')}`);

    // finalized: the vCPU hotplugged (SyncVirtualMachineCPUs), the condition gone, the topology reported
    assert.equal(
      done.status?.conditions?.find((c) => c.type === 'HotVCPUChange'),
      undefined,
    );
    assert.deepEqual((done.status as { currentCPUTopology?: object }).currentCPUTopology, { sockets: 2, cores: 1, threads: 1 });

    // the guest, with what it had in memory, on B's pod, its second vCPU, and the claim B mounted
    // from its own attachment pod into its pod
    const moved = await guestConsole(target!.sandbox);
    try {
      assert.match(await moved.run('cat /migration-marker'), new RegExp(marker));
      assert.equal((await moved.run('cat /sys/devices/system/cpu/present')).trim(), '0-1');
      await readClaim(moved);
    } finally {
      moved.close();
    }
    // A's launcher was told to delete its (migrated) domain, and ends
    const code = await Promise.race([vm.launcher.exited, poll('source launcher exit', async () => undefined, 60_000, logs)]);
    assert.notEqual(code, undefined);
    await handOverAttachment(targetAttachment);
    await hotplugReady(b);

    // B serves the VMI now: pause through B's API, and B reports it
    const paused = await b.request('PUT', b.vmiPath(vm.name, 'pause'));
    assert.equal(paused.status, 202, paused.body);
    await poll(
      'Paused condition written by node B',
      async () => ((await getVMI()).status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True') ? true : undefined),
      60_000,
      logs,
    );
    const unpaused = await b.request('PUT', b.vmiPath(vm.name, 'unpause'));
    assert.equal(unpaused.status, 202, unpaused.body);
  });

  test('a migration back to A for a memory hotplug: B migrates, A hotplugs the memory (virtio-mem) and takes the VMI over', async () => {
    const from = target!;
    const memTotalKiB = async (serial: SerialConsole) =>
      Number(/MemTotal:\s+(\d+) kB/.exec(await serial.run('grep MemTotal /proc/meminfo'))?.[1]);
    const onB = await guestConsole(from.sandbox);
    let before: number;
    try {
      before = await memTotalKiB(onB);
    } finally {
      onB.close();
    }
    // the hotplug as virt-controller asks for it: more guest memory, the pod sized for it (label), HotMemoryChange
    const { migrationUid, targetAttachment } = await startMigration({
      from: b,
      to: a,
      runningIn: from.sandbox,
      configuration: UNSAFE,
      change: (vmi) => {
        const spec = (vmi as unknown as { spec: { domain: { memory: { guest: string } } } }).spec;
        spec.domain.memory.guest = '512Mi';
        vmi.metadata.labels = { ...vmi.metadata.labels, 'kubevirt.io/vmPodMemoryRequests': '1Gi' };
        vmi.status!.conditions = [...(vmi.status!.conditions ?? []), { type: 'HotMemoryChange', status: 'True' }];
      },
    });
    const done = await migrationDone(migrationUid);
    assert.equal(done.status?.migrationState?.failed ?? false, false);
    assert.equal(done.status?.nodeName, a.nodeName);
    assert.equal(done.metadata.labels?.['kubevirt.io/nodeName'], a.nodeName);
    // finalized: the memory asked for (SyncVirtualMachineMemory), the condition and the labels gone
    assert.equal(
      done.status?.conditions?.find((c) => c.type === 'HotMemoryChange'),
      undefined,
    );
    assert.equal(done.metadata.labels?.['kubevirt.io/vmPodMemoryRequests'], undefined);
    assert.equal((done.status as { memory?: { guestRequested?: string } }).memory?.guestRequested, '512Mi');
    // the guest on A plugs the 256Mi asked for
    const onA = await guestConsole(target!.sandbox);
    try {
      await poll(
        'the guest on A has 256Mi more memory',
        async () => ((await memTotalKiB(onA)) - before >= 256 * 1024 ? true : undefined),
        60_000,
        () => `${onA.output.slice(-2000)}\n${logs()}`,
      );
      assert.equal((await onA.run('cat /sys/devices/system/cpu/present')).trim(), '0-1');
    } finally {
      onA.close();
    }
    const code = await Promise.race([from.launcher.exited, poll('B launcher exit', async () => undefined, 60_000, logs)]);
    assert.notEqual(code, undefined);
    await handOverAttachment(targetAttachment);
  });
});
