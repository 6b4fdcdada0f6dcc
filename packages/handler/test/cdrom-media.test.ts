// CD-ROM media changes end to end (KubeVirt's DeclarativeHotplugVolumes), on the test bed: a real
// kube-apiserver, virt-handler as a process, a launcher in a pod sandbox booting the test guest with
// an empty SATA CD-ROM drive (a cdrom disk without a volume), and attachment pods serving claims. The
// test plays virt-controller as it handles a VM whose CD-ROM gets a volume: inject = the claim's
// volume (named as the drive) put in the VMI's spec with its hotplug volume status; eject = the volume
// taken out of the spec (the drive stays), then, once the handler reports it unmounted, the attachment
// pod and the status entry removed. The handler mounts the claim's image into the launcher pod, the
// launcher changes the drive's medium (UpdateDeviceFlags), and the guest reads it from /dev/sr0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { vmiNameToDomainName } from '@kubevirt-ts/shared';
import { poll } from '../../../test/bed/poll.ts';
import type { SerialConsole } from '../../../test/bed/serial.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { startAttachmentPod, type AttachmentPod } from '../../../test/bed/attachment-pod.ts';
import { startHandlerNode, VMI, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';

type VolumeStatus = { name: string; target: string; phase?: string; reason?: string; message?: string; hotplugVolume?: object };
type VMIBody = {
  metadata: { name: string };
  spec: { volumes: { name: string }[]; domain: { devices: { disks: { name: string }[] } } };
  status: { phase?: string; volumeStatus?: VolumeStatus[] };
};

const SIZE = 16 * 1024 * 1024;
const DRIVE = 'cd';
const NO_MEDIUM = /No medium found/;
/** A <source> with a medium (an empty drive's live XML keeps a bare `<source index='N'/>`). */
const MEDIUM_SOURCE = /<source [^>]*(file|dev)=/;

describe('CD-ROM media: inject a hotplugged claim into an empty drive, eject it', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let api: CustomObjectsApi;
  let namespace: string;
  let vm: TestVM;
  let serial: SerialConsole;
  const attachments: AttachmentPod[] = [];
  const logs = () => `${node.handler.logs().slice(-6000)}\nlauncher:\n${vm?.launcher.logs().slice(-4000) ?? ''}`;
  const getVMI = async () => (await api.getNamespacedCustomObject({ ...VMI, namespace, name: vm.name })) as VMIBody;
  const updateVMI = (change: (vmi: VMIBody) => void) => node.updateVMI<VMIBody>(vm.name, change);
  const driveStatus = async () => (await getVMI()).status.volumeStatus?.find((v) => v.name === DRIVE);
  /** The drive's <disk> element (the VMI's one CD-ROM) in the domain's live or persistent XML. */
  const driveXML = async (inactive = false) => {
    const xml = await virsh(vm.sandbox, ['dumpxml', ...(inactive ? ['--inactive'] : []), vmiNameToDomainName(namespace, vm.name)]);
    const disk = /<disk[^>]*device='cdrom'[^>]*>[\s\S]*?<\/disk>/.exec(xml)?.[0];
    assert.ok(disk, `a CD-ROM drive in:\n${xml}`);
    assert.match(disk, /<alias name='ua-cd'\/>/);
    return disk;
  };
  /** What the guest reads from the drive: its first bytes, or the error of opening it. */
  const guestRead = async (bytes: number) => (await serial.run(`head -c ${bytes} /dev/sr0 2>&1; echo`)).trim();
  /** The image virt-handler bind-mounts into the launcher pod for the drive's claim. */
  const podImage = () => path.join(vm.sandbox.volumePath('hotplug-disks'), `${DRIVE}.img`);
  const guestSize = async () => Number((await serial.run('cat /sys/block/sr0/size')).trim()) * 512;

  /** virt-controller's inject: an attachment pod for the claim, the volume in the spec, its hotplug status. */
  const inject = async () => {
    const pod = await startAttachmentPod({ volumeName: DRIVE, sizeBytes: SIZE });
    attachments.push(pod);
    await updateVMI((vmi) => {
      vmi.spec.volumes.push({ name: DRIVE, persistentVolumeClaim: { claimName: `iso-${pod.podUID}`, hotpluggable: true } } as {
        name: string;
      });
      vmi.status.volumeStatus = [
        ...(vmi.status.volumeStatus ?? []),
        {
          name: DRIVE,
          target: '',
          phase: 'AttachedToNode',
          reason: 'SuccessfulCreate',
          message: `Created hotplug attachment pod ${pod.name}, for volume ${DRIVE}`,
          hotplugVolume: { attachPodName: pod.name, attachPodUID: pod.podUID },
          persistentVolumeClaimInfo: {
            claimName: `iso-${pod.podUID}`,
            accessModes: ['ReadWriteOnce'],
            volumeMode: 'Filesystem',
            capacity: { storage: '16Mi' },
            filesystemOverhead: '0',
          },
        } as VolumeStatus,
      ];
    });
    return pod;
  };
  /** virt-controller's eject: the volume out of the spec (the drive stays); once unmounted, the pod and the entry go. */
  const eject = async (pod: AttachmentPod) => {
    await updateVMI((vmi) => {
      vmi.spec.volumes = vmi.spec.volumes.filter((v) => v.name !== DRIVE);
    });
    const unmounted = await poll(
      `volume ${DRIVE} UnMountedFromPod`,
      async () => {
        const s = await driveStatus();
        return s?.phase === 'UnMountedFromPod' ? s : undefined;
      },
      60_000,
      logs,
    );
    await pod.stop();
    await updateVMI((vmi) => {
      vmi.status.volumeStatus = (vmi.status.volumeStatus ?? []).filter((v) => v.name !== DRIVE);
    });
    return unmounted;
  };
  /** Polls until the guest reads `marker` from the drive (the kernel sees the new medium on open). */
  const guestSeesMedium = (marker: string) =>
    poll(
      `the guest reads ${marker} from /dev/sr0`,
      async () => ((await guestRead(marker.length)) === marker ? true : undefined),
      30_000,
      () => serial.output.slice(-2000),
    );
  const guestSeesNoMedium = () =>
    poll(
      'the guest finds no medium in /dev/sr0',
      async () => (NO_MEDIUM.test(await guestRead(1)) ? true : undefined),
      30_000,
      () => serial.output.slice(-2000),
    );

  /** A VM with an empty CD-ROM drive (libvmi.WithEmptyCDRom): a cdrom disk and no volume; its guest at the prompt. */
  const startVMWithEmptyDrive = async (name: string, nonRoot = false) => {
    vm = await node.startVM(name, {
      nonRoot,
      kernelArgs: 'kvts.sata',
      customize: (v) => v.spec.domain.devices.disks.push({ name: DRIVE, cdrom: { bus: 'sata' } }),
    });
    serial = await node.guestConsole(vm, { logs });
  };

  before(async () => {
    node = await startHandlerNode({ namespace: 'cdrom', nodePrefix: 'kvts-cd' });
    ({ api, namespace } = node);
    await startVMWithEmptyDrive('vmi-cd');
  });

  after(async () => {
    serial?.close();
    for (const pod of attachments) await pod.stop().catch(() => undefined);
    await node?.stop();
  });

  test('the empty drive: in the domain without a source, a drive without a medium in the guest, no volume status', async () => {
    const disk = await driveXML();
    assert.doesNotMatch(disk, MEDIUM_SOURCE, `no medium in:\n${disk}`);
    assert.match(disk, /<target dev='sda' bus='sata'/);
    assert.match(disk, /<readonly\/>/);
    assert.match(await guestRead(1), NO_MEDIUM);
    assert.equal(await driveStatus(), undefined);
  });

  test('inject: the claim mounted into the pod becomes the medium (UpdateDeviceFlags); the guest reads it; Ready', async (t) => {
    const pod = await inject();
    const injected = performance.now();
    const ready = await poll(
      `volume ${DRIVE} Ready with its target`,
      async () => {
        const s = await driveStatus();
        return s?.phase === 'Ready' && s.target !== '' ? s : undefined;
      },
      60_000,
      logs,
    );
    t.diagnostic(`VMI updated → volume Ready: ${Math.round(performance.now() - injected)} ms`);
    assert.equal(ready.target, 'sda', 'the drive keeps its target');
    assert.equal(ready.reason, 'VolumeReady');
    assert.ok(existsSync(podImage()), 'the claim is mounted into the launcher pod');
    // the same drive, its medium changed live and in the persistent definition
    for (const inactive of [false, true]) {
      const disk = await driveXML(inactive);
      assert.match(disk, /<disk type='file' device='cdrom'>/);
      assert.match(disk, /<source file='\/var\/run\/kubevirt\/hotplug-disks\/cd\.img'/);
      assert.match(disk, /<driver name='qemu' type='raw'/);
      assert.match(disk, /<target dev='sda' bus='sata'/);
    }
    // one media change, not one per sync: the running drive's source (with libvirt's index) matches the spec's
    const updates = () => vm.launcher.logs().match(/Updating disk cd, target sda/g)?.length ?? 0;
    assert.equal(updates(), 1);
    assert.doesNotMatch(vm.launcher.logs(), /Attaching disk|Detaching disk/);

    await guestSeesMedium(pod.marker);
    t.diagnostic(`VMI updated → guest reads the medium: ${Math.round(performance.now() - injected)} ms`);
    assert.equal(await guestSize(), SIZE);

    const unmounted = await eject(pod);
    assert.equal(unmounted.target, '', 'an empty drive has no target');
    assert.equal(unmounted.reason, 'VolumeUnMountedFromPod');
    assert.equal(existsSync(podImage()), false, 'the claim is unmounted from the launcher pod');
    for (const inactive of [false, true]) {
      const disk = await driveXML(inactive);
      assert.doesNotMatch(disk, MEDIUM_SOURCE, `no medium in:\n${disk}`);
      assert.match(disk, /<target dev='sda' bus='sata'/);
    }
    await guestSeesNoMedium();
    assert.equal(updates(), 2, 'inject and eject, each once');
  });

  test('a second claim injected into the drive after the eject: the guest reads the new medium, then it is ejected again', async () => {
    const pod = await inject();
    await poll(`volume ${DRIVE} Ready`, async () => ((await driveStatus())?.phase === 'Ready' ? true : undefined), 60_000, logs);
    await guestSeesMedium(pod.marker);
    await eject(pod);
    await guestSeesNoMedium();
    assert.doesNotMatch(await driveXML(), MEDIUM_SOURCE);
  });

  test("KubeVirt's default non-root launcher (uid 107): a medium injected and ejected", async () => {
    serial.close();
    await startVMWithEmptyDrive('vmi-cd-nonroot', true);
    assert.match(await guestRead(1), NO_MEDIUM);
    const pod = await inject();
    // (the session daemon's XML is not for root's virsh: the target comes from the domain the launcher sent)
    const ready = await poll(
      `volume ${DRIVE} Ready`,
      async () => {
        const s = await driveStatus();
        return s?.phase === 'Ready' ? s : undefined;
      },
      60_000,
      logs,
    );
    assert.equal(ready.target, 'sda');
    await guestSeesMedium(pod.marker);
    assert.equal((await eject(pod)).target, '');
    await guestSeesNoMedium();
  });
});
