// Our images run by a real Kubernetes node: kubelet + containerd + runc (test/node/real-node.ts) take
// deploy/virt-handler.yaml's DaemonSet and a launcher pod from deploy/example-vmi-pod.yaml as KubeVirt's
// would, and a VMI goes Running on the node and away again. Holds the machine's one kubelet:
//   flock /tmp/kvts-heavy.lock node --test test/node/real-node.test.ts      (or pnpm test:node)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { poll } from '../bed/poll.ts';
import { makeHandlerPki, type HandlerPki } from '../bed/handler-pki.ts';
import { handlerRequest } from '../bed/handler.ts';
import { rssMiB, startRealNode, waitNodeReady, type RealNode } from './real-node.ts';
import { BRIDGE, CGROUP_ROOT, KUBELET_ROOT, NODE_BASE, NODE_IP, mountsUnder } from './host.ts';
import { deployObjects, handlerCertObjects, handlerDaemonSet } from './manifests.ts';
import { exampleVMI } from './example-vmi.ts';
import { CREATED_BY_LABEL, startVirtControllerStandIn, VMI_FINALIZER, type VirtControllerStandIn } from './virt-controller.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const NAMESPACE = 'default';

let node: RealNode;
let core: CoreV1Api;
let controller: VirtControllerStandIn | undefined;
let pkiDir: string;
let pki: HandlerPki;
const figures: Record<string, string> = {};
const ipForwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
const iptablesBefore = iptablesRules();

function iptablesRules(): string {
  try {
    // the rules alone: counters and the generated-at comment change by themselves
    return execFileSync('iptables-save', { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('-'))
      .join('\n');
  } catch {
    return 'iptables-save unavailable';
  }
}

const logs =
  (name: string, lines = 40) =>
  () =>
    node.daemons.get(name)?.logTail(lines) ?? '';

before(async () => {
  const t0 = Date.now();
  node = await startRealNode();
  figures['node started (control plane, containerd, images imported, kubelet healthy)'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  await waitNodeReady(node);
  figures['nothing → node Ready'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  for (const [what, ms] of node.timings) figures[`start: ${what}`] = `${(ms / 1000).toFixed(1)} s`;
  core = node.kc.makeApiClient(CoreV1Api);
  pkiDir = mkdtempSync(path.join(tmpdir(), 'kvts-real-node-pki-'));
});

after(async () => {
  await controller?.stop();
  await node?.stop();
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  for (const [what, figure] of Object.entries(figures)) console.log(`# ${what}: ${figure}`);
});

test('the node registers and goes Ready with kubelet 1.20 on containerd, at the bridge address', async () => {
  const n = await core.readNode({ name: node.nodeName });
  assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.deepEqual(
    n.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address),
    [NODE_IP],
  );
  assert.equal(n.status?.nodeInfo?.kubeletVersion, 'v1.20.2');
  assert.match(n.status?.nodeInfo?.containerRuntimeVersion ?? '', /^containerd:\/\//);
  // Pods are put under the node's own cgroup root, never the host's.
  assert.ok(existsSync(path.join('/sys/fs/cgroup/memory', CGROUP_ROOT, 'kubepods')), 'kubelet made kubepods under its cgroup root');
});

test('an image pull never leaves the machine: every registry resolves to an unserved loopback port', async () => {
  const name = 'pull-attempt';
  await core.createNamespacedPod({
    namespace: NAMESPACE,
    body: {
      metadata: { name },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'docker.io/library/busybox:1.36', imagePullPolicy: 'Always' }],
      },
    },
  });
  const waiting = await poll(
    'the pull refused',
    async () => {
      const pod = await core.readNamespacedPod({ namespace: NAMESPACE, name });
      const w = pod.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ErrImagePull' || w?.reason === 'ImagePullBackOff' ? w : undefined;
    },
    120_000,
    logs('containerd'),
  );
  // ImagePullBackOff carries the last ErrImagePull's message in kubelet 1.20 only the first time: read both.
  const events = await core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: `involvedObject.name=${name}` });
  const messages = [waiting.message ?? '', ...events.items.map((e) => e.message ?? '')].join('\n');
  assert.match(messages, /127\.0\.0\.1:1\b/, `the pull went to the unserved loopback port:\n${messages}`);
  await core.deleteNamespacedPod({ namespace: NAMESPACE, name, gracePeriodSeconds: 0 });
});

test("deploy/virt-handler.yaml's DaemonSet runs our handler image and goes Ready", async () => {
  const objects = KubernetesObjectApi.makeApiClient(node.kc);
  pki = await makeHandlerPki(pkiDir);
  const create = async (o: KubernetesObject) => {
    await objects.create(o);
  };
  for (const o of deployObjects('namespace.yaml')) await create(o);
  for (const o of deployObjects('virt-handler-rbac.yaml')) await create(o);
  for (const o of handlerCertObjects(pki)) await create(o);
  const t0 = Date.now();
  const apps = node.kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDaemonSet({
    namespace: 'kubevirt',
    body: handlerDaemonSet({ host: node.apiserverHost, port: node.apiserverPort }),
  });
  const pod = await poll(
    'a Ready virt-handler pod on the node',
    async () => {
      const ds = await apps.readNamespacedDaemonSet({ namespace: 'kubevirt', name: 'virt-handler' });
      if ((ds.status?.numberReady ?? 0) < 1) return undefined;
      const pods = await core.listNamespacedPod({ namespace: 'kubevirt', labelSelector: 'kubevirt.io=virt-handler' });
      return pods.items.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    },
    300_000,
    () => `${logs('kubelet')()}\n${handlerPodState()}`,
  );
  figures['handler DaemonSet created → Ready (15 s of it the readiness delay)'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  assert.equal(pod.spec?.nodeName, node.nodeName);
  const status = pod.status?.containerStatuses?.find((c) => c.name === 'virt-handler');
  assert.equal(status?.image, 'docker.io/kubevirt-ts/virt-handler:latest');
  assert.equal(status?.restartCount, 0, 'the handler did not crash-loop');
  // The handler's heartbeat marks the node schedulable for launcher pods (their nodeSelector).
  await poll(
    'the node labelled kubevirt.io/schedulable=true by the handler',
    async () =>
      (await core.readNode({ name: node.nodeName })).metadata?.labels?.['kubevirt.io/schedulable'] === 'true' ? true : undefined,
    120_000,
  );
});

test('a VMI boots from the containerDisk and kernel-boot images the handler mounted; its deletion unmounts them and takes the pod away', async () => {
  const api = node.kc.makeApiClient(CustomObjectsApi);
  controller = startVirtControllerStandIn(node.kc, NAMESPACE);
  const name = 'real-node-vmi';
  const t0 = Date.now();
  const created = (await api.createNamespacedCustomObject({
    ...VMI,
    namespace: NAMESPACE,
    body: exampleVMI(name, NAMESPACE),
  })) as { metadata: { uid: string } };
  const uid = created.metadata.uid;
  const handlerLogs = () => `${handlerPodState()}\nstand-in errors: ${controller?.errors.join('\n')}`;
  const running = await poll(
    'the VMI Running',
    async () => {
      const vmi = (await api.getNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name })) as {
        metadata: { finalizers?: string[] };
        status?: { phase?: string; nodeName?: string; activePods?: Record<string, string> };
      };
      return vmi.status?.phase === 'Running' ? vmi : undefined;
    },
    300_000,
    handlerLogs,
  );
  figures['VMI created → Running (launcher pod scheduled, started, domain up)'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  assert.equal(running.status?.nodeName, node.nodeName);
  assert.ok(running.metadata.finalizers?.includes(VMI_FINALIZER));
  const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${CREATED_BY_LABEL}=${uid}` });
  assert.equal(pods.items.length, 1);
  const pod = pods.items[0]!;
  assert.deepEqual(Object.keys(running.status?.activePods ?? {}), [pod.metadata?.uid]);
  assert.equal(pod.status?.containerStatuses?.find((c) => c.name === 'compute')?.image, 'docker.io/kubevirt-ts/virt-launcher:latest');

  // The guest booted the mounted kernel (its agent answers) and found the mounted disk (/mnt/data).
  await poll(
    'the guest agent up (guestOSInfo)',
    async () => {
      const vmi = (await api.getNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name })) as {
        status?: { guestOSInfo?: { id?: string } };
      };
      return vmi.status?.guestOSInfo?.id ? true : undefined;
    },
    300_000,
    handlerLogs,
  );
  figures['VMI created → guest agent connected (TCG boot)'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const handlerPod = (await core.listNamespacedPod({ namespace: 'kubevirt', labelSelector: 'kubevirt.io=virt-handler' })).items[0];
  const handlerIP = handlerPod?.status?.podIP;
  assert.ok(handlerIP, 'the handler pod has an IP');
  const filesystems = await poll(
    "the guest's filesystems through the handler pod's REST API",
    async () => {
      const r = await handlerRequest(
        8186,
        { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
        'GET',
        `/v1/namespaces/${NAMESPACE}/virtualmachineinstances/${name}/filesystemlist`,
        handlerIP,
      );
      return r.status === 200 && r.body.includes('/mnt/data') ? r.body : undefined;
    },
    120_000,
    handlerLogs,
  );
  const fs = (JSON.parse(filesystems) as { items: { mountPoint: string; diskName: string }[] }).items;
  assert.equal(fs.find((f) => f.mountPoint === '/mnt/data')?.diskName, 'vda', "the containerDisk is the guest's vda, mounted at /mnt/data");
  const mounted = mountsUnder(path.join(KUBELET_ROOT, 'pods', pod.metadata!.uid!)).filter((m) => m.includes('/container-disks/'));
  assert.deepEqual(
    mounted.map((m) => m.split('/container-disks/')[1]).sort(),
    ['disk_0.img', 'kernel-boot/initrd.img', 'kernel-boot/vmlinux'],
    'the images bind-mounted into the launcher pod',
  );

  for (const [what, d] of node.daemons) figures[`RSS ${what} (a handler pod and a VM running)`] = `${rssMiB(d.pid).toFixed(0)} MiB`;
  // With everything running, the node's processes talk only over loopback and the pod bridge.
  assert.deepEqual(foreignSockets(new Set([...node.daemons.values()].map((d) => d.pid))), [], 'no socket to another machine');

  const t1 = Date.now();
  await api.deleteNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name });
  await poll(
    'the VMI and its launcher pod gone',
    async () => {
      const left = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${CREATED_BY_LABEL}=${uid}` });
      if (left.items.length > 0) return undefined;
      const vmis = (await api.listNamespacedCustomObject({ ...VMI, namespace: NAMESPACE })) as { items: unknown[] };
      return vmis.items.length === 0 ? true : undefined;
    },
    180_000,
    handlerLogs,
  );
  figures['VMI deleted → VMI and pod gone'] = `${((Date.now() - t1) / 1000).toFixed(1)} s`;
  assert.deepEqual(mountsUnder(path.join(KUBELET_ROOT, 'pods', pod.metadata!.uid!)), [], "nothing left mounted in the pod's directory");
});

test('stopping the node leaves nothing behind on the host', async () => {
  await controller?.stop();
  controller = undefined;
  const t0 = Date.now();
  await node.stop();
  figures['node stop and teardown'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  assert.deepEqual(mountsUnder(NODE_BASE), []);
  assert.deepEqual(mountsUnder(KUBELET_ROOT), []);
  for (const p of [NODE_BASE, KUBELET_ROOT, '/var/log/pods', '/var/log/containers']) assert.equal(existsSync(p), false, `${p} removed`);
  assert.equal(existsSync(`/sys/class/net/${BRIDGE}`), false, 'the bridge deleted');
  for (const ctrl of readdirSync('/sys/fs/cgroup'))
    assert.equal(existsSync(path.join('/sys/fs/cgroup', ctrl, CGROUP_ROOT)), false, `cgroup ${ctrl}/${CGROUP_ROOT} removed`);
  for (const [what, d] of node.daemons) assert.equal(existsSync(`/proc/${d.pid}`) && !d.exited, false, `${what} stopped`);
  assert.deepEqual(processesUnder(NODE_BASE), [], 'no process of the node left');
  assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), ipForwardBefore, 'ip_forward as it was');
  assert.equal(iptablesRules(), iptablesBefore, 'iptables as they were');
});

/** TCP and UDP sockets of the given processes whose peer is neither loopback nor the pod subnet. */
function foreignSockets(pids: ReadonlySet<number>): string[] {
  const local = (peer: string) => {
    const host = peer
      .replace(/:[^:]*$/, '')
      .replace(/^\[|\]$/g, '')
      .replace(/%.*$/, '')
      .replace(/^::ffff:/, '');
    return ['*', '0.0.0.0', '::', '::1'].includes(host) || host.startsWith('127.') || host.startsWith('10.244.77.');
  };
  return execFileSync('ss', ['-tuanpH'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1]))))
    .filter((line) => !local(line.trim().split(/\s+/)[5] ?? ''));
}

/** Processes whose command line names a path under `dir` (containerd's shims name its socket). */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The handler pods' state and logs, for failure messages. */
function handlerPodState(): string {
  try {
    return execFileSync('sh', ['-c', `for f in /var/log/pods/*/*/*.log; do echo "== $f"; tail -n 30 "$f"; done`], {
      encoding: 'utf8',
    });
  } catch (err) {
    return String(err);
  }
}
