// KSM as the KubeVirt CR's ksmConfiguration asks: the handler writes run / sleep_millisecs / pages_to_scan in a
// KSM sysfs directory (a temp dir here) under memory pressure, labels the Node of a real kube-apiserver
// kubevirt.io/ksm-enabled and annotates kubevirt.io/ksm-handler-managed, and turns off only the KSM it turned on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { createLogger } from '@kubevirt-ts/shared';
import { startControlPlane, type ControlPlane } from '../../../test/control-plane/control-plane.ts';
import { poll } from '../../../test/bed/poll.ts';
import { createKubeVirtCR } from '../../../test/bed/kubevirt-cr.ts';
import { createClusterConfig } from '../src/cluster-config.ts';
import { calculateNewRunSleepAndPages, KSMEnabledLabel, KSMHandler, KSMHandlerManagedAnnotation, selectorMatches } from '../src/ksm.ts';

const logger = createLogger({ component: 'virt-handler', verbosity: 0 });
const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;
const node = (annotations: Record<string, string> = {}): V1Node => ({ metadata: { name: 'n', annotations } });

describe('KSM values (calculateNewRunSleepAndPages)', () => {
  const GiB = 1024 * 1024; // meminfo is in kB
  // sleep = baseline 100 × 16 Mi / used memory in kB (KubeVirt's formula, units as it has them): 15 GiB used → 106
  test('under pressure and off: on with the initial pages; sleep from the used memory', () => {
    assert.deepEqual(calculateNewRunSleepAndPages(node(), false, { total: 16 * GiB, available: 1 * GiB }, 0, logger), {
      running: true,
      sleep: 106,
      pages: 100,
    });
  });
  test('under pressure and on: pages boosted up to the maximum', () => {
    assert.deepEqual(calculateNewRunSleepAndPages(node(), true, { total: 16 * GiB, available: 1 * GiB }, 1200, logger), {
      running: true,
      sleep: 106,
      pages: 1250,
    });
  });
  test('no pressure and on: pages decay, off at the minimum; no pressure and off: stays off', () => {
    assert.deepEqual(calculateNewRunSleepAndPages(node(), true, { total: 16 * GiB, available: 8 * GiB }, 300, logger), {
      running: true,
      sleep: 200,
      pages: 250,
    });
    assert.deepEqual(calculateNewRunSleepAndPages(node(), true, { total: 16 * GiB, available: 8 * GiB }, 100, logger), {
      running: false,
      sleep: 200,
      pages: 64,
    });
    assert.deepEqual(calculateNewRunSleepAndPages(node(), false, { total: 16 * GiB, available: 8 * GiB }, 100, logger), {
      running: false,
      sleep: 0,
      pages: 0,
    });
  });
  test('node annotations override the tuning; out-of-range overrides fall back', () => {
    const n = node({
      'kubevirt.io/ksm-pages-init-override': '500',
      'kubevirt.io/ksm-free-percent-override': '0.9',
      'kubevirt.io/ksm-pages-decay-override': '7',
    });
    assert.deepEqual(calculateNewRunSleepAndPages(n, false, { total: 16 * GiB, available: 8 * GiB }, 0, logger), {
      running: true,
      sleep: 200,
      pages: 500,
    });
  });
  test('label selectors as metav1: matchLabels, In/NotIn/Exists/DoesNotExist; none selects nothing, {} everything', () => {
    const labels = { a: '1', b: '2' };
    assert.equal(selectorMatches(undefined, labels), false);
    assert.equal(selectorMatches({}, labels), true);
    assert.equal(selectorMatches({ matchLabels: { a: '1' } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { a: '2' } }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'In', values: ['2', '3'] }] }, labels), true);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['2'] }] }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'c', operator: 'Exists' }] }, labels), false);
    assert.equal(selectorMatches({ matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }, labels), true);
  });
});

describe('KSM handler with kube-apiserver', () => {
  let cp: ControlPlane;
  let dir: string;
  const nodeName = `kvts-ksm-${process.pid}`;

  before(async () => {
    dir = mkdtempSync('/tmp/kvksm');
    cp = await startControlPlane();
  });
  after(async () => {
    await cp
      ?.kubeConfig()
      .makeApiClient(CoreV1Api)
      .deleteNode({ name: nodeName })
      .catch(() => undefined);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the selected node under pressure: KSM on, labelled and annotated; deselected: KSM off again', async () => {
    const kc = cp.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNode({ body: { metadata: { name: nodeName, labels: { 'ksm-pool': 'yes' } } } });
    const ksmPath = path.join(dir, 'ksm');
    rmSync(ksmPath, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(ksmPath));
    writeFileSync(path.join(ksmPath, 'run'), '0\n');
    writeFileSync(path.join(ksmPath, 'pages_to_scan'), '100\n');
    writeFileSync(path.join(ksmPath, 'sleep_millisecs'), '20\n');
    const memInfoPath = path.join(dir, 'meminfo');
    writeFileSync(memInfoPath, 'MemTotal:       16777216 kB\nMemFree:          524288 kB\nMemAvailable:    1048576 kB\n');
    const ns = await cp.createNamespace('kvts-ksm');
    await createKubeVirtCR(kc, ns, { ksmConfiguration: { nodeLabelSelector: { matchLabels: { 'ksm-pool': 'yes' } } } });
    const clusterConfig = createClusterConfig({ kc, logger, namespace: ns });
    await clusterConfig.start();
    const ksm = new KSMHandler({ kc, host: nodeName, logger, clusterConfig, ksmPath, memInfoPath });
    ksm.run();
    try {
      const n = await poll(
        'KSM on and the node labelled',
        async () => {
          const got = await core.readNode({ name: nodeName });
          return got.metadata?.labels?.[KSMEnabledLabel] === 'true' && got.metadata.annotations?.[KSMHandlerManagedAnnotation] === 'true'
            ? got
            : undefined;
        },
        10_000,
      );
      assert.ok(n);
      assert.equal(readFileSync(path.join(ksmPath, 'run'), 'utf8'), '1');
      assert.equal(readFileSync(path.join(ksmPath, 'pages_to_scan'), 'utf8'), '100');
      assert.equal(readFileSync(path.join(ksmPath, 'sleep_millisecs'), 'utf8'), '106'); // 100 × 16 Mi / 15 GiB used (kB)

      // the CR's selector no longer picks the node: KSM (ours) off, label false
      await custom.patchNamespacedCustomObject(
        {
          ...KUBEVIRT,
          namespace: ns,
          name: 'kubevirt',
          body: { spec: { configuration: { ksmConfiguration: { nodeLabelSelector: { matchLabels: { 'ksm-pool': 'other' } } } } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await poll(
        'KSM off and the label false',
        async () => {
          const got = await core.readNode({ name: nodeName });
          return got.metadata?.labels?.[KSMEnabledLabel] === 'false' && got.metadata.annotations?.[KSMHandlerManagedAnnotation] === 'false'
            ? true
            : undefined;
        },
        10_000,
      );
      assert.equal(readFileSync(path.join(ksmPath, 'run'), 'utf8'), '0\n');

      // KSM someone else turned on is left alone
      writeFileSync(path.join(ksmPath, 'run'), '1\n');
      await ksm.spin();
      assert.equal(readFileSync(path.join(ksmPath, 'run'), 'utf8'), '1\n');
    } finally {
      await ksm.stop();
      clusterConfig.stop();
    }
  });
});
