// A containerDisk whose image is qcow2, as most real ones are (cirros, fedora): the launcher inspects
// the image itself, as KubeVirt's does, so the overlay and the domain's backing store name qcow2 and
// the guest reads its disk. An image KubeVirt refuses fails the sync in-band with KubeVirt's message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { GUEST_PROMPT, guestArtifacts } from '../../../test/bed/guest.ts';
import { asRequest, stageGuestImages, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { poll } from '../../../test/bed/poll.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';

const DOMAIN = 'default_qcow2vmi';

/** What stageGuestImages puts in the container-disks volume, with the data disk converted to qcow2. */
function stageQcow2Guest(sandbox: PodSandbox): string {
  stageGuestImages(sandbox);
  const disks = sandbox.volumePath('container-disks');
  const image = path.join(disks, 'disk_0.img');
  rmSync(image); // the raw data disk (a link to the guest's cache), replaced by its qcow2 conversion
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', guestArtifacts().dataDisk, image]);
  // a second image KubeVirt refuses: a qcow2 that reaches out to another file (named relative to it)
  execFileSync('qemu-img', ['create', '-f', 'qcow2', '-b', 'disk_0.img', '-F', 'qcow2', path.join(disks, 'disk_1.img')]);
  return image;
}

const qemuImgFormat = (file: string) =>
  (JSON.parse(execFileSync('qemu-img', ['info', '--output=json', file], { encoding: 'utf8' })) as { format: string }).format;

describe('a qcow2 containerDisk: the launcher finds its format', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const uid = randomUUID();
  const vmi = testVMI({ name: 'qcow2vmi', uid });

  before(async () => {
    sandbox = await createPodSandbox();
    assert.equal(qemuImgFormat(stageQcow2Guest(sandbox)), 'qcow2', 'the staged image is qcow2');
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m'], { stageImages: false });
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, sandbox }));

  test('SyncVirtualMachine → the disk is a qcow2 overlay whose backing store says qcow2', async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll(
      'the domain running',
      async () => ((await virsh(sandbox, ['domstate', DOMAIN])) === 'running' ? true : undefined),
      60_000,
      launcher.logs,
    );
    const xml = await virsh(sandbox, ['dumpxml', DOMAIN]);
    const disk = /<disk type='file' device='disk'[^>]*>[\s\S]*?<\/disk>/.exec(xml)?.[0] ?? xml;
    assert.match(disk, /<driver name='qemu' type='qcow2'/);
    assert.match(disk, /<source file='\/var\/run\/kubevirt-ephemeral-disks\/disk-data\/data\/disk.qcow2'/);
    assert.match(
      disk,
      /<backingStore type='file'[^>]*>\s*<format type='qcow2'\/>\s*<source file='\/var\/run\/kubevirt\/container-disks\/disk_0.img'\/>/,
    );
  });

  test('the guest mounts its data disk through the overlay and reads it', async () => {
    const serial = await SerialConsole.open(sandbox.hostPath(`/var/run/kubevirt-private/${uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, 120_000);
      assert.match(await serial.run('cat /mnt/data/README'), /kubevirt-ts data disk/);
    } finally {
      serial.close();
    }
  });

  test("a containerDisk image with a backing file → SyncVirtualMachine fails in-band with KubeVirt's message", async () => {
    const other = testVMI({ name: 'backedvmi', uid: randomUUID() });
    other.spec.domain.devices.disks = [
      { name: 'data', disk: { bus: 'virtio' } },
      { name: 'backed', disk: { bus: 'virtio' } },
    ];
    other.spec.volumes = [
      { name: 'data', containerDisk: { image: 'kubevirt-ts/testguest:data' } },
      { name: 'backed', containerDisk: { image: 'kubevirt-ts/testguest:backed' } },
    ];
    const r = await client.SyncVirtualMachine(asRequest(other));
    assert.equal(r.success, false);
    assert.equal(r.message, 'invalid image in containerDisk backed: expected no backing file, but found disk_0.img');
    // the running guest is untouched
    assert.equal(await virsh(sandbox, ['domstate', DOMAIN]), 'running');
  });
});
