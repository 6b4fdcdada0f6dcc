// deploy/'s manifests made fit for the real node, changing only what this machine requires: the handler's
// host directories are the node's own (so a real node and the sandbox test bed can share a machine), and
// in-cluster clients are told where kube-apiserver is (no kube-proxy routes 10.96.0.1 here). What
// virt-operator would create beside them (the handler's certificates, the kubevirt-ca bundle) is made here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubernetesObject, V1Container, V1DaemonSet, V1Pod, V1SeccompProfile } from '@kubernetes/client-node';
import { KUBELET_ROOT, NODE_BASE } from './host.ts';
import type { HandlerPki } from '../bed/handler-pki.ts';

const DEPLOY = path.resolve(import.meta.dirname, '../../deploy');

/** KubeVirt's host paths → the node's. */
export const HOST_PATHS: Readonly<Record<string, string>> = {
  '/var/run/kubevirt': path.join(NODE_BASE, 'kubevirt'),
  '/var/run/kubevirt-private': path.join(NODE_BASE, 'kubevirt-private'),
  '/var/run/kubevirt-libvirt-runtimes': path.join(NODE_BASE, 'kubevirt-libvirt-runtimes'),
  // kubelet's own root (KubeVirt's handler assumes /var/lib/kubelet, see host.ts)
  '/var/lib/kubelet/pods': path.join(KUBELET_ROOT, 'pods'),
  '/var/lib/kubelet': KUBELET_ROOT,
  '/var/lib/kubevirt-node-labeller': path.join(NODE_BASE, 'node-labeller'),
};

export function deployObjects(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8'))
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null);
}

/** Where pods reach kube-apiserver, as kubelet would put it in their environment from a routable service. */
export function apiserverEnv(host: string, port: number) {
  return [
    { name: 'KUBERNETES_SERVICE_HOST', value: host },
    { name: 'KUBERNETES_SERVICE_PORT', value: String(port) },
  ];
}

/** deploy/virt-handler.yaml with the node's host paths and kube-apiserver's address. */
export function handlerDaemonSet(apiserver: { host: string; port: number }): V1DaemonSet {
  const [ds] = deployObjects('virt-handler.yaml') as V1DaemonSet[];
  const spec = ds?.spec?.template.spec;
  if (!ds || !spec) throw new Error('deploy/virt-handler.yaml: no DaemonSet');
  for (const v of spec.volumes ?? []) {
    if (!v.hostPath) continue;
    const mapped = HOST_PATHS[v.hostPath.path];
    if (!mapped) throw new Error(`deploy/virt-handler.yaml: host path ${v.hostPath.path} has no node path`);
    v.hostPath.path = mapped;
    v.hostPath.type = 'DirectoryOrCreate';
  }
  for (const c of spec.containers) c.env = [...(c.env ?? []), ...apiserverEnv(apiserver.host, apiserver.port)];
  // This machine's PID 1 is not the node's: its root and namespaces are not readable. virt-operator
  // passes KV_IO_EXTRA_ENV_VIRT_IN_CONTAINER for this case; the handler then takes its parent's (the
  // containerd shim's) mount namespace for the node's.
  const handler = spec.containers.find((c) => c.name === 'virt-handler');
  if (!handler) throw new Error('deploy/virt-handler.yaml: no virt-handler container');
  handler.env = [...(handler.env ?? []), { name: 'VIRT_IN_CONTAINER', value: 'true' }];
  return ds;
}

/** What virt-operator makes for the handler: its priority class, secrets (components/secrets.go) and the CA configmap. */
export function handlerCertObjects(pki: HandlerPki, namespace = 'kubevirt'): KubernetesObject[] {
  const tls = (name: string, pair: { cert: string; key: string }) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace, labels: { 'kubevirt.io': '' } },
    stringData: { 'tls.crt': pair.cert, 'tls.key': pair.key },
  });
  return [
    // the DaemonSet's priorityClassName (crds.go NewKubeVirtPriorityClassCR): without it no pod is admitted
    {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: 'kubevirt-cluster-critical' },
      value: 1000000000,
      globalDefault: false,
      description: 'This priority class should be used for KubeVirt core components only.',
    } as KubernetesObject,
    tls('kubevirt-virt-handler-server-certs', pki.server),
    tls('kubevirt-virt-handler-certs', pki.client),
    // no migration proxy or vsock yet, but virt-operator always creates (and the DaemonSet mounts) both
    tls('kubevirt-virt-handler-migration-client-certs', pki.client),
    tls('kubevirt-virt-handler-vsock-client-certs', pki.client),
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kubevirt-ca', namespace, labels: { 'kubevirt.io': '' } },
      data: { 'ca-bundle': pki.ca.cert },
    } as KubernetesObject,
  ];
}

/** What virt-controller renders per VMI here: containerDisk and kernel-boot containers, the tun device. */
export interface ContainerDiskSpec {
  volumes?: {
    name: string;
    containerDisk?: { image: string; imagePullPolicy?: string };
    configMap?: { name: string; optional?: boolean };
  }[];
  domain?: {
    firmware?: { kernelBoot?: { container?: { image: string; imagePullPolicy?: string } } };
    devices?: { interfaces?: unknown[]; autoattachPodInterface?: boolean; filesystems?: { name: string; virtiofs?: object | null }[] };
  };
}

/**
 * withVirioFS and generateVirtioFSContainers (pkg/virt-controller/services/virtiofs.go), for the volume
 * kind this node's tests share (configMap): the virtiofs-containers emptyDir in the pod and the compute
 * container, the configMap's pod volume, and a `virtiofs-<volume>` container of the launcher image per
 * filesystem running /usr/libexec/virtiofsd as 107 with every capability dropped.
 */
export function renderVirtioFS(spec: ContainerDiskSpec, pod: V1Pod, compute: V1Container): void {
  const filesystems = new Set((spec.domain?.devices?.filesystems ?? []).map((f) => f.name));
  if (filesystems.size === 0 || !pod.spec) return;
  const socketDir = '/var/run/kubevirt/virtiofs-containers';
  pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: 'virtiofs-containers', emptyDir: {} }];
  compute.volumeMounts = [...(compute.volumeMounts ?? []), { name: 'virtiofs-containers', mountPath: socketDir }];
  for (const volume of spec.volumes ?? []) {
    if (!filesystems.has(volume.name)) continue;
    if (!volume.configMap) throw new Error(`virtiofs volume ${volume.name}: only configMap volumes are rendered here`);
    const mountPath = `/var/run/kubevirt-private/config-map/${volume.name}`;
    pod.spec.volumes.push({
      name: volume.name,
      configMap: {
        name: volume.configMap.name,
        ...(volume.configMap.optional === undefined ? {} : { optional: volume.configMap.optional }),
      },
    });
    pod.spec.containers.push({
      name: `virtiofs-${volume.name}`,
      image: compute.image,
      imagePullPolicy: compute.imagePullPolicy,
      command: ['/usr/libexec/virtiofsd'],
      args: [
        `--socket-path=${socketDir}/${volume.name}.sock`,
        `--shared-dir=${mountPath}`,
        '--sandbox=none',
        '--cache=auto',
        '--migration-on-error=guest-error',
        '--migration-mode=find-paths',
      ],
      volumeMounts: [
        { name: 'virtiofs-containers', mountPath: socketDir },
        { name: volume.name, mountPath },
      ],
      resources: { requests: { cpu: '10m', memory: '1M' }, limits: { cpu: '100m', memory: '80M' } },
      securityContext: {
        runAsUser: 107,
        runAsGroup: 107,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      },
    });
  }
}

export interface LauncherPodFor {
  vmi: { name: string; namespace: string; uid: string; terminationGracePeriodSeconds: number; spec: ContainerDiskSpec };
  /** The pod's seccomp profile from the CR's seccompConfiguration (template.go); none when unset. */
  seccompProfile?: V1SeccompProfile | undefined;
}

/**
 * deploy/example-vmi-pod.yaml (virt-controller's rendering for example-vmi.yaml) for a VMI of this node's
 * tests: a generated name; the VMI's name, namespace and uid in labels, owner reference, paths and launcher
 * arguments; its grace periods; its containerDisk containers (pkg/container-disk generateContainersHelper:
 * `volume<name>` serving disk_<index>, `volumekernel-boot-volume` serving kernel-boot, each with its
 * `-init` pulling the image) made from the example's. The guest-console-log sidecar is left out as for
 * logSerialConsole: false (a native sidecar needs Kubernetes 1.29: this node's 1.20 would wait for it as
 * for an init container that never ends).
 */
export function launcherPod({ vmi, seccompProfile }: LauncherPodFor): V1Pod {
  const text = readFileSync(path.join(DEPLOY, 'example-vmi-pod.yaml'), 'utf8');
  const exampleUid = (parse(text) as V1Pod).metadata?.ownerReferences?.[0]?.uid;
  if (!exampleUid) throw new Error('deploy/example-vmi-pod.yaml: no owner reference');
  const pod = parse(text.replaceAll(exampleUid, vmi.uid)) as V1Pod;
  const meta = pod.metadata;
  const spec = pod.spec;
  const compute = spec?.containers.find((c) => c.name === 'compute');
  if (!meta || !spec || !compute?.args) throw new Error('deploy/example-vmi-pod.yaml: no compute container');
  delete meta.name;
  meta.generateName = `virt-launcher-${vmi.name}-`;
  meta.namespace = vmi.namespace;
  meta.labels = { ...meta.labels, 'vm.kubevirt.io/name': vmi.name, 'vmi.kubevirt.io/id': vmi.name };
  delete meta.labels['special'];
  meta.annotations = { ...meta.annotations, 'kubevirt.io/domain': vmi.name };
  const owner = meta.ownerReferences?.[0];
  if (owner) owner.name = vmi.name;
  spec.hostname = vmi.name;
  if (seccompProfile) spec.securityContext = { ...spec.securityContext, seccompProfile };

  const initTemplate = spec.initContainers?.find((c) => c.name === 'volumecontainerdisk-init');
  const template = spec.containers.find((c) => c.name === 'volumecontainerdisk');
  if (!initTemplate || !template) throw new Error('deploy/example-vmi-pod.yaml: no containerDisk containers to render from');
  const disks: { volume: string; copyName: string; image: string; pullPolicy?: string }[] = [];
  for (const [index, v] of (vmi.spec.volumes ?? []).entries()) {
    if (v.containerDisk)
      disks.push({ volume: v.name, copyName: `disk_${index}`, image: v.containerDisk.image, pullPolicy: v.containerDisk.imagePullPolicy });
  }
  const kernel = vmi.spec.domain?.firmware?.kernelBoot?.container;
  if (kernel)
    disks.push({ volume: 'kernel-boot-volume', copyName: 'kernel-boot', image: kernel.image, pullPolicy: kernel.imagePullPolicy });
  const render = (t: V1Container, d: (typeof disks)[number], init: boolean): V1Container => {
    const c = structuredClone(t);
    c.name = `volume${d.volume}${init ? '-init' : ''}`;
    c.image = d.image;
    if (d.pullPolicy) c.imagePullPolicy = d.pullPolicy;
    if (!init) c.args = ['--copy-path', `/var/run/kubevirt/container-disks/${vmi.uid}/${d.copyName}`];
    return c;
  };
  const isDisk = (name: string) => name.startsWith('volume');
  // in virt-controller's order (template.go): the disks' by volume index, then kernel-boot's
  const initDisks = disks.map((d) => render(initTemplate, d, true));
  spec.initContainers = [...(spec.initContainers ?? []).filter((c) => !isDisk(c.name) && c.name !== 'guest-console-log'), ...initDisks];
  spec.containers = [...spec.containers.filter((c) => !isDisk(c.name)), ...disks.map((d) => render(template, d, false))];
  if (disks.length === 0) spec.initContainers = spec.initContainers.filter((c) => c.name !== 'container-disk-binary');
  // RequiresTunDevice: interfaces, or the pod interface attached by default
  const devices = vmi.spec.domain?.devices;
  if (!devices?.interfaces?.length && devices?.autoattachPodInterface === false)
    delete compute.resources?.limits?.['devices.kubevirt.io/tun'];
  // after the containerDisk containers, as template.go appends them
  renderVirtioFS(vmi.spec, pod, compute);
  // virt-controller: the launcher's grace period is the VMI's + 15 s, the pod's another 15 s
  spec.terminationGracePeriodSeconds = vmi.terminationGracePeriodSeconds + 30;
  const flag = (name: string, value: string) => {
    const at = compute.args!.indexOf(name);
    if (at < 0) throw new Error(`deploy/example-vmi-pod.yaml: launcher flag ${name} missing`);
    compute.args![at + 1] = value;
  };
  flag('--name', vmi.name);
  flag('--namespace', vmi.namespace);
  flag('--grace-period-seconds', String(vmi.terminationGracePeriodSeconds + 15));
  return pod;
}
