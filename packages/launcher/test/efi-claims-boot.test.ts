// The test guest booted FROM a claim: the EFI test guest's disk (an ESP with the guest as a unified
// kernel image, scripts/build-guest-efi) as a persistentVolumeClaim's disk.img and as a dataVolume's
// block device, the VMI's only disk. OVMF reads the boot loader off that disk, so a guest that comes up
// proves the launcher attached the claim as the boot disk, whichever kind it is.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { provideBlockClaim, provideFilesystemClaim, type BlockClaim } from '../../../test/bed/claims.ts';
import { efiGuestDisk } from '../../../test/bed/guest.ts';
import { asRequest, startLauncher, stopLauncherTest, testEFIVMI, type RunningLauncher } from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { poll } from '../../../test/bed/poll.ts';

/** OVMF under TCG is slow (firmware, then the stub unpacking kernel and initramfs). */
const BOOT_MS = 300_000;

const CLAIMS = [
  { kind: 'persistentVolumeClaim (file system: disk.img)', volume: { persistentVolumeClaim: { claimName: 'efi-boot' } }, block: false },
  { kind: 'dataVolume (block device)', volume: { dataVolume: { name: 'efi-boot-block' } }, block: true },
] as const;

for (const c of CLAIMS) {
  describe(`the EFI test guest boots from a ${c.kind}`, { timeout: 600_000 }, () => {
    let sandbox: PodSandbox | undefined;
    let launcher: RunningLauncher | undefined;
    let client: CmdClient | undefined;
    let block: BlockClaim | undefined;
    after(async () => {
      await stopLauncherTest({ client, launcher, sandbox });
      await block?.release();
    });

    test("the claim is the domain's boot disk, and the guest on it comes up (its agent answers)", async () => {
      const uid = randomUUID();
      const base = testEFIVMI({ name: 'efi-claim', uid, secureBoot: false });
      const vmi = { ...base, spec: { ...base.spec, volumes: [{ name: 'boot', ...c.volume }] } };
      sandbox = await createPodSandbox();
      if (c.block) block = await provideBlockClaim(sandbox, 'boot', efiGuestDisk());
      else provideFilesystemClaim(sandbox, 'boot', efiGuestDisk());
      launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m'], { stageImages: false });
      client = await cmdClient(launcher.cmdSocket);
      assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' }, launcher.logs());

      const xml = await virsh(sandbox, ['dumpxml', 'default_efi-claim']);
      const disks = [...xml.matchAll(/<disk type='(\w+)' device='disk'[^>]*>[\s\S]*?<\/disk>/g)];
      assert.equal(disks.length, 1, xml);
      const [disk] = disks;
      if (c.block) {
        assert.equal(disk?.[1], 'block', xml);
        assert.match(disk?.[0] ?? '', /<source dev='\/dev\/boot'/);
      } else {
        assert.equal(disk?.[1], 'file', xml);
        assert.match(disk?.[0] ?? '', /<source file='\/var\/run\/kubevirt-private\/vmi-disks\/boot\/disk.img'/);
      }
      assert.match(disk?.[0] ?? '', /<boot order='1'\/>/);

      const os = await poll(
        'the guest agent reports the OS',
        async () => {
          const gi = JSON.parse((await client!.GetGuestInfo({})).guestInfoResponse || '{}') as { os?: { id?: string } };
          return gi.os?.id === 'kvts-testguest' ? gi.os.id : undefined;
        },
        BOOT_MS,
        launcher.logs,
      );
      assert.equal(os, 'kvts-testguest');
    });
  });
}
