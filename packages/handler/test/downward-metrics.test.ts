// Downward metrics on real parts: a VMI with the downwardMetrics device and volume, run by a real
// launcher and virt-handler. The guest asks on its vhostmd port (org.github.vhostmd.1) as
// vm-dump-metrics does and reads the handler's metrics document: the node's name and figures, QEMU's
// version from the launcher, its own CPU time and memory from libvirt's stats. A request that is not
// `GET /metrics/XML` is refused. The volume's vhostmd disk carries the same document, kept current.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startHandlerNode, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';
import { poll } from '../../../test/bed/poll.ts';
import type { SerialConsole } from '../../../test/bed/serial.ts';

const PORT = '/dev/virtio-ports/org.github.vhostmd.1';

describe('downward metrics: the guest reads the metrics virt-handler serves on its vhostmd port', { timeout: 400_000 }, () => {
  let node: HandlerNode;
  let vm: TestVM;
  let serial: SerialConsole;
  const name = 'dmvmi';
  const logs = () => `${node.handler.logs().slice(-6000)}\nlauncher:\n${vm?.launcher.logs().slice(-4000) ?? ''}`;

  /** One request on the port, as vm-dump-metrics sends it, and what came back within 3 s. */
  const ask = async (request: string) =>
    (await serial.run(`exec 3<>${PORT}; printf '${request}\\n\\n' >&3; timeout 3 cat <&3; exec 3>&-`, 15_000)).replace(/\r/g, '');

  before(async () => {
    node = await startHandlerNode({ namespace: 'dmetrics', nodePrefix: 'kvts-dm' });
    vm = await node.startVM(name, {
      customize: (v) => {
        Object.assign(v.spec.domain.devices, { downwardMetrics: {} });
        // the disk variant too: vhostmd's disk, which the handler rewrites every 5 s
        v.spec.volumes.push({ name: 'metrics', downwardMetrics: {} });
        v.spec.domain.devices.disks.push({ name: 'metrics', disk: { bus: 'virtio' } });
        // virt-controller's volume status for it, as for every volume
        v.status.volumeStatus.push({ name: 'metrics', target: '' });
      },
    });
    serial = await node.guestConsole(vm, { logs });
  });

  after(async () => {
    serial?.close();
    await node?.stop();
  });

  test('GET /metrics/XML: host and VM metrics, as vhostmd names them', async () => {
    let xml = '';
    await poll(
      'a metrics document on the port (the handler connects once the VMI runs)',
      async () => {
        xml = await ask('GET /metrics/XML');
        return xml.includes('</metrics>') ? true : undefined;
      },
      60_000,
      () => `${xml}\n${logs()}`,
    );
    const metric = (context: string, metricName: string) =>
      new RegExp(
        `<metric type="(\\w+)" context="${context}"(?: unit="(\\w+)")?>\\n\\s*<name>${metricName}</name>\\n\\s*<value>([^<]*)</value>`,
      ).exec(xml);
    assert.equal(metric('host', 'HostName')?.[3], node.nodeName);
    assert.equal(metric('host', 'VirtualizationVendor')?.[3], 'kubevirt.io');
    const qemu = /version (\d+\.\d+\.\d+)/.exec(execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }))?.[1];
    assert.equal(metric('host', 'VirtProductInfo')?.[3], qemu, "QEMU's version, from the launcher");
    const cpu = metric('vm', 'TotalCPUTime');
    assert.deepEqual([cpu?.[1], cpu?.[2]], ['real64', 's']);
    assert.ok(Number(cpu?.[3]) > 0, `the guest's CPU time: ${cpu?.[3]}`);
    assert.equal(metric('vm', 'ResourceProcessorLimit')?.[3], '1');
    const memory = metric('vm', 'PhysicalMemoryAllocatedToVirtualSystem');
    assert.deepEqual([memory?.[1], memory?.[2], memory?.[3]], ['uint64', 'KiB', String(128 * 1024)]);
    const time = Number(metric('host', 'Time')?.[3]);
    assert.ok(Math.abs(time - Date.now() / 1000) < 120, `the node's time: ${time}`);
    assert.ok(Number(metric('host', 'FreePhysicalMemory')?.[3]) > 0);
  });

  test('a request other than GET /metrics/XML: INVALID REQUEST, and the port keeps serving', async () => {
    assert.match(await ask('PUT /metrics/XML'), /^INVALID REQUEST$/m);
    assert.match(await ask('GET /metrics/JSON'), /^INVALID REQUEST$/m);
    assert.match(await ask('GET /metrics/XML'), /<\/metrics>/);
  });

  test("the downwardMetrics volume: vhostmd's disk (mvbd), which the handler keeps rewriting with the metrics", async () => {
    // the guest's page cache is dropped before each read: the host writes the disk underneath it
    const read = async () =>
      (
        await serial.run("echo 3 > /proc/sys/vm/drop_caches; head -c 8192 /dev/vdb | tr -d '\\000-\\011\\013-\\037\\177-\\377'", 15_000)
      ).replace(/\r/g, '');
    const times: number[] = [];
    let last = '';
    await poll(
      'two metrics documents on the disk, the second newer',
      async () => {
        const disk = await read();
        last = disk;
        assert.match(disk, /^mvbd/, 'the vhostmd signature');
        const time = /<name>Time<\/name>\s*<value>(\d+)<\/value>/.exec(disk)?.[1];
        if (time && !times.includes(Number(time))) times.push(Number(time));
        if (times.length === 1) assert.match(disk, new RegExp(`<name>HostName</name>\\s*<value>${node.nodeName}</value>`));
        return times.length >= 2 ? true : undefined;
      },
      60_000,
      () => `guest read: ${last.slice(0, 2000)}\n${logs()}`,
    );
  });
});
