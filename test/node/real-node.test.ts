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
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubernetesObject, type V1Node } from '@kubernetes/client-node';
import { poll } from '../bed/poll.ts';
import { makeHandlerPki, type HandlerPki } from '../bed/handler-pki.ts';
import { handlerRequest } from '../bed/handler.ts';
import { rssMiB, startRealNode, waitNodeReady, type RealNode } from './real-node.ts';
import { mountsUnder } from '../bed/mounts.ts';
import { BRIDGE, CGROUP_ROOT, KUBELET_ROOT, NODE_BASE, NODE_IP, podProcesses } from './host.ts';
import { deployObjects, handlerCertObjects, handlerDaemonSet } from './manifests.ts';
import { exampleVMI } from './example-vmi.ts';
import { createKubeVirtCR } from '../bed/kubevirt-cr.ts';
import { CREATED_BY_LABEL, startVirtControllerStandIn, VMI_FINALIZER, type VirtControllerStandIn } from './virt-controller.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const NAMESPACE = 'default';
/** Where the handler installs KubeVirt's seccomp profile; launcher pods name it as a Localhost profile. */
const SECCOMP_PROFILE = 'kubevirt/kubevirt.json';

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
  // the CR as a cluster admin writes it for KubeVirt's seccomp profile: the handler installs it, launcher pods use it
  await createKubeVirtCR(node.kc, 'kubevirt', {
    developerConfiguration: { featureGates: ['KubevirtSeccompProfile'] },
    seccompConfiguration: { virtualMachineInstanceProfile: { customProfile: { localhostProfile: SECCOMP_PROFILE } } },
  });
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
  const profile = await poll(
    "KubeVirt's seccomp profile installed by the handler in the kubelet's seccomp root",
    async () => {
      const file = path.join(KUBELET_ROOT, 'seccomp', SECCOMP_PROFILE);
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { syscalls: { names: string[]; action: string }[] }) : undefined;
    },
    60_000,
    handlerPodState,
  );
  assert.deepEqual(
    profile.syscalls.filter((r) => r.names.includes('userfaultfd')).map((r) => r.action),
    ['SCMP_ACT_ALLOW'],
    'userfaultfd allowed',
  );
  // The handler's heartbeat marks the node schedulable for launcher pods (their nodeSelector).
  await poll(
    'the node labelled kubevirt.io/schedulable=true by the handler',
    async () =>
      (await core.readNode({ name: node.nodeName })).metadata?.labels?.['kubevirt.io/schedulable'] === 'true' ? true : undefined,
    120_000,
  );
  // kubelet runs each plugin's ListAndWatch: the devices present on this node are allocatable
  await poll(
    'the present devices allocatable',
    async () => (devicesAllocatable(await core.readNode({ name: node.nodeName })) ? true : undefined),
    120_000,
    () => logs('kubelet', 60)(),
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
    body: exampleVMI(name, NAMESPACE, { podNetwork: true }),
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
  // containerd applied the handler's profile to the launcher (a filter, not "unconfined")
  assert.deepEqual({ ...pod.spec?.securityContext?.seccompProfile }, { type: 'Localhost', localhostProfile: SECCOMP_PROFILE });
  const launchers = podProcesses(pod.metadata!.uid!).filter((p) => p.cmdline.includes('/usr/bin/virt-launcher'));
  assert.ok(
    launchers.length >= 2,
    `virt-launcher-monitor and virt-launcher in the pod: ${JSON.stringify(podProcesses(pod.metadata!.uid!))}`,
  );
  for (const p of launchers)
    assert.match(readFileSync(`/proc/${p.pid}/status`, 'utf8'), /^Seccomp:\s+2$/m, `${p.cmdline} runs under a seccomp filter`);

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

  // Pod network: the handler's phase 1 in the pod's network namespace, the launcher's DHCP; the guest's
  // web server answers at the launcher pod's own IP, from the node (masquerade NAT).
  const podIP = (await core.readNamespacedPod({ namespace: NAMESPACE, name: pod.metadata!.name! })).status?.podIP;
  assert.ok(podIP, 'the launcher pod has an IP');
  const page = await poll(
    `the guest's web server at the pod IP ${podIP}:80`,
    async () => {
      const r = await fetch(`http://${podIP}/`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      return r?.ok ? await r.text() : undefined;
    },
    120_000,
    handlerLogs,
  );
  assert.equal(page.trim(), 'kvts-guest');

  // pause / unpause through the handler pod's REST API, as virt-api calls it
  const rest = async (method: string, sub: string, ip = handlerIP) =>
    handlerRequest(
      8186,
      { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      method,
      `/v1/namespaces/${NAMESPACE}/virtualmachineinstances/${name}/${sub}`,
      ip,
    );
  const getVMI = async () =>
    (await api.getNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name })) as {
      status?: { phase?: string; guestOSInfo?: { id?: string }; conditions?: { type: string; status: string; reason?: string }[] };
    };
  const paused = async () => (await getVMI()).status?.conditions?.find((c) => c.type === 'Paused');
  assert.equal((await rest('PUT', 'pause')).status, 202);
  await poll(
    'the VMI Paused (PausedByUser)',
    async () => ((await paused())?.reason === 'PausedByUser' ? true : undefined),
    60_000,
    handlerLogs,
  );
  assert.equal((await rest('PUT', 'unpause')).status, 202);
  await poll('the Paused condition gone', async () => ((await paused()) === undefined ? true : undefined), 60_000, handlerLogs);

  // The handler pod deleted: the DaemonSet's new pod takes the VMI over, and its status never regresses.
  const t2 = Date.now();
  await core.deleteNamespacedPod({ namespace: 'kubevirt', name: handlerPod!.metadata!.name! });
  const phases = new Set<string>();
  const next = await poll(
    "the DaemonSet's new handler pod Ready",
    async () => {
      phases.add((await getVMI()).status?.phase ?? '');
      const items = (await core.listNamespacedPod({ namespace: 'kubevirt', labelSelector: 'kubevirt.io=virt-handler' })).items;
      return items.find(
        (p) =>
          p.metadata?.uid !== handlerPod!.metadata!.uid && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      );
    },
    180_000,
    handlerLogs,
  );
  figures['handler pod deleted → the new one Ready'] = `${((Date.now() - t2) / 1000).toFixed(1)} s`;
  const nextIP = next.status?.podIP;
  assert.ok(nextIP, 'the new handler pod has an IP');
  const info = await poll(
    'guestosinfo through the new handler pod',
    async () => {
      const r = await rest('GET', 'guestosinfo', nextIP);
      return r.status === 200 ? r.body : undefined;
    },
    60_000,
    handlerLogs,
  );
  // KubeVirt's VirtualMachineInstanceGuestAgentInfo: the OS under `os`
  assert.equal(
    (JSON.parse(info) as { os?: { id?: string } }).os?.id,
    (await getVMI()).status?.guestOSInfo?.id,
    'the new handler reaches the guest agent',
  );
  phases.add((await getVMI()).status?.phase ?? '');
  assert.deepEqual([...phases], ['Running'], 'the VMI stayed Running while its handler was replaced');

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

test('kubelet restarted → the device plugins register again', async () => {
  const log = path.join(node.logDir, 'kubelet.log');
  const from = readFileSync(log, 'utf8').length;
  const t0 = Date.now();
  await node.restartKubelet();
  const wanted = ['kvm', 'tun', 'vhost-net'].map((d) => `devices.kubevirt.io/${d}`);
  // kubelet's device manager empties the device-plugins directory as it starts; the handler sees its
  // sockets go and registers each plugin again (kubelet logs every registration request)
  await poll(
    'every plugin registered with the new kubelet',
    async () => {
      const since = readFileSync(log, 'utf8').slice(from);
      return wanted.every((r) => since.includes(`Got registration request from device plugin with resource name "${r}"`))
        ? true
        : undefined;
    },
    120_000,
    () => `${logs('kubelet', 60)()}\n${handlerPodState()}`,
  );
  figures['kubelet restarted → the plugins registered again'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  await waitNodeReady(node);
  // and their devices are allocatable again once kubelet next reports the node's status
  let allocatable: Record<string, string> = {};
  await poll(
    'the devices allocatable again',
    async () => {
      const n = await core.readNode({ name: node.nodeName });
      allocatable = n.status?.allocatable ?? {};
      return devicesAllocatable(n) ? true : undefined;
    },
    120_000,
    () => {
      const kubelet = readFileSync(log, 'utf8')
        .slice(from)
        .split('\n')
        .filter((l) => /device|endpoint|plugin/i.test(l))
        .slice(-40)
        .join('\n');
      const handler = execFileSync('sh', ['-c', 'tail -n 40 /var/log/pods/kubevirt_virt-handler-*/virt-handler/*.log'], {
        encoding: 'utf8',
      });
      return `allocatable: ${JSON.stringify(allocatable)}\n== kubelet since the restart\n${kubelet}\n== handler\n${handler}`;
    },
  );
});

test('a launcher pod killed → the VMI Failed', async () => {
  const api = node.kc.makeApiClient(CustomObjectsApi);
  controller ??= startVirtControllerStandIn(node.kc, NAMESPACE);
  const name = 'real-node-killed';
  const created = (await api.createNamespacedCustomObject({
    ...VMI,
    namespace: NAMESPACE,
    body: {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name, namespace: NAMESPACE },
      spec: {
        terminationGracePeriodSeconds: 5,
        // no disk: the firmware finds nothing to boot and the domain runs all the same
        domain: {
          cpu: { cores: 1 },
          memory: { guest: '64Mi' },
          resources: { requests: { memory: '64Mi' } },
          machine: { type: 'q35' },
          devices: { autoattachPodInterface: false, autoattachMemBalloon: false },
        },
      },
    },
  })) as { metadata: { uid: string } };
  const phase = async () =>
    ((await api.getNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name })) as { status?: { phase?: string } }).status?.phase;
  await poll('the VMI Running', async () => ((await phase()) === 'Running' ? true : undefined), 300_000, handlerPodState);
  const [pod] = (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `${CREATED_BY_LABEL}=${created.metadata.uid}` }))
    .items;
  const t0 = Date.now();
  await core.deleteNamespacedPod({ namespace: NAMESPACE, name: pod!.metadata!.name!, gracePeriodSeconds: 0 });
  await poll('the VMI Failed', async () => ((await phase()) === 'Failed' ? true : undefined), 120_000, handlerPodState);
  figures['launcher pod killed → VMI Failed'] = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  await api.deleteNamespacedCustomObject({ ...VMI, namespace: NAMESPACE, name });
  await poll(
    'the Failed VMI gone (finalizer removed)',
    async () =>
      ((await api.listNamespacedCustomObject({ ...VMI, namespace: NAMESPACE })) as { items: { metadata: { name: string } }[] }).items.some(
        (v) => v.metadata.name === name,
      )
        ? undefined
        : true,
    60_000,
    handlerPodState,
  );
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
/** The handler's device plugins whose device this machine has (/dev/vhost-net may be missing). */
const PRESENT_DEVICES = [
  ['kvm', '/dev/kvm'],
  ['tun', '/dev/net/tun'],
  ['vhost-net', '/dev/vhost-net'],
]
  .filter(([, dev]) => existsSync(dev!))
  .map(([name]) => `devices.kubevirt.io/${name}`);

/** Every present device has its --max-devices allocatable (an absent one: 0, its plugin unhealthy). */
function devicesAllocatable(n: V1Node): boolean {
  const allocatable = n.status?.allocatable ?? {};
  // a quantity: kubelet reports 1000 as "1k"
  const count = (q = '0') => (q.endsWith('k') ? Number(q.slice(0, -1)) * 1000 : Number(q));
  return PRESENT_DEVICES.every((r) => count(allocatable[r]) === 1000);
}

function handlerPodState(): string {
  try {
    return execFileSync('sh', ['-c', `for f in /var/log/pods/*/*/*.log; do echo "== $f"; tail -n 30 "$f"; done`], {
      encoding: 'utf8',
    });
  } catch (err) {
    return String(err);
  }
}
