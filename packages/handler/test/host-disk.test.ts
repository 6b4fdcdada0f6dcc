// Claims through virt-handler, as KubeVirt hands them to the launcher: a claim without an
// image gets one from the handler before the first sync (sparse, the claim's size, owned by qemu), one
// on a volume somewhat smaller than asked gets what there is with a ToleratedSmallPV Event, and the
// launcher, sent both as hostDisks, boots the VM with them. A real kube-apiserver, handler, launcher,
// libvirtd and QEMU; the claims are directories of the pod (one a 32 MiB tmpfs mounted in it). A block
// claim of a non-root VMI is a device node the handler gives to the qemu user (setupDevicesOwnerships).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cmdClient } from '@kubevirt-ts/proto';
import { provideBlockClaim, type BlockClaim } from '../../../test/bed/claims.ts';
import { startHandlerNode, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';
import { poll } from '../../../test/bed/poll.ts';

const MiB = 1024 * 1024;
const SMALL_TMPFS = 32 * MiB;
/** KubeVirt's minimumReservePVCBytes default: kept free on the claim. */
const RESERVE = 131072;

describe('claims on virt-handler: the images it makes, the hostDisks the launcher gets, the block devices it hands over', {
  timeout: 600_000,
}, () => {
  let node: HandlerNode;
  let vm: TestVM;
  const logs = () => `${node.handler.logs().slice(-6000)}\n--- launcher ---\n${vm?.launcher.logs().slice(-6000) ?? ''}`;

  before(async () => {
    node = await startHandlerNode({ namespace: 'hostdisk', nodePrefix: 'kvts-hd' });
  });
  after(async () => {
    await node?.stop();
  });

  test('a blank claim and a too-small one: images made, the Event sent, Running with both disks at those sizes', async () => {
    const claim = (name: string, pvc: object) => ({
      disk: { name, disk: { bus: 'virtio' } },
      volume: { name, persistentVolumeClaim: { claimName: `${name}-claim` } },
      status: {
        name,
        target: '',
        persistentVolumeClaimInfo: { claimName: `${name}-claim`, accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', ...pvc },
      },
    });
    // 34 MiB asked of a 32 MiB volume: within KubeVirt's default 10 % toleration
    const claims = [claim('blank', { capacity: { storage: '64Mi' } }), claim('small', { capacity: { storage: '34Mi' } })];
    // non-root, KubeVirt's default (a root launcher's libvirt hands the images to its root QEMU)
    vm = await node.startVM('hd-vmi', {
      nonRoot: true,
      customize: (v) => {
        for (const c of claims) {
          v.spec.domain.devices.disks.push(c.disk);
          v.spec.volumes.push(c.volume);
          v.status.volumeStatus.push(c.status);
        }
      },
      // the kubelet's part: each claim's directory mounted at vmi-disks/<volume>, one of them small
      preparePod: async (sandbox) => {
        for (const c of claims) mkdirSync(path.join(sandbox.volumePath('private'), 'vmi-disks', c.volume.name), { recursive: true });
        const mount = sandbox.spawn('mount', [
          '-t',
          'tmpfs',
          '-o',
          `size=${SMALL_TMPFS}`,
          'tmpfs',
          '/var/run/kubevirt-private/vmi-disks/small',
        ]);
        const [code] = (await once(mount, 'close')) as [number | null];
        assert.equal(code, 0, 'the small claim mounted in the pod');
      },
    });
    await poll('VMI Running', async () => ((await node.getVMI('hd-vmi')).status?.phase === 'Running' ? true : undefined), 240_000, logs);

    const blank = statSync(path.join(vm.sandbox.volumePath('private'), 'vmi-disks', 'blank', 'disk.img'));
    assert.equal(blank.size, 64 * MiB);
    assert.ok(blank.blocks * 512 < blank.size, 'sparse');
    assert.deepEqual([blank.uid, blank.gid], [107, 107]);
    const small = statSync(vm.sandbox.hostPath('/var/run/kubevirt-private/vmi-disks/small/disk.img'));
    assert.equal(small.size, SMALL_TMPFS - RESERVE, 'what the volume holds, less the reserve');

    const events = (await node.core.listNamespacedEvent({ namespace: node.namespace, fieldSelector: 'involvedObject.name=hd-vmi' })).items;
    const tolerated = events.find((e) => e.reason === 'ToleratedSmallPV');
    assert.equal(
      tolerated?.message,
      `PV size too small: expected ${34 * MiB} B, found ${SMALL_TMPFS - RESERVE} B. Using it anyway, it is within 10 % toleration`,
    );
    assert.equal(tolerated?.type, 'Normal');

    // the launcher was sent hostDisks: libvirt's block stats have both images at their sizes
    const client = await cmdClient(vm.launcher.cmdSocket);
    const reply = await client.GetDomainStats({}).finally(() => client.close());
    const blocks = (JSON.parse(reply.domainStats) as { Block: Array<{ Path: string; Capacity: number }> }).Block;
    for (const [volume, size] of [
      ['blank', 64 * MiB],
      ['small', SMALL_TMPFS - RESERVE],
    ] as const) {
      const block = blocks.find((b) => b.Path === `/var/run/kubevirt-private/vmi-disks/${volume}/disk.img`);
      assert.equal(block?.Capacity, size, `${volume}: ${JSON.stringify(blocks.map((b) => [b.Path, b.Capacity]))}`);
    }
    // the status keeps the claims as the VMI has them
    const volumes = (await node.getVMI('hd-vmi')) as unknown as {
      spec: { volumes: Array<{ name: string; persistentVolumeClaim?: object }> };
    };
    assert.ok(volumes.spec.volumes.find((v) => v.name === 'blank')?.persistentVolumeClaim, 'the VMI’s spec is not the launcher’s');
  });

  test('a non-root VMI with a block claim: the handler gives /dev/<volume> to qemu, and QEMU opens it', async () => {
    const image = path.join(node.dir, 'block-claim.img');
    writeFileSync(image, Buffer.alloc(8 * MiB, 0x5a));
    let claim: BlockClaim | undefined;
    let blockVM: TestVM | undefined;
    try {
      blockVM = await node.startVM('blk-vmi', {
        nonRoot: true,
        customize: (v) => {
          v.spec.domain.devices.disks.push({ name: 'blk', disk: { bus: 'virtio' } });
          v.spec.volumes.push({ name: 'blk', persistentVolumeClaim: { claimName: 'blk-claim' } });
          v.status.volumeStatus.push({
            name: 'blk',
            target: '',
            persistentVolumeClaimInfo: {
              claimName: 'blk-claim',
              accessModes: ['ReadWriteOnce'],
              volumeMode: 'Block',
              capacity: { storage: '8Mi' },
            },
          });
        },
        // the container runtime's volumeDevice: a node of the claim's numbers, root's and 0660
        preparePod: async (sandbox) => {
          claim = await provideBlockClaim(sandbox, 'blk', image);
        },
      });
      vm = blockVM;
      await poll('VMI Running', async () => ((await node.getVMI('blk-vmi')).status?.phase === 'Running' ? true : undefined), 240_000, logs);
      const node107 = statSync(blockVM.sandbox.hostPath('/dev/blk'));
      assert.deepEqual([node107.uid, node107.gid, node107.mode & 0o777], [107, 107, 0o660]);
      const client = await cmdClient(blockVM.launcher.cmdSocket);
      const reply = await client.GetDomainStats({}).finally(() => client.close());
      const blocks = (JSON.parse(reply.domainStats) as { Block: Array<{ Path: string; Capacity: number }> }).Block;
      assert.equal(blocks.find((b) => b.Path === '/dev/blk')?.Capacity, 8 * MiB, JSON.stringify(blocks.map((b) => [b.Path, b.Capacity])));
    } finally {
      // the loop device goes once QEMU is gone with the pod
      await blockVM?.launcher.stop('SIGKILL').catch(() => undefined);
      await blockVM?.sandbox.destroy();
      await claim?.release();
    }
  });
});
