// The node labeller on node-labeller.sh's files made by a real libvirtd (in a pod sandbox, the commands the
// script runs, virt type qemu), labelling a Node of a real kube-apiserver, with the KubeVirt CR's obsolete models.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createLogger } from '@kubevirt-ts/shared';
import { makeNodeLabellerFiles } from '../../../test/bed/node-labeller-files.ts';
import { startControlPlane, type ControlPlane } from '../../../test/control-plane/control-plane.ts';
import { poll } from '../../../test/bed/poll.ts';
import { createKubeVirtCR } from '../../../test/bed/kubevirt-cr.ts';
import { createClusterConfig, DefaultObsoleteCPUModels } from '../src/cluster-config.ts';
import {
  CPUModelLabel,
  HostModelCPULabel,
  LabellerSkipNodeAnnotation,
  NodeLabeller,
  SupportedMachineTypeLabel,
  loadNodeLabellerData,
  type NodeLabellerData,
} from '../src/node-labeller.ts';
import { capabilitiesToTopology, readHostCapabilities } from '../src/options.ts';

const logger = createLogger({ component: 'virt-handler', verbosity: 0 });
const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;

describe('node labeller', () => {
  let cp: ControlPlane | undefined;
  let dir: string;
  let data: NodeLabellerData;
  const nodeName = `kvts-labeller-${process.pid}`;

  before(async () => {
    dir = mkdtempSync('/tmp/kvnl');
    await makeNodeLabellerFiles(dir);
    cp = await startControlPlane();
  });
  after(async () => {
    if (cp) {
      await cp
        .kubeConfig()
        .makeApiClient(CoreV1Api)
        .deleteNode({ name: nodeName })
        .catch(() => undefined);
      await cp.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("libvirt's files load: q35 machines, named models, the host-model CPU, required features", () => {
    data = loadNodeLabellerData(dir);
    assert.ok(data.machines.includes('q35'), `machines: ${data.machines.join(' ')}`);
    assert.ok(data.usableModels.length > 0 && data.knownModels.length >= data.usableModels.length);
    assert.ok(data.usableModels.includes('qemu64'), 'TCG runs qemu64');
    assert.notEqual(data.hostCPUModel.name, '');
    assert.ok(data.supportedFeatures.length > 0, 'hypervisor-cpu-baseline listed required features');
  });

  test("the same capabilities.xml gives the NUMA topology the launchers get: the kernel's nodes and their CPUs", () => {
    // the kernel's view: /sys/devices/system/node/nodeN/cpulist ("0-3,8")
    const cpulist = (list: string) =>
      list
        .trim()
        .split(',')
        .filter(Boolean)
        .flatMap((part) => {
          const [from, to = from] = part.split('-').map(Number) as [number, number?];
          return Array.from({ length: to - from + 1 }, (_, i) => from + i);
        });
    const sysNodes = readdirSync('/sys/devices/system/node')
      .filter((n) => /^node\d+$/.test(n))
      .map((n) => ({ id: Number(n.slice(4)), cpus: cpulist(readFileSync(`/sys/devices/system/node/${n}/cpulist`, 'utf8')) }))
      .sort((a, b) => a.id - b.id);
    assert.ok(sysNodes.length > 0, 'this machine has no /sys/devices/system/node/node*');
    const topology = capabilitiesToTopology(readHostCapabilities(dir));
    const cells = topology.numa_cells ?? [];
    assert.deepEqual(
      cells.map((c) => ({ id: c.id, cpus: (c.cpus ?? []).map((cpu) => cpu.id).sort((a, b) => (a ?? 0) - (b ?? 0)) })),
      sysNodes,
      JSON.stringify(topology),
    );
    for (const cell of cells) {
      assert.equal(cell.memory?.unit, 'KiB', JSON.stringify(cell));
      assert.ok(BigInt(String(cell.memory?.amount ?? 0)) > 0n, JSON.stringify(cell));
      assert.ok(
        (cell.pages ?? []).some((p) => p.size === 4 && p.unit === 'KiB'),
        'the 4 KiB pages are listed',
      );
      // every CPU is among its own thread siblings, unless libvirt wrote them as a range ("0-1"), which
      // KubeVirt's comma-list reading drops
      for (const cpu of cell.cpus ?? []) {
        const siblings = cpu.siblings ?? [];
        assert.ok(siblings.length === 0 || siblings.includes(cpu.id ?? -1), JSON.stringify(cpu));
      }
    }
  });

  test('the Node gets the labels; stale labeller labels go, other labels stay; obsolete models are left out', async () => {
    const kc = (cp as ControlPlane).kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNode({
      body: {
        metadata: {
          name: nodeName,
          labels: { 'cpu-model.node.kubevirt.io/Gone': 'true', 'machine-type.node.kubevirt.io/pc-old': 'true', 'example.com/keep': 'yes' },
        },
      },
    });
    const ns = await (cp as ControlPlane).createNamespace('kvts-labeller');
    // a model only the CR makes obsolete (not in KubeVirt's default list)
    const usable = data.usableModels.find((m) => DefaultObsoleteCPUModels[m] === undefined) as string;
    assert.ok(usable, 'a usable model outside the default obsolete list');
    const custom = kc.makeApiClient(CustomObjectsApi);
    await createKubeVirtCR(kc, ns, { obsoleteCPUModels: { [usable]: true } });
    const clusterConfig = createClusterConfig({ kc, logger, namespace: ns });
    await clusterConfig.start();
    const labeller = new NodeLabeller({ kc, host: nodeName, logger, clusterConfig, volumePath: dir });
    labeller.run();
    try {
      const labels = await poll(
        'labelled node',
        async () => {
          const l = (await core.readNode({ name: nodeName })).metadata?.labels ?? {};
          return l[`${SupportedMachineTypeLabel}q35`] === 'true' ? l : undefined;
        },
        10_000,
      );
      assert.equal(labels['example.com/keep'], 'yes');
      assert.equal(labels['cpu-model.node.kubevirt.io/Gone'], undefined);
      assert.equal(labels['machine-type.node.kubevirt.io/pc-old'], undefined);
      assert.equal(labels[`${CPUModelLabel}qemu64`], 'true', 'qemu64 is obsolete by default only: the CR list replaced the defaults');
      assert.equal(labels[CPUModelLabel + usable], undefined, `${usable} is obsolete in the CR`);
      for (const m of data.usableModels.filter((m) => m !== usable)) assert.equal(labels[CPUModelLabel + m], 'true', m);
      for (const m of data.knownModels.filter((m) => m !== usable))
        assert.equal(labels[`cpu-model-migration.node.kubevirt.io/${m}`], 'true', m);
      for (const f of data.supportedFeatures) assert.equal(labels[`cpu-feature.node.kubevirt.io/${f}`], 'true', f);
      for (const f of data.hostCPUModel.requiredFeatures)
        assert.equal(labels[`host-model-required-features.node.kubevirt.io/${f}`], 'true', f);
      assert.equal(labels[HostModelCPULabel + data.hostCPUModel.name], 'true');
      assert.equal(labels[`cpu-vendor.node.kubevirt.io/${data.cpuModelVendor}`], 'true');
      if (data.cpuCounter) assert.equal(labels['cpu-timer.node.kubevirt.io/tsc-frequency'], String(data.cpuCounter.frequency));

      // the CR changes: the default obsolete list applies again (qemu64 left out, the other model back)
      await custom.patchNamespacedCustomObject(
        { ...KUBEVIRT, namespace: ns, name: 'kubevirt', body: [{ op: 'remove', path: '/spec/configuration/obsoleteCPUModels' }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      await poll(
        'labels follow the CR',
        async () => {
          const l = (await core.readNode({ name: nodeName })).metadata?.labels ?? {};
          return l[CPUModelLabel + usable] === 'true' && l[`${CPUModelLabel}qemu64`] === undefined ? true : undefined;
        },
        10_000,
      );

      // skip-node: a stale label stays
      await core.patchNode(
        {
          name: nodeName,
          body: { metadata: { annotations: { [LabellerSkipNodeAnnotation]: '' }, labels: { 'cpu-model.node.kubevirt.io/Gone': 'true' } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      await labeller.execute();
      assert.equal((await core.readNode({ name: nodeName })).metadata?.labels?.['cpu-model.node.kubevirt.io/Gone'], 'true');
    } finally {
      await labeller.stop();
      clusterConfig.stop();
    }
  });
});
