// The control plane as KubeVirt's node daemons will meet it, through the unmodified
// @kubernetes/client-node: VMIs without a status subresource, label-selected lists and watches, an
// informer that relists after 410, optimistic concurrency, patches, deletion, events and RBAC for a
// service account. With KUBECONFIG set, the same tests run against that cluster.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  VersionApi,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { applyCRDs, deleteCRDs, readCRD } from './crds.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const NODE_LABEL = 'kubevirt.io/nodeName';

/** A custom resource as raw JSON (a VMI, or the informer test's own kind). */
interface CustomObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    finalizers?: string[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
type VirtualMachineInstance = CustomObject & { spec: Record<string, unknown> };

/** A VMI as virt-controller hands it to virt-handler: scheduled to a node, with a nested spec. */
function vmi(name: string, node = 'node01', status?: Record<string, unknown>): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, labels: { [NODE_LABEL]: node, 'kubevirt.io/size': 'small' } },
    spec: {
      domain: {
        cpu: { cores: 1, model: 'host-model' },
        memory: { guest: '128Mi' },
        resources: { requests: { memory: '128Mi' } },
        devices: {
          disks: [{ name: 'containerdisk', disk: { bus: 'virtio' }, bootOrder: 1 }],
          interfaces: [{ name: 'default', masquerade: {}, macAddress: '52:54:00:12:34:56' }],
          rng: {},
        },
        features: { acpi: { enabled: true } },
        firmware: { uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223' },
      },
      networks: [{ name: 'default', pod: {} }],
      volumes: [{ name: 'containerdisk', containerDisk: { image: 'registry:5000/kubevirt/cirros-container-disk-demo' } }],
      terminationGracePeriodSeconds: 30,
    },
    ...(status ? { status } : {}),
  };
}

let cp: ControlPlane;
let admin: KubeConfig;
let objects: CustomObjectsApi;
let core: CoreV1Api;
let ns: string;

before(async () => {
  const started = Date.now();
  cp = await startControlPlane();
  admin = cp.kubeConfig();
  objects = admin.makeApiClient(CustomObjectsApi);
  core = admin.makeApiClient(CoreV1Api);
  ns = await cp.createNamespace();
  console.log(`# control plane ${cp.url} (${cp.owned ? 'started' : 'from KUBECONFIG'}) ready in ${Date.now() - started} ms`);
});

after(() => cp?.stop());

const createVMI = async (body: VirtualMachineInstance, namespace = ns) =>
  (await objects.createNamespacedCustomObject({ ...VMI, namespace, body })) as VirtualMachineInstance;
const getVMI = async (name: string, namespace = ns) =>
  (await objects.getNamespacedCustomObject({ ...VMI, namespace, name })) as VirtualMachineInstance;
const replaceVMI = async (body: VirtualMachineInstance, namespace = ns) =>
  (await objects.replaceNamespacedCustomObject({ ...VMI, namespace, name: body.metadata.name, body })) as VirtualMachineInstance;
const listVMIs = async (opts: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {}) =>
  (await objects.listNamespacedCustomObject({ ...VMI, namespace: ns, ...opts })) as KubernetesListObject<VirtualMachineInstance>;
const names = (list: { items: VirtualMachineInstance[] }) => list.items.map((v) => v.metadata.name).sort();

/** Awaits a rejected API call and returns its HTTP status. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  assert.fail('the call succeeded');
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test("the test bed's kube-apiserver is Debian's v1.20.2 build (a KUBECONFIG cluster: whatever it reports)", async () => {
  const info = await admin.makeApiClient(VersionApi).getCode();
  assert.match(info.gitVersion, cp.owned ? /^v1\.20\.2(\D|$)/ : /^v\d+\.\d+\.\d+/, JSON.stringify(info));
});

test("the stored VMI CRD is KubeVirt's: open schema kept, no status subresource, v1 storage, v1alpha3 deprecated", async () => {
  const crd = await readCRD(admin, 'virtualmachineinstances.kubevirt.io');
  assert.equal(crd.spec.group, 'kubevirt.io');
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual(crd.spec.names, {
    plural: 'virtualmachineinstances',
    singular: 'virtualmachineinstance',
    kind: 'VirtualMachineInstance',
    listKind: 'VirtualMachineInstanceList',
    shortNames: ['vmi', 'vmis'],
    categories: ['all'],
  });
  const versions = crd.spec.versions as {
    name: string;
    served: boolean;
    storage: boolean;
    deprecated?: boolean;
    schema: { openAPIV3Schema: Record<string, unknown> };
    subresources?: unknown;
    additionalPrinterColumns: { name: string; jsonPath: string }[];
  }[];
  assert.deepEqual(
    versions.map((v) => [v.name, v.served, v.storage, v.deprecated ?? false]),
    [
      ['v1', true, true, false],
      ['v1alpha3', true, false, true],
    ],
  );
  for (const v of versions) {
    assert.deepEqual(v.schema.openAPIV3Schema, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    assert.equal(v.subresources, undefined, `${v.name} has no subresources`);
    assert.deepEqual(
      v.additionalPrinterColumns.map((c) => c.name),
      ['Age', 'Phase', 'IP', 'NodeName', 'Ready', 'Live-Migratable', 'Paused'],
    );
  }
  const kv = await readCRD(admin, 'kubevirts.kubevirt.io');
  assert.deepEqual(kv.spec.names, {
    plural: 'kubevirts',
    singular: 'kubevirt',
    kind: 'KubeVirt',
    listKind: 'KubeVirtList',
    shortNames: ['kv', 'kvs'],
    categories: ['all'],
  });
});

test("a VMI's spec and status survive a round trip; a full replace writes status; a stale replace gets 409", async () => {
  const status = {
    phase: 'Scheduled',
    nodeName: 'node01',
    conditions: [{ type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: null }],
    guestOSInfo: {},
  };
  const sent = vmi('roundtrip', 'node01', status);
  const created = await createVMI(sent);
  assert.deepEqual(created.spec, sent.spec);
  const read = await getVMI('roundtrip');
  assert.deepEqual(read.spec, sent.spec);
  assert.deepEqual(read.status, status, 'without a status subresource, status is written on create');

  // virt-handler's way: the whole object with a changed status, guarded by its resourceVersion.
  const running = structuredClone(read);
  running.status = {
    ...status,
    phase: 'Running',
    interfaces: [{ name: 'default', ipAddress: '10.244.0.12', mac: '52:54:00:12:34:56' }],
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-01-01T00:00:00Z' }],
  };
  const updated = await replaceVMI(running);
  assert.notEqual(updated.metadata.resourceVersion, read.metadata.resourceVersion);
  assert.deepEqual((await getVMI('roundtrip')).status, running.status);

  const stale = structuredClone(read);
  stale.status = { ...status, phase: 'Failed' };
  assert.equal(await statusOf(replaceVMI(stale)), 409);
  assert.equal((await getVMI('roundtrip')).status?.phase, 'Running');
});

test('lists select by label (equality, set, absence); field selectors on VMIs know only name and namespace', async () => {
  const lns = await cp.createNamespace('kvts-list');
  await createVMI(vmi('on-node01-a', 'node01'), lns);
  await createVMI(vmi('on-node01-b', 'node01'), lns);
  await createVMI(vmi('on-node02', 'node02'), lns);
  const unlabelled = vmi('unscheduled');
  delete unlabelled.metadata.labels?.[NODE_LABEL];
  await createVMI(unlabelled, lns);

  assert.deepEqual(names(await listVMIs({ namespace: lns, labelSelector: `${NODE_LABEL}=node01` })), ['on-node01-a', 'on-node01-b']);
  assert.deepEqual(names(await listVMIs({ namespace: lns, labelSelector: `${NODE_LABEL} in (node02,node03)` })), ['on-node02']);
  assert.deepEqual(names(await listVMIs({ namespace: lns, labelSelector: `!${NODE_LABEL}` })), ['unscheduled']);
  assert.deepEqual(names(await listVMIs({ namespace: lns, labelSelector: `${NODE_LABEL}!=node01,kubevirt.io/size=small` })), [
    'on-node02',
    'unscheduled',
  ]);
  assert.deepEqual(names(await listVMIs({ namespace: lns, fieldSelector: 'metadata.name=on-node02' })), ['on-node02']);
  assert.equal(await statusOf(listVMIs({ namespace: lns, fieldSelector: 'status.nodeName=node01' })), 400);
});

/** A watch through client-node's Watch, collecting its events until it ends or is aborted. */
async function watch(
  path: string,
  params: Record<string, string | number | boolean>,
): Promise<{ events: { type: string; object: unknown; name: string }[]; done: Promise<unknown>; abort: () => void }> {
  const events: { type: string; object: unknown; name: string }[] = [];
  let finish!: (err: unknown) => void;
  const done = new Promise((resolve) => (finish = resolve));
  const controller = await new Watch(admin).watch(
    path,
    params,
    (type, object: Partial<CustomObject>) => events.push({ type, object, name: object.metadata?.name ?? '' }),
    finish,
  );
  return { events, done, abort: () => controller.abort() };
}

test('a watch from a resourceVersion delivers ADDED, MODIFIED, DELETED and BOOKMARK; relabelled off the node is DELETED', async () => {
  const wns = await cp.createNamespace('kvts-watch');
  const first = await createVMI(vmi('before-watch'), wns);
  const from = first.metadata.resourceVersion ?? '';
  await createVMI(vmi('stays'), wns);

  // timeoutSeconds: the apiserver sends its bookmark 2 s before a watch's deadline.
  const w = await watch(`/apis/kubevirt.io/v1/namespaces/${wns}/virtualmachineinstances`, {
    resourceVersion: from,
    allowWatchBookmarks: true,
    labelSelector: `${NODE_LABEL}=node01`,
    timeoutSeconds: 5,
  });
  try {
    const stays = await getVMI('stays', wns);
    await replaceVMI({ ...stays, status: { phase: 'Running', nodeName: 'node01' } }, wns);
    await objects.deleteNamespacedCustomObject({ ...VMI, namespace: wns, name: 'before-watch' });
    const moved = await getVMI('stays', wns);
    await replaceVMI({ ...moved, metadata: { ...moved.metadata, labels: { ...moved.metadata.labels, [NODE_LABEL]: 'node02' } } }, wns);

    await eventually('a bookmark', () => w.events.find((e) => e.type === 'BOOKMARK'));
    const objectEvents = w.events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.name}`);
    // 'before-watch' was created at `from` itself: a watch starts after the given version.
    assert.deepEqual(objectEvents, ['ADDED stays', 'MODIFIED stays', 'DELETED before-watch', 'DELETED stays']);
  } finally {
    w.abort();
  }
});

/** A CRD of the informer test's own: changing its spec must not touch KubeVirt's. */
const RELIST_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'relists.test.kubevirt-ts.io' },
  spec: {
    group: 'test.kubevirt-ts.io',
    scope: 'Namespaced',
    names: { plural: 'relists', singular: 'relist', kind: 'Relist' },
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
const RELIST = { group: 'test.kubevirt-ts.io', version: 'v1', plural: 'relists' } as const;

test('an informer (makeInformer) relists after its watch gets 410 Gone, and its cache converges', async (t) => {
  // Compacting etcd would not expire a watch's resourceVersion: kube-apiserver serves watches from its
  // watch cache, which keeps its own history. Changing a CRD's spec restarts that cache for the CRD's
  // resources, and a watch from any earlier resourceVersion then gets 410, on this cluster or any other.
  await applyCRDs(admin, [RELIST_CRD]);
  t.after(() => deleteCRDs(admin, [RELIST_CRD.metadata.name]));
  const ins = await cp.createNamespace('kvts-informer');
  const path = `/apis/${RELIST.group}/${RELIST.version}/namespaces/${ins}/${RELIST.plural}`;
  const create = (name: string, spec: Record<string, unknown> = {}) =>
    objects.createNamespacedCustomObject({
      ...RELIST,
      namespace: ins,
      body: { apiVersion: 'test.kubevirt-ts.io/v1', kind: 'Relist', metadata: { name }, spec },
    });
  await create('kept', { generation: 1 });
  await create('deleted-while-away');

  let lists = 0;
  const informer = makeInformer<CustomObject>(admin, path, async () => {
    lists++;
    return (await objects.listNamespacedCustomObject({ ...RELIST, namespace: ins })) as KubernetesListObject<CustomObject>;
  });
  const deleted: string[] = [];
  informer.on('delete', (o) => deleted.push(o.metadata.name));
  await informer.start();
  try {
    await eventually('the initial list', () => (informer.list(ins).length === 2 ? true : undefined));
    await create('seen-by-watch');
    await eventually('the watch', () => informer.get('seen-by-watch', ins));
    assert.equal(lists, 1);

    // Away from the watch while the objects change, and meanwhile the watch cache restarts.
    await informer.stop();
    // The informer resumes from the last version its watch delivered.
    const lastSeen = informer.get('seen-by-watch', ins)?.metadata.resourceVersion ?? '';
    await objects.deleteNamespacedCustomObject({ ...RELIST, namespace: ins, name: 'deleted-while-away' });
    await create('created-while-away');
    await objects.patchNamespacedCustomObject(
      { ...RELIST, namespace: ins, name: 'kept', body: { spec: { generation: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await objects.patchClusterCustomObject({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      plural: 'customresourcedefinitions',
      name: RELIST_CRD.metadata.name,
      body: [
        {
          op: 'add',
          path: '/spec/versions/0/additionalPrinterColumns',
          value: [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
        },
      ],
    });
    // What the informer's watch will meet, once the apiserver has taken in the CRD change: ERROR 410.
    const gone = await eventually('410 Gone for the old resourceVersion', async () => {
      const w = await watch(path, { resourceVersion: lastSeen, timeoutSeconds: 1 });
      await w.done;
      const first = w.events[0];
      return first?.type === 'ERROR' ? first : undefined;
    });
    assert.equal((gone.object as { code?: number }).code, 410);

    await informer.start();
    await eventually('the relist', () => (lists === 2 ? true : undefined));
    await eventually('the converged cache', () =>
      informer.get('created-while-away', ins) && !informer.get('deleted-while-away', ins) ? true : undefined,
    );
    assert.deepEqual(informer.get('kept', ins)?.spec, { generation: 2 });
    assert.deepEqual(deleted, ['deleted-while-away'], 'the relist reports what vanished meanwhile');
  } finally {
    await informer.stop();
  }
});

test('merge patch and JSON patch: a failed JSON-patch test is 422; delete waits for finalizers', async () => {
  await createVMI(vmi('patched'));
  const merged = (await objects.patchNamespacedCustomObject(
    {
      ...VMI,
      namespace: ns,
      name: 'patched',
      body: { metadata: { labels: { 'kubevirt.io/migrationTargetNodeName': 'node02' } }, status: { phase: 'Running' } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as VirtualMachineInstance;
  assert.equal(merged.metadata.labels?.['kubevirt.io/migrationTargetNodeName'], 'node02');
  assert.equal(merged.metadata.labels?.[NODE_LABEL], 'node01', 'a merge patch keeps the other labels');
  assert.equal(merged.status?.phase, 'Running');

  // KubeVirt guards its JSON patches with a test of what it last saw.
  const jsonPatch = (ops: unknown[]) =>
    objects.patchNamespacedCustomObject(
      { ...VMI, namespace: ns, name: 'patched', body: ops },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  await jsonPatch([
    { op: 'test', path: '/status/phase', value: 'Running' },
    { op: 'replace', path: '/status/phase', value: 'Succeeded' },
  ]);
  assert.equal((await getVMI('patched')).status?.phase, 'Succeeded');
  assert.equal(
    await statusOf(
      jsonPatch([
        { op: 'test', path: '/status/phase', value: 'Running' },
        { op: 'remove', path: '/spec' },
      ]),
    ),
    422,
  );

  await objects.patchNamespacedCustomObject(
    { ...VMI, namespace: ns, name: 'patched', body: { metadata: { finalizers: ['kubevirt.io/virtualMachineControllerFinalize'] } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await objects.deleteNamespacedCustomObject({ ...VMI, namespace: ns, name: 'patched' });
  // (raw JSON: a timestamp is a string here, where client-node's KubernetesObject types say Date)
  const deleting = (await getVMI('patched')) as VirtualMachineInstance & { metadata: { deletionTimestamp?: string } };
  assert.ok(deleting.metadata.deletionTimestamp, 'a finalizer holds the VMI with a deletionTimestamp');
  await objects.patchNamespacedCustomObject(
    { ...VMI, namespace: ns, name: 'patched', body: { metadata: { finalizers: null } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  assert.equal(await statusOf(getVMI('patched')), 404);
});

test('a core/v1 Event about a VMI is recorded and found by its involvedObject', async () => {
  const target = await createVMI(vmi('with-events'));
  const now = new Date();
  await core.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { generateName: 'with-events.' },
      involvedObject: {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachineInstance',
        name: 'with-events',
        namespace: ns,
        uid: target.metadata.uid,
        resourceVersion: target.metadata.resourceVersion,
      },
      reason: 'Started',
      message: 'VirtualMachineInstance started.',
      type: 'Normal',
      source: { component: 'virt-handler', host: 'node01' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
  const events = await core.listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.kind=VirtualMachineInstance,involvedObject.name=with-events`,
  });
  assert.deepEqual(
    events.items.map((e) => [e.reason, e.type, e.source?.component, e.involvedObject.uid]),
    [['Started', 'Normal', 'virt-handler', target.metadata.uid]],
  );
});

test('a service-account token from TokenRequest is held to its Role: allowed reads, 403 elsewhere', async () => {
  const rns = await cp.createNamespace('kvts-rbac');
  const other = await cp.createNamespace('kvts-rbac-other');
  await createVMI(vmi('visible'), rns);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: rns,
    body: {
      metadata: { name: 'vmi-reader' },
      rules: [{ apiGroups: ['kubevirt.io'], resources: ['virtualmachineinstances'], verbs: ['get', 'list', 'watch'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: rns,
    body: {
      metadata: { name: 'vmi-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vmi-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'restricted', namespace: rns }],
    },
  });
  const token = await cp.tokenFor({ namespace: rns, name: 'restricted' });
  const asSA = cp.kubeConfig(token).makeApiClient(CustomObjectsApi);

  // The RBAC authorizer learns of a new binding through its informer: a moment's delay.
  const visible = await eventually('the binding to take effect', async () => {
    try {
      return (await asSA.getNamespacedCustomObject({ ...VMI, namespace: rns, name: 'visible' })) as VirtualMachineInstance;
    } catch (err) {
      if (err instanceof ApiException && err.code === 403) return undefined;
      throw err;
    }
  });
  assert.equal(visible.metadata.name, 'visible');
  assert.equal(
    names((await asSA.listNamespacedCustomObject({ ...VMI, namespace: rns })) as KubernetesListObject<VirtualMachineInstance>).length,
    1,
  );
  assert.equal(await statusOf(asSA.deleteNamespacedCustomObject({ ...VMI, namespace: rns, name: 'visible' })), 403);
  assert.equal(await statusOf(asSA.createNamespacedCustomObject({ ...VMI, namespace: rns, body: vmi('forbidden') })), 403);
  assert.equal(await statusOf(asSA.listNamespacedCustomObject({ ...VMI, namespace: other })), 403);
  const coreAsSA = cp.kubeConfig(token).makeApiClient(CoreV1Api);
  assert.equal(await statusOf(coreAsSA.listNamespacedPod({ namespace: rns })), 403);
  const mint = coreAsSA.createNamespacedServiceAccountToken({ namespace: rns, name: 'restricted', body: { spec: { audiences: [] } } });
  assert.equal(await statusOf(mint), 403, 'nor may it mint tokens');
  assert.equal(await statusOf(cp.kubeConfig('not-a-token').makeApiClient(CoreV1Api).listNamespacedPod({ namespace: rns })), 401);
});

test('a virt-launcher pod can be created in a test namespace: its default service account exists', async () => {
  const owner = await createVMI(vmi('launched'));
  const pod = await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: {
        generateName: 'virt-launcher-launched-',
        labels: { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': owner.metadata.uid ?? '' },
      },
      spec: { nodeName: 'node01', containers: [{ name: 'compute', image: 'registry:5000/kubevirt/virt-launcher' }] },
    },
  });
  assert.equal(pod.spec?.serviceAccountName, 'default');
  const listed = await core.listNamespacedPod({ namespace: ns, labelSelector: `kubevirt.io/created-by=${owner.metadata.uid}` });
  assert.deepEqual(
    listed.items.map((p) => p.metadata?.name),
    [pod.metadata?.name],
  );
});
