// A VMI with a virtiofs filesystem through virt-handler, as a cluster runs it: a real kube-apiserver,
// the handler as a process, a non-root launcher (KubeVirt's default pod) beside the pod's
// `virtiofs-<volume>` container (test/bed/virtiofs-container.ts). While the container's socket is
// missing the handler's sync fails (configureVirtioFS); once it serves, the handler gives the socket to
// the qemu user, the VMI goes Running and the guest reads the claim's file through the share.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { startHandlerNode, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';
import { poll } from '../../../test/bed/poll.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import { startVirtiofsContainer } from '../../../test/bed/virtiofs-container.ts';

const SHARED = { name: 'shared', persistentVolumeClaim: { claimName: 'shared-files' } };

describe('a VMI sharing a claim through virtiofs, on virt-handler with a non-root launcher', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let vm: TestVM;
  const logs = () => `${node.handler.logs().slice(-6000)}\n--- launcher ---\n${vm?.launcher.logs().slice(-6000) ?? ''}`;

  before(async () => {
    node = await startHandlerNode({ namespace: 'virtiofs', nodePrefix: 'kvts-vfs' });
  });
  after(async () => {
    await node?.stop();
  });

  test("the handler fails the sync while the virtiofs socket is missing (safepath's lstat error)", async () => {
    vm = await node.startVM('fs-vmi', {
      nonRoot: true,
      virtiofs: true,
      kernelArgs: 'kvts.virtiofs=shared:/mnt/shared',
      customize: (vmi) => {
        const devices = vmi.spec.domain.devices as { filesystems?: object[] };
        devices.filesystems = [{ name: SHARED.name, virtiofs: {} }];
        vmi.spec.volumes.push(SHARED);
        vmi.status.volumeStatus.push({ name: SHARED.name, target: '' });
      },
    });
    const failed = await poll(
      'a SyncFailed event',
      async () =>
        (await node.core.listNamespacedEvent({ namespace: node.namespace, fieldSelector: 'involvedObject.name=fs-vmi' })).items.find(
          (e) => e.reason === 'SyncFailed',
        ),
      60_000,
      logs,
    );
    assert.match(
      failed.message ?? '',
      /^lstat \/proc\/\d+\/root\/run\/kubevirt\/virtiofs-containers\/shared\.sock: no such file or directory$/,
    );
    assert.equal(failed.type, 'Warning');
    assert.equal((await node.getVMI('fs-vmi')).status?.phase, 'Scheduled');
  });

  test("once the container serves, Running: the handler gave its socket to the qemu user; the guest reads the node's file", async () => {
    const dir = mkdtempSync(path.join(vm.sandbox.podDir, 'claim-'));
    chownSync(dir, 107, 107);
    writeFileSync(path.join(dir, 'hello.txt'), 'shared by the node\n');
    // a root virtiofsd: its socket is root's, 0700; only the handler's chown lets the non-root QEMU in
    const container = await startVirtiofsContainer(vm.sandbox, SHARED, dir, { runAsRoot: true });
    const running = await poll(
      'VMI Running',
      async () => {
        const v = await node.getVMI('fs-vmi');
        return v.status?.phase === 'Running' ? v : undefined;
      },
      180_000,
      logs,
    );
    // kube-apiserver kept the filesystem (KubeVirt's CRD schema has it)
    const spec = (running as unknown as { spec: { domain: { devices: { filesystems?: object[] } } } }).spec;
    assert.deepEqual(spec.domain.devices.filesystems, [{ name: 'shared', virtiofs: {} }]);
    // the shared volume is no disk: the only target is the containerDisk's
    assert.deepEqual(
      running.status?.volumeStatus?.map((s) => [s.name, s.target]),
      [
        ['data', 'vda'],
        ['shared', ''],
      ],
    );
    assert.equal(statSync(container.socket).uid, 107);
    const serial = await SerialConsole.open(vm.sandbox.hostPath(`/var/run/kubevirt-private/${vm.uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, 120_000);
      assert.match(await serial.run('cat /mnt/shared/hello.txt'), /shared by the node/);
    } finally {
      serial.close();
    }
  });
});
