// The handler's Kubernetes side against a real kube-apiserver: VMI informers, the KubeVirt cluster config, the
// node heartbeat, the event recorder and the CA bundle. The harness plays kubelet (it creates the Node).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  Watch,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Logger, VirtualMachineInstance } from '@kubevirt-ts/shared';
import { startControlPlane, type ControlPlane } from '../../../test/control-plane/control-plane.ts';
import { applyCRDs, deleteCRDs } from '../../../test/control-plane/crds.ts';
import { createInformer, createVMIInformers, parseVMIFromAPI, type ListResult, type VMIInformer } from '../src/informers.ts';
import { createClusterConfig, type KubeVirtConfiguration } from '../src/cluster-config.ts';
import { Heartbeat, NodeSchedulableLabel, VirtHandlerHeartbeatAnnotation } from '../src/heartbeat.ts';
import { EventRecorder } from '../src/recorder.ts';
import { CABundleKey, handlerNamespace, watchCABundle } from '../src/ca-bundle.ts';
import { captureLogs, type LogLine } from '../../../test/bed/log-capture.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;
const NODE_LABEL = 'kubevirt.io/nodeName';
const TARGET_LABEL = 'kubevirt.io/migrationTargetNodeName';

function capturingLogger(): { lines: LogLine[]; logger: Logger } {
  return captureLogs({ component: 'virt-handler', level: 'debug' });
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const uniqueName = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

interface RawVMI {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; uid?: string };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

function vmi(name: string, labels: Record<string, string>, apiVersion = 'kubevirt.io/v1'): RawVMI {
  return {
    apiVersion,
    kind: 'VirtualMachineInstance',
    metadata: { name, labels },
    spec: { domain: { devices: {}, resources: { requests: { memory: '128Mi' } } }, terminationGracePeriodSeconds: 0 },
    status: { phase: 'Scheduled' },
  };
}

let cp: ControlPlane;
let admin: KubeConfig;
let objects: CustomObjectsApi;
let core: CoreV1Api;

before(async () => {
  cp = await startControlPlane();
  admin = cp.kubeConfig();
  objects = admin.makeApiClient(CustomObjectsApi);
  core = admin.makeApiClient(CoreV1Api);
});

after(() => cp?.stop());

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Records what an informer delivers, as `event name` lines. */
function recordEvents(informer: VMIInformer): string[] {
  const seen: string[] = [];
  informer.on('add', (v) => seen.push(`add ${v.metadata.name}`));
  informer.on('update', (v, old) => seen.push(`update ${v.metadata.name} ${old?.status?.phase ?? '-'}→${v.status?.phase ?? '-'}`));
  informer.on('delete', (v) => seen.push(`delete ${v.metadata.name}`));
  return seen;
}

describe('VMI informers', () => {
  test('source: initial list, add/update/delete, relabelled off the node is a delete, a malformed VMI is skipped and logged; target selects by the target label', async () => {
    const ns = await cp.createNamespace('kvts-informer');
    const host = uniqueName('node');
    const create = async (body: RawVMI) => (await objects.createNamespacedCustomObject({ ...VMI, namespace: ns, body })) as RawVMI;
    await create(vmi('mine', { [NODE_LABEL]: host }));
    await create(vmi('elsewhere', { [NODE_LABEL]: 'other-node' }));

    const { lines, logger } = capturingLogger();
    const { source, target } = createVMIInformers(admin, host, logger);
    const events = recordEvents(source);
    const targetEvents = recordEvents(target);
    await Promise.all([source.start(), target.start()]);
    try {
      assert.ok(source.hasSynced());
      assert.deepEqual(
        source.list().map((v) => v.metadata.name),
        ['mine'],
        'the first list is in the cache once start() resolves',
      );
      const mine = source.get(ns, 'mine');
      assert.equal(mine?.kind, 'VirtualMachineInstance');
      assert.equal(mine?.spec.domain.resources?.requests?.['memory'], '128Mi');
      assert.equal(source.get(ns, 'elsewhere'), undefined);
      assert.deepEqual(target.list(), []);

      const added = await create(vmi('added', { [NODE_LABEL]: host }));
      await eventually('the add', () => source.get(ns, 'added'));
      await objects.replaceNamespacedCustomObject({
        ...VMI,
        namespace: ns,
        name: 'added',
        body: { ...added, status: { phase: 'Running' } },
      });
      await eventually('the update', () => source.get(ns, 'added')?.status?.phase === 'Running');
      await objects.deleteNamespacedCustomObject({ ...VMI, namespace: ns, name: 'added' });
      await eventually('the delete', () => source.get(ns, 'added') === undefined);

      await objects.patchNamespacedCustomObject(
        { ...VMI, namespace: ns, name: 'mine', body: { metadata: { labels: { [NODE_LABEL]: 'other-node' } } } },
        mergePatch,
      );
      await eventually('the relabel', () => source.get(ns, 'mine') === undefined);

      const malformed = vmi('malformed', { [NODE_LABEL]: host });
      malformed.spec = { domain: { cpu: { cores: 'two' }, devices: {} } };
      await create(malformed);
      const complaint = await eventually('the malformed VMI to be logged', () => lines.find((l) => l.name === 'malformed'));
      assert.equal(complaint.level, 'error');
      assert.equal(complaint.kind, 'VirtualMachineInstance');
      assert.equal(complaint.namespace, ns);
      assert.match(complaint.msg, /does not parse/);
      assert.match(complaint.reason ?? '', /spec\.domain\.cpu\.cores: expected a number/);
      assert.equal(source.get(ns, 'malformed'), undefined);

      await create(vmi('incoming', { [NODE_LABEL]: 'other-node', [TARGET_LABEL]: host }));
      await eventually('the target informer', () => target.get(ns, 'incoming'));
      assert.equal(source.get(ns, 'incoming'), undefined);

      assert.deepEqual(events, ['add mine', 'add added', 'update added Scheduled→Running', 'delete added', 'delete mine']);
      assert.deepEqual(targetEvents, ['add incoming']);
    } finally {
      source.stop();
      target.stop();
    }
  });

  test('a list refused (403) is logged and retried with backoff until it is allowed', async () => {
    const ns = await cp.createNamespace('kvts-rbac');
    await objects.createNamespacedCustomObject({ ...VMI, namespace: ns, body: vmi('visible', { [NODE_LABEL]: 'n' }) });
    const sa = { namespace: ns, name: 'virt-handler' };
    const asHandler = cp.kubeConfig(await cp.tokenFor(sa));
    const api = asHandler.makeApiClient(CustomObjectsApi);
    const { lines, logger } = capturingLogger();
    const informer = createInformer<VirtualMachineInstance>({
      kc: asHandler,
      path: `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances`,
      list: async () => (await api.listNamespacedCustomObject({ ...VMI, namespace: ns })) as ListResult,
      parse: parseVMIFromAPI,
      kind: 'VirtualMachineInstance',
      logger,
      backoff: { initialMs: 100, maxMs: 400 },
    });
    const synced = informer.start();
    try {
      await eventually('a refused list', () =>
        lines.find((l) => l.level === 'error' && /list\/watch failed, restarting in 100 ms/.test(l.msg)),
      );
      assert.equal(informer.hasSynced(), false);
      const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({
        namespace: ns,
        body: {
          metadata: { name: 'vmis' },
          rules: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachineinstances'], verbs: ['list', 'watch'] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: {
          metadata: { name: 'vmis' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vmis' },
          subjects: [{ kind: 'ServiceAccount', ...sa }],
        },
      });
      await synced;
      assert.ok(informer.get(ns, 'visible'));
    } finally {
      informer.stop();
    }
  });

  test('after its watch gets 410 Gone the informer relists and its cache converges', async (t) => {
    // control-plane.test.ts's trick: a CRD spec change restarts the apiserver's watch cache for it, and a watch
    // from an older resourceVersion gets 410. A CRD of the test's own, so that KubeVirt's VMI CRD stays as it is
    // for every other test on a shared cluster; the informer is the one createVMIInformer builds.
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'virtualmachineinstances.relist.kubevirt-ts.io' },
      spec: {
        group: 'relist.kubevirt-ts.io',
        scope: 'Namespaced',
        names: { plural: 'virtualmachineinstances', singular: 'virtualmachineinstance', kind: 'VirtualMachineInstance' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    };
    await applyCRDs(admin, [crd]);
    t.after(() => deleteCRDs(admin, [crd.metadata.name]));
    const resource = { group: 'relist.kubevirt-ts.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
    const ns = await cp.createNamespace('kvts-relist');
    const collection = `/apis/${resource.group}/${resource.version}/namespaces/${ns}/${resource.plural}`;
    const create = (name: string) =>
      objects.createNamespacedCustomObject({
        ...resource,
        namespace: ns,
        body: vmi(name, { [NODE_LABEL]: 'n' }, 'relist.kubevirt-ts.io/v1'),
      });
    await create('kept');
    await create('deleted-while-away');

    let lists = 0;
    const { logger } = capturingLogger();
    const informer = createInformer<VirtualMachineInstance>({
      kc: admin,
      path: collection,
      labelSelector: `${NODE_LABEL} in (n)`,
      list: async () => {
        lists++;
        return (await objects.listNamespacedCustomObject({
          ...resource,
          namespace: ns,
          labelSelector: `${NODE_LABEL} in (n)`,
        })) as ListResult;
      },
      parse: parseVMIFromAPI,
      kind: 'VirtualMachineInstance',
      logger,
    });
    const deleted: string[] = [];
    informer.on('delete', (v) => deleted.push(v.metadata.name ?? ''));
    await informer.start();
    try {
      await create('seen-by-watch');
      const lastSeen = (await eventually('the watch', () => informer.get(ns, 'seen-by-watch'))).metadata.resourceVersion ?? '';
      informer.stop();

      await objects.deleteNamespacedCustomObject({ ...resource, namespace: ns, name: 'deleted-while-away' });
      await create('created-while-away');
      await objects.patchNamespacedCustomObject(
        { ...resource, namespace: ns, name: 'kept', body: { status: { phase: 'Running' } } },
        mergePatch,
      );
      await objects.patchClusterCustomObject({
        group: 'apiextensions.k8s.io',
        version: 'v1',
        plural: 'customresourcedefinitions',
        name: crd.metadata.name,
        body: [
          {
            op: 'add',
            path: '/spec/versions/0/additionalPrinterColumns',
            value: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          },
        ],
      });
      await eventually('410 Gone for the old resourceVersion', async () => {
        let code: number | undefined;
        const done = new Promise((resolve) => {
          void new Watch(admin).watch(
            collection,
            { resourceVersion: lastSeen, timeoutSeconds: 1 },
            (type, obj: { code?: number }) => {
              if (type === 'ERROR') code = obj.code;
            },
            resolve,
          );
        });
        await done;
        return code === 410 ? true : undefined;
      });

      await informer.start();
      await eventually('the relist', () => lists === 2);
      await eventually('the converged cache', () => informer.get(ns, 'created-while-away') && !informer.get(ns, 'deleted-while-away'));
      assert.equal(informer.get(ns, 'kept')?.status?.phase, 'Running');
      assert.deepEqual(deleted, ['deleted-while-away'], 'the relist reports what vanished meanwhile');
    } finally {
      informer.stop();
    }
  });
});

describe('cluster config', () => {
  test("KubeVirt's defaults without a CR; a deployed CR's configuration over them; updates seen; an invalid one keeps the last good", async () => {
    const ns = await cp.createNamespace('kvts-kubevirt');
    const { lines, logger } = capturingLogger();
    const config = createClusterConfig({ kc: admin, logger, namespace: ns });
    const changes: KubeVirtConfiguration[] = [];
    config.onChange((c) => changes.push(c));
    await config.start();
    try {
      assert.equal(config.allowEmulation(), false);
      assert.equal(config.getMemBalloonStatsPeriod(), 10);
      assert.deepEqual(config.getSMBIOS(), { family: 'KubeVirt', manufacturer: 'KubeVirt', product: 'None' });
      assert.deepEqual(config.getSupportedAgentVersions(), ['2.*', '3.*', '4.*', '5.*']);
      assert.deepEqual(config.getTLSConfiguration(), { minTLSVersion: 'VersionTLS12', ciphers: [] });
      assert.equal(config.isFreePageReportingDisabled(), false);
      assert.equal(config.vgaDisplayForEFIGuestsEnabled(), false);
      assert.equal(config.getPermittedHostDevices(), undefined);
      assert.equal(config.getVirtHandlerVerbosity('any'), 2);
      assert.equal(config.getResourceVersion(), '');

      await objects.createNamespacedCustomObject({
        ...KUBEVIRT,
        namespace: ns,
        body: {
          apiVersion: 'kubevirt.io/v1',
          kind: 'KubeVirt',
          metadata: { name: 'kubevirt', annotations: { 'kubevirt.io/vga-display-efi-x86': 'true' } },
          spec: {
            configuration: {
              permittedHostDevices: { pciHostDevices: [{ pciVendorSelector: '10de:2342', resourceName: 'nvidia.com/gb200' }] },
              developerConfiguration: {
                useEmulation: true,
                featureGates: ['Snapshot'],
                logVerbosity: { virtHandler: 4, nodeVerbosity: { node07: 6 } },
              },
              memBalloonStatsPeriod: 5,
              smbios: { manufacturer: 'ACME', sku: 'x1' },
              tlsConfiguration: { minTLSVersion: 'VersionTLS13' },
              virtualMachineOptions: { disableFreePageReporting: {} },
            },
          },
        },
      });
      // A CR virt-operator has not deployed yet (no status.phase) is ignored. Proved below rather than
      // by waiting here: the informer delivers in order, so once the deployed version is in effect the
      // undeployed one was seen first, and it must have left no change behind (one change, not two).

      await objects.patchNamespacedCustomObjectStatus(
        { ...KUBEVIRT, namespace: ns, name: 'kubevirt', body: { status: { phase: 'Deployed' } } },
        mergePatch,
      );
      await eventually('the deployed CR', () => config.allowEmulation());
      assert.equal(config.getMemBalloonStatsPeriod(), 5);
      assert.deepEqual(config.getSMBIOS(), { family: 'KubeVirt', manufacturer: 'ACME', product: 'None', sku: 'x1' });
      assert.deepEqual(config.getTLSConfiguration(), { minTLSVersion: 'VersionTLS13', ciphers: [] });
      assert.equal(config.isFreePageReportingDisabled(), true);
      assert.equal(config.isSerialConsoleLogDisabled(), false);
      assert.equal(config.vgaDisplayForEFIGuestsEnabled(), true, 'the annotation on the CR itself');
      assert.deepEqual(config.getPermittedHostDevices(), {
        pciHostDevices: [{ pciVendorSelector: '10de:2342', resourceName: 'nvidia.com/gb200' }],
      });
      assert.equal(config.isFeatureGateEnabled('Snapshot'), true);
      assert.equal(config.getVirtHandlerVerbosity('node01'), 4);
      assert.equal(config.getVirtHandlerVerbosity('node07'), 6);
      assert.deepEqual(config.getSupportedAgentVersions(), ['2.*', '3.*', '4.*', '5.*'], 'unset fields keep their defaults');
      await eventually('the change callback', () => changes.length === 1);
      const deployedVersion = config.getResourceVersion();
      assert.notEqual(deployedVersion, '');
      assert.equal(changes.length, 1, 'the undeployed CR made no change');

      await objects.patchNamespacedCustomObject(
        { ...KUBEVIRT, namespace: ns, name: 'kubevirt', body: { spec: { configuration: { memBalloonStatsPeriod: 0 } } } },
        mergePatch,
      );
      await eventually('the update', () => config.getMemBalloonStatsPeriod() === 0);
      await eventually('the second change callback', () => changes.length === 2);
      const goodVersion = config.getResourceVersion();

      await objects.patchNamespacedCustomObject(
        {
          ...KUBEVIRT,
          namespace: ns,
          name: 'kubevirt',
          body: { spec: { configuration: { tlsConfiguration: { ciphers: ['TLS_AES_128_GCM_SHA256'] } } } },
        },
        mergePatch,
      );
      const complaint = await eventually('the invalid config to be logged', () => lines.find((l) => /Invalid cluster config/.test(l.msg)));
      assert.match(complaint.msg, new RegExp(`falling back to last good resource version '${goodVersion}'`));
      assert.match(complaint.reason ?? '', /You cannot specify ciphers when setting min TLS version to 1.3/);
      assert.equal(config.getResourceVersion(), goodVersion);
      assert.deepEqual(config.getTLSConfiguration(), { minTLSVersion: 'VersionTLS13', ciphers: [] });
      assert.equal(changes.length, 2);
    } finally {
      config.stop();
    }
  });
});

describe('heartbeat', () => {
  test('unschedulable at start, schedulable with a heartbeat while running and ready, unschedulable after stop', async () => {
    const host = uniqueName('node');
    await core.createNode({ body: { metadata: { name: host, labels: { 'kubernetes.io/hostname': host } } } });
    try {
      const labels = async () => (await core.readNode({ name: host })).metadata?.labels ?? {};
      const annotations = async () => (await core.readNode({ name: host })).metadata?.annotations ?? {};
      let ready = false;
      const { lines, logger } = capturingLogger();
      const beats = () => lines.filter((l) => l.msg === 'Heartbeat sent').length;
      const heartbeat = new Heartbeat({ kc: admin, host, logger, intervalMs: 100, jitterFactor: 0, isReady: () => ready });

      await heartbeat.markNodeAsUnschedulable();
      assert.equal((await labels())[NodeSchedulableLabel], 'false');
      assert.equal((await labels())['kubernetes.io/hostname'], host, 'a strategic merge keeps the other labels');

      heartbeat.run();
      const first = await eventually('the first heartbeat', async () => (await annotations())[VirtHandlerHeartbeatAnnotation]);
      assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'RFC3339, as metav1.Now() marshals');
      assert.equal((await labels())[NodeSchedulableLabel], 'false', 'not schedulable before the handler is ready');

      ready = true;
      await eventually('schedulable', async () => (await labels())[NodeSchedulableLabel] === 'true');
      assert.equal((await labels())['cpumanager'], 'false');

      // how long three beats take on this machine now: the chance a stopped loop gets to beat again
      const running = beats();
      const t0 = Date.now();
      await eventually('three more heartbeats', () => beats() >= running + 3);
      const threeBeatsMs = Date.now() - t0;
      await heartbeat.stop();
      assert.equal((await labels())[NodeSchedulableLabel], 'false');
      const stopped = beats();
      const stoppedAt = Date.now();
      await eventually('twice the time three beats took', () => Date.now() - stoppedAt >= 2 * threeBeatsMs);
      assert.equal(beats(), stopped, 'no beat after stop');
      assert.equal((await labels())[NodeSchedulableLabel], 'false', 'no beat after stop');
    } finally {
      await core.deleteNode({ name: host });
    }
  });

  test('a missing Node is logged, never thrown', async () => {
    const { lines, logger } = capturingLogger();
    const host = uniqueName('absent');
    const heartbeat = new Heartbeat({ kc: admin, host, logger });
    await heartbeat.markNodeAsUnschedulable();
    await heartbeat.beat();
    assert.deepEqual(
      lines.filter((l) => l.level === 'error').map((l) => l.msg),
      ['Unable to mark node as unschedulable', `Can't patch node ${host}`],
    );
  });
});

describe('event recorder', () => {
  test('an event about a VMI carries its involvedObject and source; a repeat increments count; bad input is logged, not thrown', async () => {
    const ns = await cp.createNamespace('kvts-events');
    const created = (await objects.createNamespacedCustomObject({
      ...VMI,
      namespace: ns,
      body: vmi('testvmi', { [NODE_LABEL]: 'node01' }),
    })) as RawVMI;
    const subject = parseVMIFromAPI(created);
    const { lines, logger } = capturingLogger();
    const recorder = new EventRecorder({ kc: admin, host: 'node01', logger });
    const listEvents = async () => (await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=testvmi' })).items;

    recorder.event(subject, 'Normal', 'Started', 'VirtualMachineInstance started.');
    await recorder.flush();
    const [started, ...others] = await listEvents();
    assert.equal(others.length, 0);
    assert.ok(started);
    assert.deepEqual(
      { ...started.involvedObject },
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachineInstance',
        name: 'testvmi',
        namespace: ns,
        uid: created.metadata.uid,
        resourceVersion: created.metadata.resourceVersion,
      },
    );
    assert.deepEqual({ ...started.source }, { component: 'virt-handler', host: 'node01' });
    assert.equal(started.type, 'Normal');
    assert.equal(started.reason, 'Started');
    assert.equal(started.message, 'VirtualMachineInstance started.');
    assert.equal(started.count, 1);
    assert.match(started.metadata.name ?? '', /^testvmi\.[0-9a-f]+$/);
    assert.ok(started.firstTimestamp && started.lastTimestamp);

    // Event timestamps have whole seconds: the repeat must fall in a later second to show a new lastTimestamp
    const firstSecond = Math.floor((started.lastTimestamp?.getTime() ?? 0) / 1000);
    await eventually('the next second on the clock', () => Math.floor(Date.now() / 1000) > firstSecond, 5_000);
    recorder.event(subject, 'Normal', 'Started', 'VirtualMachineInstance started.');
    recorder.event(subject, 'Warning', 'SyncFailed', 'server error');
    await recorder.flush();
    const events = await listEvents();
    const repeated = events.find((e) => e.reason === 'Started');
    assert.equal(events.length, 2);
    assert.equal(repeated?.metadata.name, started.metadata.name, 'the repeat patches the event it repeats');
    assert.equal(repeated?.count, 2);
    assert.equal(repeated?.firstTimestamp?.getTime(), started.firstTimestamp?.getTime());
    assert.ok((repeated?.lastTimestamp?.getTime() ?? 0) > (started.lastTimestamp?.getTime() ?? 0));
    assert.equal(events.find((e) => e.reason === 'SyncFailed')?.type, 'Warning');

    // client-go's aggregator: the tenth different message for the same object, type and reason is combined.
    for (let i = 1; i <= 10; i++) recorder.event(subject, 'Warning', 'Flapping', `attempt ${i}`);
    await recorder.flush();
    const flapping = (await listEvents()).filter((e) => e.reason === 'Flapping').map((e) => e.message);
    assert.equal(flapping.length, 10);
    assert.ok(flapping.includes('(combined from similar events): attempt 10'));

    assert.doesNotThrow(() => recorder.event({ metadata: { name: 'no-kind' } }, 'Normal', 'Started', 'x'));
    assert.ok(lines.some((l) => l.level === 'error' && /Could not construct reference/.test(l.msg)));
  });
});

describe('CA bundle', () => {
  test('the kubevirt-ca configmap: created and updated bundles are delivered', async () => {
    const ns = await cp.createNamespace('kvts-ca');
    const { logger } = capturingLogger();
    const seen: string[] = [];
    const watcher = watchCABundle({ kc: admin, logger, namespace: ns });
    watcher.onChange((pem) => seen.push(pem));
    await watcher.start();
    try {
      assert.equal(watcher.current(), undefined);
      const first = watcher.first();
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'other' }, data: { [CABundleKey]: 'not ours' } } });
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: 'kubevirt-ca' }, data: { [CABundleKey]: 'PEM-1' } },
      });
      assert.equal(await first, 'PEM-1', 'first() waits for the configmap to appear');
      assert.deepEqual(seen, [], 'listeners hear of changes after the first bundle');
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'kubevirt-ca', body: { data: { [CABundleKey]: 'PEM-2' } } }, mergePatch);
      await eventually('the updated bundle', () => seen.length === 1);
      assert.deepEqual(seen, ['PEM-2']);
      assert.equal(watcher.current(), 'PEM-2');
    } finally {
      watcher.stop();
    }
  });

  test('--ca-bundle-file: read at start and re-read when written or replaced', async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kvts-ca-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'ca.pem');
    writeFileSync(file, 'PEM-A');
    const seen: string[] = [];
    const { logger } = capturingLogger();
    const watcher = watchCABundle({ file, logger, kc: admin });
    watcher.onChange((pem) => seen.push(pem));
    try {
      assert.equal(await watcher.first(), 'PEM-A', 'a file wins over the configmap');
      writeFileSync(file, 'PEM-B');
      await eventually('the rewritten file', () => seen.length === 1);
      writeFileSync(path.join(dir, 'ca.pem.new'), 'PEM-C');
      renameSync(path.join(dir, 'ca.pem.new'), file);
      await eventually('the replaced file', () => seen.length === 2);
      assert.deepEqual(seen, ['PEM-B', 'PEM-C']);
      assert.equal(watcher.current(), 'PEM-C');
    } finally {
      watcher.stop();
    }
  });

  test("the handler's namespace: POD_NAMESPACE, else the service-account file, else kubevirt", () => {
    assert.equal(handlerNamespace({ POD_NAMESPACE: 'kv-system' }, '/nonexistent'), 'kv-system');
    const dir = mkdtempSync(path.join(tmpdir(), 'kvts-ns-'));
    try {
      writeFileSync(path.join(dir, 'namespace'), 'from-file\n');
      assert.equal(handlerNamespace({}, path.join(dir, 'namespace')), 'from-file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(handlerNamespace({}, '/nonexistent'), 'kubevirt');
  });
});
