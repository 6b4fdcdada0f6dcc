// An EFI VMI through virt-handler, as a cluster runs it: a real kube-apiserver, the handler as a
// process mounting the EFI test guest's containerDisk into the launcher pod, a non-root launcher
// (KubeVirt's default) booting it with OVMF from its default --ovmf-path under QEMU TCG. The VMI goes
// Running and its guest agent connects.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cmdClient } from '@kubevirt-ts/proto';
import { startHandlerNode, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';
import { mountsUnder } from '../../../test/bed/mounts.ts';
import { poll } from '../../../test/bed/poll.ts';

/** OVMF under TCG is slow: generous deadlines. */
const RUNNING_MS = 180_000;
const AGENT_MS = 300_000;

describe('an EFI VMI on virt-handler with a non-root launcher', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let vm: TestVM;
  const logs = () => `${node.handler.logs().slice(-6000)}\n--- launcher ---\n${vm?.launcher.logs().slice(-6000) ?? ''}`;

  before(async () => {
    node = await startHandlerNode({ namespace: 'efi', nodePrefix: 'kvts-efi' });
  });
  after(async () => {
    await node?.stop();
  });

  test('Scheduled → the handler mounts the EFI disk → Running with the OVMF domain → the agent connects', async () => {
    vm = await node.startVM('efi-vmi', { efi: { secureBoot: false }, nonRoot: true });
    const running = await poll(
      'VMI Running',
      async () => {
        const v = await node.getVMI('efi-vmi');
        return v.status?.phase === 'Running' ? v : undefined;
      },
      RUNNING_MS,
      logs,
    );
    assert.deepEqual(running.status?.volumeStatus, [{ name: 'boot', target: 'vda' }]);
    // the handler bind-mounted the disk image from its containerDisk container, read-only
    const disks = vm.sandbox.volumePath('container-disks');
    assert.deepEqual(
      mountsUnder(disks)
        .filter((m) => m !== disks)
        .map((m) => m.slice(disks.length + 1)),
      ['disk_0.img'],
    );
    // the domain the launcher reports: OVMF's code from KubeVirt's default --ovmf-path, the nvram of a non-root VMI
    const client = await cmdClient(vm.launcher.cmdSocket);
    const reply = await client.GetDomain({}).finally(() => client.close());
    const domain = JSON.parse(reply.domain) as {
      Spec: { OS: { BootLoader: { Path: string; Secure: string }; NVRam: { Template: string; Format: string; NVRam: string } } };
    };
    assert.deepEqual([domain.Spec.OS.BootLoader.Path, domain.Spec.OS.BootLoader.Secure], ['/usr/share/edk2/ovmf/OVMF_CODE.fd', 'no']);
    // api.NVRam's JSON: every field, in Go's order
    assert.deepEqual(Object.entries(domain.Spec.OS.NVRam), [
      ['Template', '/usr/share/edk2/ovmf/OVMF_VARS.fd'],
      ['Format', ''],
      ['NVRam', '/var/run/kubevirt-private/libvirt/qemu/nvram/efi-vmi_VARS.fd'],
    ]);
    assert.ok(existsSync(vm.sandbox.hostPath(domain.Spec.OS.NVRam.NVRam)), 'the nvram in the pod');

    const withAgent = await poll(
      'the guest agent connected',
      async () => {
        const v = await node.getVMI('efi-vmi');
        return v.status?.conditions?.some((c) => c.type === 'AgentConnected' && c.status === 'True') && v.status.guestOSInfo?.id
          ? v
          : undefined;
      },
      AGENT_MS,
      logs,
    );
    assert.equal(withAgent.status?.guestOSInfo?.id, 'kvts-testguest');
  });
});
