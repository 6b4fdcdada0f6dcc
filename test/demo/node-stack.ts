// `pnpm demo` on a real node (test/node/): kubelet + containerd run deploy/virt-handler.yaml's DaemonSet
// from our handler image, the virt-controller stand-in makes the example VMI's launcher pod from our
// launcher image, and the VM boots in it — what a KubeVirt user sees with `kubectl get pods,vmi`.
// Teardown is KubeVirt's order: the VMI deleted (its pod goes), the DaemonSet deleted (its pod goes),
// then the node stopped (the host left as it was).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type V1Pod } from '@kubernetes/client-node';
import { makeHandlerPki, type HandlerPki } from '../bed/handler-pki.ts';
import { poll } from '../bed/poll.ts';
import { startRealNode, waitNodeReady, type RealNode } from '../node/real-node.ts';
import { deployObjects, handlerCertObjects, handlerDaemonSet } from '../node/manifests.ts';
import { exampleVMI } from '../node/example-vmi.ts';
import { CREATED_BY_LABEL, startVirtControllerStandIn } from '../node/virt-controller.ts';
import type { Cleanups, DemoStack, DemoStackOptions, VMIObject } from './demo.ts';
import { createKubeVirtCR } from '../bed/kubevirt-cr.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
/** Where the example VMI goes: the namespace a KubeVirt user's `kubectl create -f vmi.yaml` would use. */
const NAMESPACE = 'default';
const KUBEVIRT_NAMESPACE = 'kubevirt';
const HANDLER_SELECTOR = 'kubevirt.io=virt-handler';
/** virt-handler's console server port (virt-handler's --console-server-port default) */
const HANDLER_PORT = 8186;

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The node's pod logs' tails, for failure messages. */
export function podLogs(): string {
  try {
    return execFileSync('sh', ['-c', 'for f in /var/log/pods/*/*/*.log; do echo "== $f"; tail -n 20 "$f"; done'], { encoding: 'utf8' });
  } catch (err) {
    return String(err);
  }
}

/** Starts the real node, the handler DaemonSet and the example VMI up to its guest agent; `cleanups` tears it all down. */
export async function startNodeDemoStack(o: DemoStackOptions, cleanups: Cleanups): Promise<DemoStack> {
  const stage = o.stage ?? (() => undefined);
  // deferred before it is up: a Ctrl-C while the node starts waits for it, then stops it
  const starting = startRealNode();
  cleanups.defer(async () => {
    await (await starting.catch(() => undefined))?.stop();
    stage('node stopped: no container, pod, netns, mount or cgroup of it left');
  });
  const node = await starting;
  await waitNodeReady(node);
  // scripts/build-images rebuilds what its content-keyed cache lacks: say how much of the wait that was
  const builds = ((node.timings.get('binaries and images (cached builds)') ?? 0) / 1000).toFixed(1);
  stage(`node ${node.nodeName} Ready: kubelet 1.20 + containerd, our images imported (builds checked in ${builds} s)`);

  const kc = node.kc;
  const core = kc.makeApiClient(CoreV1Api);
  const api = kc.makeApiClient(CustomObjectsApi);

  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  cleanups.defer(async () => rmSync(o.dir, { recursive: true, force: true }));
  const pkiDir = path.join(o.dir, 'pki');
  const { pki, handlerIP } = await deployHandler(node, pkiDir, cleanups, stage);

  // virt-controller's part, played by the stand-in: the launcher pod, Scheduled, the finalizer
  const controller = startVirtControllerStandIn(kc, NAMESPACE);
  cleanups.defer(() => controller.stop());
  const created = (await api.createNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, body: exampleVMI(o.name, NAMESPACE) })) as {
    metadata: { uid: string };
  };
  const launcherSelector = `${CREATED_BY_LABEL}=${created.metadata.uid}`;
  const launcherPods = async () => (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: launcherSelector })).items;
  cleanups.defer(async () => {
    await api.deleteNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name: o.name });
    await poll(
      'the VMI and its launcher pod gone',
      async () => {
        if ((await launcherPods()).length > 0) return undefined;
        const vmis = (await api.listNamespacedCustomObject({ ...VMI, namespace: NAMESPACE })) as { items: unknown[] };
        return vmis.items.length === 0 ? true : undefined;
      },
      120_000,
    );
    stage(`VMI ${NAMESPACE}/${o.name} deleted, its launcher pod gone`);
  });
  const diagnostics = () => `${podLogs()}\nvirt-controller stand-in: ${controller.errors.join('\n')}`;
  const getVMI = async () => (await api.getNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name: o.name })) as VMIObject;
  const pod = await poll('the launcher pod created', async () => (await launcherPods())[0], 60_000, diagnostics);
  stage(`VMI ${NAMESPACE}/${o.name} created; launcher pod ${pod.metadata?.name}`);
  const running = await poll(
    'the launcher pod Running',
    async () => (await launcherPods()).find((p) => p.status?.phase === 'Running'),
    300_000,
    diagnostics,
  );
  stage(`pod ${running.metadata?.name} Running on ${running.spec?.nodeName}: kubelet started our virt-launcher image`);
  await poll('the VMI Running', async () => ((await getVMI()).status?.phase === 'Running' ? true : undefined), 300_000, diagnostics);
  stage(`VMI ${NAMESPACE}/${o.name} is Running`);
  const agent = await poll('the guest agent', async () => (await getVMI()).status?.guestOSInfo?.prettyName, 300_000, diagnostics);
  stage(`guest agent connected: ${agent}`);
  await poll(
    'the VMI Ready (its launcher pod Ready)',
    async () => ((await getVMI()).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined),
    120_000,
    diagnostics,
  );
  stage(`VMI ${NAMESPACE}/${o.name} Ready: its launcher pod Ready`);

  return {
    kubeConfig: kc,
    namespace: NAMESPACE,
    name: o.name,
    handlerURL: `https://${handlerIP}:${HANDLER_PORT}`,
    clientTLS: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    pkiDir,
    getVMI,
  };
}

export interface DeployedHandler {
  pki: HandlerPki;
  /** the virt-handler pod, Ready */
  pod: V1Pod;
  handlerIP: string;
}

/**
 * deploy/ as virt-operator would install it on the node (namespace, RBAC, the handler's certificates in
 * `pkiDir`, the KubeVirt CR with useEmulation, the DaemonSet), up to a Ready handler pod whose heartbeat
 * made the node schedulable; `cleanups` deletes the DaemonSet and waits for its pod to go.
 */
export async function deployHandler(
  node: RealNode,
  pkiDir: string,
  cleanups: Cleanups,
  stage: (text: string) => void,
): Promise<DeployedHandler> {
  const kc = node.kc;
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const pki = await makeHandlerPki(pkiDir);
  // deploy/ as virt-operator would install it: namespace, RBAC, the handler's certificates, the DaemonSet
  for (const obj of [...deployObjects('namespace.yaml'), ...deployObjects('virt-handler-rbac.yaml'), ...handlerCertObjects(pki)]) {
    await objects.create(obj);
  }
  // the KubeVirt CR virt-operator works from: useEmulation, as the guest runs under TCG
  await createKubeVirtCR(kc, KUBEVIRT_NAMESPACE, {});
  await apps.createNamespacedDaemonSet({
    namespace: KUBEVIRT_NAMESPACE,
    body: handlerDaemonSet({ host: node.apiserverHost, port: node.apiserverPort }),
  });
  cleanups.defer(async () => {
    await apps.deleteNamespacedDaemonSet({ namespace: KUBEVIRT_NAMESPACE, name: 'virt-handler' });
    await poll(
      'the virt-handler pod gone',
      async () =>
        (await core.listNamespacedPod({ namespace: KUBEVIRT_NAMESPACE, labelSelector: HANDLER_SELECTOR })).items.length === 0
          ? true
          : undefined,
      60_000,
    );
    stage('virt-handler DaemonSet deleted, its pod gone');
  });
  const handlerPod = await poll(
    'a Ready virt-handler pod',
    async () => (await core.listNamespacedPod({ namespace: KUBEVIRT_NAMESPACE, labelSelector: HANDLER_SELECTOR })).items.find(isReady),
    300_000,
    podLogs,
  );
  const handlerIP = handlerPod.status?.podIP;
  if (!handlerIP) throw new Error(`virt-handler pod ${handlerPod.metadata?.name} has no IP`);
  stage(`virt-handler DaemonSet pod ${KUBEVIRT_NAMESPACE}/${handlerPod.metadata?.name} Ready at ${handlerIP}`);
  await poll(
    'the node labelled kubevirt.io/schedulable=true by the handler',
    async () =>
      (await core.readNode({ name: node.nodeName })).metadata?.labels?.['kubevirt.io/schedulable'] === 'true' ? true : undefined,
    120_000,
    podLogs,
  );
  stage(`node ${node.nodeName} kubevirt.io/schedulable=true (the handler's heartbeat)`);

  return { pki, pod: handlerPod, handlerIP };
}
