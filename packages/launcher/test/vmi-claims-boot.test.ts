// A VMI the way real clusters send it, booted by the launcher: claims (a file system one and a block
// one, with KubeVirt's disk io, errorPolicy, shareable and blockSize), memory hotplug room (1Gi guest, maxGuest 2Gi) and startStrategy Paused. The test guest boots
// its kernel directly (it cannot boot from a disk), so the claims are proven attached and readable
// from inside the guest instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { provideBlockClaim, provideFilesystemClaim, type BlockClaim } from '../../../test/bed/claims.ts';
import { GUEST_PROMPT, guestArtifacts } from '../../../test/bed/guest.ts';
import { asRequest, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { poll } from '../../../test/bed/poll.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import { applyWebhookDefaults } from '../../../test/bed/vmi-defaults.ts';

const GiB = 1024 ** 3;

/** The test guest with two claims instead of its container disk, 1Gi of memory, paused at start. */
// biome-ignore lint/suspicious/noExplicitAny: the webhook's unchecked JSON, sent as the handler sends it
type DefaultedVMI = { metadata: { name: string; namespace: string; uid: string }; spec: any; status: any };

function claimsVMI(uid: string): DefaultedVMI {
  const base = testVMI({ name: 'vmi-claims', uid });
  const written = {
    ...base,
    spec: {
      ...base.spec,
      startStrategy: 'Paused',
      domain: {
        ...base.spec.domain,
        memory: { guest: '1Gi', maxGuest: '2Gi' },
        resources: { requests: { memory: '1Gi' } },
        devices: {
          ...base.spec.domain.devices,
          disks: [
            { name: 'fsclaim', disk: { bus: 'virtio' }, io: 'threads', errorPolicy: 'report' },
            { name: 'blockclaim', disk: { bus: 'virtio' }, shareable: true, blockSize: { matchVolume: { enabled: true } } },
            { name: 'ephclaim', disk: { bus: 'virtio' }, serial: 'eph' },
          ],
        },
      },
      volumes: [
        { name: 'fsclaim', persistentVolumeClaim: { claimName: 'guest-data' } },
        { name: 'blockclaim', dataVolume: { name: 'guest-data-block' } },
        // the guest writes to an overlay; the claim stays as it was
        { name: 'ephclaim', ephemeral: { persistentVolumeClaim: { claimName: 'guest-data-eph' } } },
      ],
    },
  };
  // as virt-api stores it, then Scheduled as virt-controller hands it over
  const vmi = applyWebhookDefaults(written) as DefaultedVMI;
  vmi.status.phase = 'Scheduled';
  return vmi;
}

describe('claims, memory hotplug room and a paused start, booted by the launcher', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let block: BlockClaim | undefined;
  let ephClaim: string;
  const uid = randomUUID();
  const vmi = claimsVMI(uid);

  before(async () => {
    const { dataDisk } = guestArtifacts();
    sandbox = await createPodSandbox();
    provideFilesystemClaim(sandbox, 'fsclaim', dataDisk);
    block = await provideBlockClaim(sandbox, 'blockclaim', dataDisk);
    ephClaim = provideFilesystemClaim(sandbox, 'ephclaim', dataDisk);
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
  });

  after(async () => {
    await stopLauncherTest({ client, launcher, sandbox });
    await block?.release();
  });

  test('the webhook gave this VMI the shape under test', () => {
    assert.equal(vmi.spec.domain.memory.maxGuest, '2Gi');
    assert.equal(vmi.spec.domain.cpu.maxSockets, 4);
    assert.equal(vmi.spec.domain.machine.type, 'q35');
  });

  test('SyncVirtualMachine defines the domain and starts it paused', async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    const state = await poll(
      'the domain paused',
      async () => {
        const s = await virsh(sandbox, ['domstate', 'default_vmi-claims']);
        return s === 'paused' ? s : undefined;
      },
      60_000,
      launcher.logs,
    );
    assert.equal(state, 'paused');
  });

  test("the live domain: hotplug room, the claim's image file and its block device", async () => {
    const xml = await virsh(sandbox, ['dumpxml', 'default_vmi-claims']);
    assert.match(xml, new RegExp(`<maxMemory slots='1' unit='KiB'>${(2 * GiB) / 1024}</maxMemory>`));
    assert.match(xml, new RegExp(`<memory unit='KiB'>${GiB / 1024}</memory>`));
    assert.match(xml, /<source file='\/var\/run\/kubevirt-private\/vmi-disks\/fsclaim\/disk.img'/);
    assert.match(xml, /<disk type='block' device='disk'[^>]*>[\s\S]*?<source dev='\/dev\/blockclaim'/);
    const disk = (alias: string) =>
      /<disk [\s\S]*?<\/disk>/g[Symbol.match](xml)?.find((d) => d.includes(`<alias name='ua-${alias}'/>`)) ?? '';
    // the VMI's io and errorPolicy; the block device: io=native where O_DIRECT is on (SetOptimalIOMode), shareable
    assert.match(disk('fsclaim'), /<driver name='qemu' type='raw'[^>]* error_policy='report' io='threads'/);
    assert.match(disk('blockclaim'), /<driver name='qemu' type='raw' cache='none' error_policy='stop' io='native'/);
    assert.match(disk('blockclaim'), /<shareable\/>/);
    // blockSize.matchVolume: the loop device's own sizes, as its queue in sysfs has them
    const queue = `/sys/block/${path.basename(block!.device)}/queue`;
    const [logical, physical] = ['logical_block_size', 'physical_block_size'].map((f) => readFileSync(`${queue}/${f}`, 'utf8').trim());
    // (libvirt 9.0 keeps no discard_granularity)
    assert.match(disk('blockclaim'), new RegExp(`<blockio logical_block_size='${logical}' physical_block_size='${physical}'/>`));
    assert.doesNotMatch(disk('fsclaim'), /<blockio/);
  });

  test('unpaused, the guest boots and reads both claims', async () => {
    assert.deepEqual(await client.UnpauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    const serial = await SerialConsole.open(sandbox.hostPath(`/var/run/kubevirt-private/${uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, 120_000);
      // the first virtio disk, the file system claim, is the one the guest mounts at /mnt/data
      assert.match(await serial.run('cat /mnt/data/README'), /kubevirt-ts data disk/);
      assert.match(
        await serial.run('mkdir -p /tmp/b && mount -t ext4 -o ro /dev/vdb /tmp/b && cat /tmp/b/README', 20_000),
        /kubevirt-ts data disk/,
      );
      // the guest sees its 1Gi at boot (less what the kernel keeps)
      const memTotalKiB = Number(/MemTotal:\s+(\d+) kB/.exec(await serial.run('cat /proc/meminfo'))?.[1]);
      assert.ok(memTotalKiB > 800 * 1024 && memTotalKiB <= GiB / 1024, `MemTotal ${memTotalKiB} kB`);
    } finally {
      serial.close();
    }
  });

  test("an ephemeral volume: the guest's writes go to a qcow2 overlay over the claim, which stays as it was", async () => {
    const before = createHash('sha256').update(readFileSync(ephClaim)).digest('hex');
    const xml = await virsh(sandbox, ['dumpxml', 'default_vmi-claims']);
    assert.match(
      xml,
      /<source file='\/var\/run\/kubevirt-ephemeral-disks\/disk-data\/ephclaim\/disk.qcow2'[^>]*\/>\s*<backingStore type='file'[^>]*>\s*<format type='raw'\/>\s*<source file='\/var\/run\/kubevirt-private\/vmi-disks\/ephclaim\/disk.img'/,
    );
    const serial = await SerialConsole.open(sandbox.hostPath(`/var/run/kubevirt-private/${uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, 60_000);
      const dev = (await serial.run('for d in /sys/block/vd*; do [ "$(cat $d/serial)" = eph ] && basename $d; done')).trim();
      assert.match(dev, /^vd[a-z]$/);
      // the guest reads the claim's file system through the overlay, then overwrites its first blocks
      assert.match(
        await serial.run(`mkdir -p /tmp/e && mount -t ext4 -o ro /dev/${dev} /tmp/e && cat /tmp/e/README; umount /tmp/e`, 20_000),
        /kubevirt-ts data disk/,
      );
      await serial.run(`dd if=/dev/zero of=/dev/${dev} bs=4096 count=16 conv=fsync 2>&1; echo done`, 20_000);
      assert.match(await serial.run(`head -c 65536 /dev/${dev} | tr -d '\\000' | wc -c`), /^\s*0\s*$/m, 'the guest reads back its zeros');
    } finally {
      serial.close();
    }
    assert.equal(createHash('sha256').update(readFileSync(ephClaim)).digest('hex'), before, "the claim's image is unchanged");
  });
});
