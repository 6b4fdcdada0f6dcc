// Volume hotplug end to end on the test bed, as KubeVirt does it on a node: a real kube-apiserver,
// virt-handler as a process, a launcher in a pod sandbox booting the test guest, and an attachment pod
// (KubeVirt's container-disk program serving hp.sock, the claim mounted at /<volume>). The test plays
// virt-controller: it puts the hotplugged volume in the VMI's spec and its volume status (with the
// attachment pod) in the status, and on unplug deletes the attachment pod and the status entry once
// the handler reports the volume unmounted. The handler mounts the claim's disk.img into the
// launcher pod, the launcher attaches it to the running domain, and the guest sees it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { serialConsoleSocketPath, vmiNameToDomainName } from '@kubevirt-ts/shared';
import { poll } from '../../../test/bed/poll.ts';
import { mountsUnder } from '../../../test/bed/mounts.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { startAttachmentPod, type AttachmentPod } from '../../../test/bed/attachment-pod.ts';
import { startHandlerNode, VMI, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';

type VolumeStatus = { name: string; target: string; phase?: string; reason?: string; message?: string; hotplugVolume?: object };
type VMIBody = {
  metadata: { name: string; resourceVersion?: string };
  spec: { volumes: { name: string }[]; domain: { devices: { disks: { name: string }[] } } };
  status: { phase?: string; volumeStatus?: VolumeStatus[] };
};

const SIZE = 64 * 1024 * 1024;

describe('volume hotplug: attachment pod → virt-handler mount → launcher attach → guest', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let api: CustomObjectsApi;
  let core: CoreV1Api;
  let namespace: string;
  let vm: TestVM;
  let serial: SerialConsole;
  const attachments: AttachmentPod[] = [];
  const logs = () => `${node.handler.logs().slice(-6000)}\nlauncher:\n${vm?.launcher.logs().slice(-4000) ?? ''}`;
  const getVMI = async (name: string) => (await api.getNamespacedCustomObject({ ...VMI, namespace, name })) as VMIBody;
  const updateVMI = (name: string, change: (vmi: VMIBody) => void) => node.updateVMI<VMIBody>(name, change);
  const volumeStatus = async (name: string, volume: string) => (await getVMI(name)).status.volumeStatus?.find((v) => v.name === volume);
  // the mounts in the volume (the volume itself is one: shared, HostToContainer)
  const hotplugMounts = () =>
    mountsUnder(vm.sandbox.volumePath('hotplug-disks'))
      .filter((m) => m !== vm.sandbox.volumePath('hotplug-disks'))
      .map((m) => path.basename(m));
  const record = () => path.join(node.privateDir, 'hotplug-volume-mount-state', vm.uid);
  const domainName = () => vmiNameToDomainName(namespace, vm.name);

  /** What virt-controller does for a hotplugged claim: the attachment pod, the volume and disk, the volume status. */
  /** The volume, disk and volume status virt-controller adds for a claim hotplugged through `pod`. */
  const hotplugged = (volume: string, bus: string, pod: AttachmentPod, volumeMode: 'Filesystem' | 'Block') => ({
    volume: { name: volume, persistentVolumeClaim: { claimName: `claim-${volume}`, hotpluggable: true } },
    disk: { name: volume, disk: { bus }, serial: `sn-${volume}` },
    status: {
      name: volume,
      target: '',
      phase: 'AttachedToNode',
      reason: 'SuccessfulCreate',
      message: `Created hotplug attachment pod ${pod.name}, for volume ${volume}`,
      hotplugVolume: { attachPodName: pod.name, attachPodUID: pod.podUID },
      persistentVolumeClaimInfo: {
        claimName: `claim-${volume}`,
        accessModes: ['ReadWriteOnce'],
        volumeMode,
        capacity: { storage: '64Mi' },
        filesystemOverhead: '0',
      },
    } as VolumeStatus,
  });
  /** What virt-controller does for a claim hotplugged into a running VMI: the attachment pod, then the VMI updated. */
  const plug = async (volume: string, bus: string, volumeMode: 'Filesystem' | 'Block' = 'Filesystem') => {
    const pod = await startAttachmentPod({ volumeName: volume, sizeBytes: SIZE, volumeMode });
    attachments.push(pod);
    const add = hotplugged(volume, bus, pod, volumeMode);
    await updateVMI(vm.name, (vmi) => {
      vmi.spec.volumes.push(add.volume);
      vmi.spec.domain.devices.disks.push(add.disk);
      vmi.status.volumeStatus = [...(vmi.status.volumeStatus ?? []), add.status];
    });
    return pod;
  };

  /** What virt-controller does when a volume is removed: out of the spec; once unmounted, the pod and the entry go. */
  const unplug = async (volume: string, pod: AttachmentPod) => {
    await updateVMI(vm.name, (vmi) => {
      vmi.spec.volumes = vmi.spec.volumes.filter((v) => v.name !== volume);
      vmi.spec.domain.devices.disks = vmi.spec.domain.devices.disks.filter((d) => d.name !== volume);
    });
    const unmounted = await poll(
      `volume ${volume} UnMountedFromPod`,
      async () => {
        const s = await volumeStatus(vm.name, volume);
        return s?.phase === 'UnMountedFromPod' ? s : undefined;
      },
      60_000,
      logs,
    );
    return {
      unmounted,
      /** virt-controller: the attachment pod goes, then the volume's status entry */
      async removeEntry() {
        await pod.stop();
        await updateVMI(vm.name, (vmi) => {
          vmi.status.volumeStatus = (vmi.status.volumeStatus ?? []).filter((v) => v.name !== volume);
        });
      },
    };
  };
  /** The guest's view of a SCSI disk: its size in bytes (poll: the kernel scans the new LUN). */
  const guestDiskSize = (dev: string) =>
    poll(
      `the guest sees ${dev}`,
      async () => {
        const out = (await serial.run(`cat /sys/block/${dev}/size 2>/dev/null || echo none`)).trim();
        return /^\d+$/.test(out) ? Number(out) * 512 : undefined;
      },
      30_000,
      () => serial.output.slice(-2000),
    );
  const guestDiskGone = (dev: string) =>
    poll(
      `${dev} gone from the guest`,
      async () => ((await serial.run('ls /sys/block')).split(/\s+/).includes(dev) ? undefined : true),
      30_000,
      () => serial.output.slice(-2000),
    );

  /** Opens a block device from inside the launcher pod (a node of its numbers made there): the exit code and errors. */
  const openInPod = async (device: string) => {
    const { rdev } = statSync(device);
    const [major, minor] = [(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)];
    const probe = `/run/probe-${major}-${minor}`;
    const child = vm.sandbox.spawn(
      'sh',
      ['-c', `mknod ${probe} b ${major} ${minor} && head -c 1 ${probe} >/dev/null; rc=$?; rm -f ${probe}; exit $rc`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stderr };
  };

  before(async () => {
    node = await startHandlerNode({ namespace: 'hotplug', nodePrefix: 'kvts-hp' });
    ({ api, core, namespace } = node);
    // a launcher pod with a devices cgroup, as a container runtime gives it: a block claim is usable
    // in it only once virt-handler allows its device
    vm = await node.startVM('vmi-hp', { deviceCgroup: true });
    serial = await node.guestConsole(vm, { logs });
  });

  after(async () => {
    serial?.close();
    for (const pod of attachments) await pod.stop().catch(() => undefined);
    await node?.stop();
  });

  let pod: AttachmentPod;

  test('a hotplugged file system claim: mounted into the launcher pod, attached live, seen by the guest; volumeStatus Ready', async (t) => {
    pod = await plug('hp', 'scsi');
    const plugged = performance.now();
    const ready = await poll(
      'volume hp Ready with its target',
      async () => {
        const s = await volumeStatus('vmi-hp', 'hp');
        return s?.phase === 'Ready' && s.target !== '' ? s : undefined;
      },
      60_000,
      logs,
    );
    t.diagnostic(`VMI updated → volume Ready: ${Math.round(performance.now() - plugged)} ms`);
    assert.equal(ready.target, 'sda');
    assert.equal(ready.reason, 'VolumeReady');
    assert.equal(ready.message, 'Successfully attach hotplugged volume hp to VM');
    // the phases the handler went through, as its Events tell them (MountedToPod before Ready)
    // (the recorder posts them after the status write)
    const reasons = await poll(
      'the VolumeMountedToPod and VolumeReady Events',
      async () => {
        const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vmi-hp' });
        const r = events.items.filter((e) => e.source?.component === 'virt-handler').map((e) => e.reason ?? '');
        return r.includes('VolumeMountedToPod') && r.includes('VolumeReady') ? r : undefined;
      },
      10_000,
      logs,
    );
    assert.ok(reasons.indexOf('VolumeMountedToPod') < reasons.lastIndexOf('VolumeReady'), `order: ${reasons.join(', ')}`);

    // the claim's disk.img bind-mounted onto hp.img in the launcher pod's hotplug-disks, handed to qemu (107)
    assert.deepEqual(hotplugMounts(), ['hp.img']);
    const target = path.join(vm.sandbox.volumePath('hotplug-disks'), 'hp.img');
    assert.equal(statSync(target).ino, statSync(pod.diskImage).ino, 'hp.img is the claim image');
    // libvirt's DAC driver makes it root's while attaching (a root launcher); each round of the handler
    // hands it back to qemu's 107
    await poll('hp.img owned by 107', async () => (statSync(pod.diskImage).uid === 107 ? true : undefined), 10_000, logs);
    const rec = JSON.parse(readFileSync(record(), 'utf8')) as { mountTargetEntries: { targetFile: string }[] };
    assert.deepEqual(
      rec.mountTargetEntries.map((e) => e.targetFile),
      [target],
    );

    // the domain's disk as KubeVirt's converter writes a hotplugged one
    const xml = await virsh(vm.sandbox, ['dumpxml', domainName()]);
    const disk = /<disk[^>]*>(?:(?!<\/disk>)[\s\S])*<source file='\/var\/run\/kubevirt\/hotplug-disks\/hp\.img'[\s\S]*?<\/disk>/.exec(
      xml,
    )?.[0];
    assert.ok(disk, `a disk with the hotplug source in:\n${xml}`);
    assert.match(disk, /<target dev='sda' bus='scsi'\/>/);
    assert.match(disk, /<serial>sn-hp<\/serial>/);
    assert.match(disk, /<alias name='ua-hp'\/>/);
    assert.match(disk, /<address type='drive' controller='0' bus='0' target='0' unit='0'\/>/);
    assert.match(disk, /<driver name='qemu' type='raw'[^>]*error_policy='stop'/);

    // the guest: a new SCSI disk of the claim's size whose first bytes are the claim's
    assert.equal(await guestDiskSize('sda'), SIZE);
    assert.equal((await serial.run(`head -c ${pod.marker.length} /dev/sda; echo`)).trim(), pod.marker);
    assert.equal(
      (await serial.run('cat /sys/block/sda/device/vendor /sys/block/sda/device/model | tr -s " \\n" " "')).trim(),
      'QEMU QEMU HARDDISK',
    );
  });

  test('a restarted handler takes over the record; removing the volume detaches it, unmounts it, and the entry goes', async (t) => {
    // the handler that mounted it goes; its successor reads the record it left
    await node.handler.stop();
    await node.startHandler();

    const removed = performance.now();
    const { unmounted, removeEntry } = await unplug('hp', pod);
    t.diagnostic(`volume removed from the spec → UnMountedFromPod: ${Math.round(performance.now() - removed)} ms`);
    assert.equal(unmounted.target, '');
    assert.equal(unmounted.reason, 'VolumeUnMountedFromPod');
    assert.equal(unmounted.message, 'Volume hp has been unmounted from virt-launcher pod');
    assert.deepEqual(hotplugMounts(), [], 'nothing mounted in the launcher pod');
    assert.equal(existsSync(path.join(vm.sandbox.volumePath('hotplug-disks'), 'hp.img')), false, 'hp.img removed');
    assert.equal(existsSync(record()), false, 'mount record removed');
    assert.doesNotMatch(await virsh(vm.sandbox, ['dumpxml', domainName()]), /hotplug-disks/);
    assert.doesNotMatch(await virsh(vm.sandbox, ['dumpxml', '--inactive', domainName()]), /hotplug-disks/);
    await guestDiskGone('sda');
    await poll(
      'the VolumeUnMountedFromPod Event',
      async () => {
        const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=vmi-hp' });
        const found = events.items.some(
          (e) => e.reason === 'VolumeUnMountedFromPod' && e.message === 'Volume hp has been unmounted from virt-launcher pod',
        );
        return found ? true : undefined;
      },
      10_000,
      logs,
    );
    await removeEntry();
  });

  test('a hotplugged block claim: its device node made in the launcher pod, attached, seen by the guest; removed on unplug', async () => {
    const blockPod = await plug('hpb', 'scsi', 'Block');
    const ready = await poll(
      'volume hpb Ready with its target',
      async () => {
        const s = await volumeStatus('vmi-hp', 'hpb');
        return s?.phase === 'Ready' && s.target !== '' ? s : undefined;
      },
      60_000,
      logs,
    );
    assert.equal(ready.target, 'sda');
    // a device node of the claim's numbers, handed to qemu (107) as hp.img was; nothing mounted
    const node = path.join(vm.sandbox.volumePath('hotplug-disks'), 'hpb');
    const st = statSync(node);
    assert.ok(st.isBlockDevice(), 'hpb is a block device node');
    assert.equal(st.rdev, statSync(blockPod.loopDevice!).rdev);
    await poll('hpb owned by 107', async () => (statSync(node).uid === 107 ? true : undefined), 10_000, logs);
    assert.deepEqual(hotplugMounts(), []);
    const xml = await virsh(vm.sandbox, ['dumpxml', domainName()]);
    assert.match(xml, /<disk type='block' device='disk'>[\s\S]*?<source dev='\/var\/run\/kubevirt\/hotplug-disks\/hpb'/);
    assert.equal(await guestDiskSize('sda'), SIZE);
    assert.equal((await serial.run(`head -c ${blockPod.marker.length} /dev/sda; echo`)).trim(), blockPod.marker);
    // the handler's rule in the launcher pod's devices cgroup is what lets the pod open the device
    const rule = `b ${(st.rdev >> 8) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)} rwm`;
    const devicesList = () => readFileSync(path.join(vm.sandbox.devicesCgroup!, 'devices.list'), 'utf8').split('\n');
    assert.ok(devicesList().includes(rule), `${rule} in devices.list:\n${devicesList().join('\n')}`);
    assert.deepEqual(await openInPod(blockPod.loopDevice!), { code: 0, stderr: '' });

    const { unmounted, removeEntry } = await unplug('hpb', blockPod);
    assert.equal(unmounted.target, '');
    assert.equal(existsSync(node), false, 'the device node is gone');
    assert.ok(!devicesList().includes(rule), `${rule} denied again`);
    const denied = await openInPod(blockPod.loopDevice!);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Operation not permitted/);
    assert.equal(existsSync(record()), false, 'mount record removed');
    await guestDiskGone('sda');
    await removeEntry();
  });

  test('a volume still plugged when the VMI is deleted is unmounted with the VMI cleanup', async () => {
    await plug('hp2', 'scsi');
    await poll('volume hp2 Ready', async () => ((await volumeStatus('vmi-hp', 'hp2'))?.phase === 'Ready' ? true : undefined), 60_000, logs);
    assert.deepEqual(hotplugMounts(), ['hp2.img']);
    await api.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'vmi-hp' });
    await poll(
      'hotplug mounts and record gone after the VMI',
      async () => (hotplugMounts().length === 0 && !existsSync(record()) ? true : undefined),
      90_000,
      logs,
    );
    assert.equal(existsSync(path.join(vm.sandbox.volumePath('hotplug-disks'), 'hp2.img')), false);
  });

  test("KubeVirt's default non-root launcher (uid 107): the image the handler handed to 107 is attached and unplugged", async () => {
    serial.close();
    vm = await node.startVM('vmi-hp-nonroot', { nonRoot: true });
    serial = await node.guestConsole(vm, { logs });

    const nonRootPod = await plug('hp3', 'scsi');
    await poll('volume hp3 Ready', async () => ((await volumeStatus(vm.name, 'hp3'))?.phase === 'Ready' ? true : undefined), 60_000, logs);
    // libvirt runs as 107 here: the image stays the handler's gift to 107
    assert.equal(statSync(nonRootPod.diskImage).uid, 107);
    assert.equal(await guestDiskSize('sda'), SIZE);
    assert.equal((await serial.run(`head -c ${nonRootPod.marker.length} /dev/sda; echo`)).trim(), nonRootPod.marker);

    const { removeEntry } = await unplug('hp3', nonRootPod);
    assert.deepEqual(hotplugMounts(), []);
    await guestDiskGone('sda');
    await removeEntry();
  });

  test('a VMI that starts with a hotplugged volume: mounted before its first sync, defined with the disk, Ready', async () => {
    serial.close();
    const bootPod = await startAttachmentPod({ volumeName: 'hp4', sizeBytes: SIZE });
    attachments.push(bootPod);
    const add = hotplugged('hp4', 'scsi', bootPod, 'Filesystem');
    vm = await node.startVM('vmi-hp-boot', {
      customize: (v) => {
        v.spec.volumes.push(add.volume);
        v.spec.domain.devices.disks.push(add.disk);
        v.status.volumeStatus.push(add.status);
      },
    });
    await poll(
      'VMI Running with hp4 Ready',
      async () => {
        const v = await getVMI(vm.name);
        return v.status.phase === 'Running' && v.status.volumeStatus?.find((s) => s.name === 'hp4')?.phase === 'Ready' ? true : undefined;
      },
      90_000,
      logs,
    );
    assert.deepEqual(hotplugMounts(), ['hp4.img']);
    // in the domain from its definition on: never attached live
    assert.match(vm.launcher.logs(), /Domain defined/);
    assert.doesNotMatch(vm.launcher.logs(), /Attaching disk/);
    serial = await SerialConsole.open(vm.sandbox.hostPath(serialConsoleSocketPath(vm.uid, 0, '/var/run/kubevirt-private')));
    await serial.waitForPrompt(GUEST_PROMPT, 120_000);
    assert.equal(await guestDiskSize('sda'), SIZE);
    assert.equal((await serial.run(`head -c ${bootPod.marker.length} /dev/sda; echo`)).trim(), bootPod.marker);
  });
});
