// The VirtualMachineOptions path end to end: a KubeVirt CR with a custom SMBIOS, balloon statistics
// period and virtualMachineOptions (serial console log and free page reporting disabled) → virt-handler's
// cluster config → the options of its SyncVirtualMachine → the launcher's converter context → the domain
// libvirt holds (read back from libvirt, not from our converter).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { createKubeVirtCR } from '../../../test/bed/kubevirt-cr.ts';
import { startHandlerNode, type HandlerNode } from '../../../test/bed/handler-node.ts';

const SMBIOS = { manufacturer: 'Globex', product: 'Hammock', version: '2.4', sku: 'GX-9', family: 'Outdoor' };
const BALLOON_PERIOD = 9;

describe('KubeVirt CR → handler → launcher → libvirt: SMBIOS, balloon, serial log, free page reporting', { timeout: 300_000 }, () => {
  let node: HandlerNode;
  const logs = () => node.handler.logs();

  before(async () => {
    // with node-labeller.sh's files, so every Sync also carries the host's real NUMA topology
    node = await startHandlerNode({ namespace: 'sync-options', nodePrefix: 'kvts-opt', nodeLabellerFiles: true });
  });

  after(async () => {
    await node?.stop();
  });

  test("the handler read the host's capabilities (the topology it sends)", () => {
    assert.doesNotMatch(logs(), /could not read the host capabilities/);
  });

  test('the deployed CR reaches the handler', async () => {
    const updates = () => logs().match(/Updating cluster config from KubeVirt/g)?.length ?? 0;
    const before = updates();
    // the node's CR (the cluster has one already: useEmulation) gets this configuration
    await createKubeVirtCR(node.kc, node.namespace, {
      smbios: SMBIOS,
      memBalloonStatsPeriod: BALLOON_PERIOD,
      virtualMachineOptions: { disableSerialConsoleLog: {}, disableFreePageReporting: {} },
    });
    await poll('cluster config updated from the CR', async () => (updates() > before ? true : undefined), 30_000, logs);
  });

  test('the domain the launcher defined carries the SMBIOS entries, the balloon period, no free page reporting and no serial log', async () => {
    const vm = await node.startVM('vmi-options', { autoattachMemBalloon: true });
    await poll('VMI Running', async () => ((await node.getVMI(vm.name)).status?.phase === 'Running' ? true : undefined), 90_000, logs);
    const xml = await virsh(vm.sandbox, ['dumpxml', `${node.namespace}_${vm.name}`]);
    const system = /<sysinfo type='smbios'>\s*<system>([\s\S]*?)<\/system>/.exec(xml)?.[1] ?? '';
    const entries = Object.fromEntries([...system.matchAll(/<entry name='(\w+)'>([^<]*)<\/entry>/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(
      { manufacturer: entries.manufacturer, product: entries.product, version: entries.version, sku: entries.sku, family: entries.family },
      SMBIOS,
      xml,
    );
    const balloon = /<memballoon model='virtio[^']*'[^>]*>[\s\S]*?<\/memballoon>/.exec(xml)?.[0] ?? '';
    assert.match(balloon, new RegExp(`<stats period='${BALLOON_PERIOD}'/>`), balloon || xml);

    // virtualMachineOptions.disableFreePageReporting: the launcher's default (on) turned off by the CR
    assert.match(balloon, /<memballoon model='virtio[^']*' freePageReporting='off'>/, balloon || xml);
    // virtualMachineOptions.disableSerialConsoleLog: serial 0 still bound to the console socket, without a log file
    const serial = /<serial type='unix'>[\s\S]*?<\/serial>/.exec(xml)?.[0] ?? '';
    assert.match(serial, /<source mode='bind' path='[^']*virt-serial0'\/>/, serial || xml);
    assert.doesNotMatch(serial, /<log /, serial);
  });
});
