// One node for virt-handler end-to-end tests: the test bed's control plane (or $KUBECONFIG's cluster),
// a Node object, virt-handler as a process with deploy/'s service account and a PKI of its own, and the
// parts of virt-controller and kubelet a test plays for a VMI: a Scheduled VMI on this node and a
// launcher in a pod sandbox.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { serialConsoleSocketPath } from '@kubevirt-ts/shared';
import { startControlPlane, type ControlPlane } from '../control-plane/control-plane.ts';
import { freePort } from '../control-plane/daemon.ts';
import { createKubeVirtCR } from './kubevirt-cr.ts';
import { createPodSandbox, podsBaseDir, type PodSandbox } from './pod-sandbox.ts';
import { startContainerDisks } from './container-disks.ts';
import { NONROOT_ENV, NONROOT_UID, startLauncher, testEFIVMI, testVMI, type RunningLauncher } from './launcher.ts';
import { handlerRequest, startHandler, type HandlerOptions, type RunningHandler } from './handler.ts';
import { makeHandlerPki, type HandlerPki } from './handler-pki.ts';
import { handlerKubeconfig } from './handler-rbac.ts';
import { startTestKubelet, type TestKubelet } from './test-kubelet.ts';
import { makeNodeLabellerFiles } from './node-labeller-files.ts';
import { GUEST_PROMPT } from './guest.ts';
import { poll } from './poll.ts';
import { SerialConsole } from './serial.ts';

export const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;

/** What the tests read of a VMI. */
export type VMIObject = {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    guestOSInfo?: { id?: string; name?: string };
    phaseTransitionTimestamps?: Array<{ phase: string }>;
    machine?: { type?: string };
    volumeStatus?: Array<{ name: string; target: string; size?: number }>;
    migrationMethod?: string;
    selinuxContext?: string;
  };
};

/** The parts of a VMI's spec a test may add to before the VMI is created. */
export type VMISpecBody = { volumes: object[]; domain: { devices: { disks: object[] } } };

/** A VM of a test: its VMI, pod and launcher. */
export interface TestVM {
  name: string;
  uid: string;
  sandbox: PodSandbox;
  launcher: RunningLauncher;
}

export interface HandlerNode {
  readonly cp: ControlPlane;
  readonly kc: KubeConfig;
  readonly api: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly nodeName: string;
  /** The handler's share dir is `share/` in it, its private dir `private/`, the PKI `pki/`. */
  readonly dir: string;
  readonly privateDir: string;
  readonly pki: HandlerPki;
  readonly consolePort: number;
  readonly healthPort: number;
  /** --vmstats-server-port */
  readonly vmStatsPort: number;
  /** The kubelet's device plugin registration, in `kubelet/` of dir (the handler's --kubelet-root). */
  readonly kubelet: TestKubelet;
  /** Every pod startVM made. */
  readonly sandboxes: readonly PodSandbox[];
  /** The running handler; startHandler replaces it. */
  readonly handler: RunningHandler;
  /** Starts virt-handler (again) with this node's options. */
  startHandler(): Promise<RunningHandler>;
  getVMI(name: string): Promise<VMIObject>;
  /** Once the VMI runs and its guest shows its prompt: the guest's serial console. */
  guestConsole(vm: TestVM, o?: { logs?: () => string; runningMs?: number; promptMs?: number }): Promise<SerialConsole>;
  /**
   * A change as virt-controller makes it: read, change, full Update; again on a conflict with the
   * handler's writes. `T` is the caller's view of the VMI.
   */
  updateVMI<T extends object = VMIObject>(name: string, change: (vmi: T) => void): Promise<void>;
  /** A Scheduled VMI on this node with its launcher pod in activePods, and the launcher started. */
  startVM(
    name: string,
    extra?: {
      kernelArgs?: string;
      grace?: number;
      autoattachMemBalloon?: boolean;
      nonRoot?: boolean;
      /** The EFI test guest (testEFIVMI), booted by OVMF from the launcher's default --ovmf-path. */
      efi?: { secureBoot: boolean };
      deviceCgroup?: boolean;
      /** The pod in a cpuset cgroup of its own, as a container is (dedicated CPUs' housekeeping). */
      cpusetCgroup?: boolean;
      /** Changes the VMI before it is created (virt-controller's additions, e.g. a hotplugged volume). */
      customize?: (vmi: { spec: VMISpecBody; status: { volumeStatus: object[] } }) => void;
      /** spec.accessCredentials */
      accessCredentials?: unknown[];
      /** The pod's virtiofs-containers volume, as virt-controller renders it for virtiofs filesystems. */
      virtiofs?: boolean;
      /** Plays the kubelet before the launcher starts (e.g. the pod's secret volumes, its virtiofs containers). */
      preparePod?: (sandbox: PodSandbox) => void | Promise<void>;
    },
  ): Promise<TestVM>;
  /**
   * virt-controller's migration target pod for `vm` on this node: its containerDisks and a launcher
   * waiting for the migrated domain (POD_NAME set, as the pod's downward API sets it).
   */
  startTargetPod(vm: TestVM, podName: string, o?: { nonRoot?: boolean }): Promise<{ sandbox: PodSandbox; launcher: RunningLauncher }>;
  /** A request to the handler's console server (default) or `port`, with the client certificate unless `cert: false`. */
  request(method: string, urlPath: string, opts?: { cert?: boolean; port?: number }): ReturnType<typeof handlerRequest>;
  vmiPath(name: string, sub: string): string;
  /** Stops what it started: the handler, every launcher and pod, the Node, the control plane. */
  stop(): Promise<void>;
}

export async function startHandlerNode(o: {
  namespace: string;
  nodePrefix: string;
  watchdogTimeout?: string;
  /** node-labeller.sh's files (host capabilities, CPU models) made by a real libvirtd for the handler to read. */
  nodeLabellerFiles?: boolean;
  /**
   * A second node of `join`'s cluster: its control plane, namespace and CA (the handlers' certificates
   * are of one cluster's, as migrations between them need); `join` stops the control plane.
   */
  join?: HandlerNode;
}): Promise<HandlerNode> {
  const cp = o.join?.cp ?? (await startControlPlane());
  const kc = cp.kubeConfig();
  const api = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const nodeName = `${o.nodePrefix}-${randomUUID().slice(0, 8)}`;
  const sandboxes: PodSandbox[] = [];
  const launchers: RunningLauncher[] = [];
  let dir: string | undefined;
  let handler: RunningHandler | undefined;
  let kubelet: TestKubelet | undefined;
  const stop = async () => {
    await handler?.stop('SIGKILL');
    await kubelet?.stop();
    for (const l of launchers) await l.stop('SIGKILL').catch(() => undefined);
    for (const s of sandboxes) await s.destroy().catch(() => undefined);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    if (!o.join) await cp.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const namespace = o.join?.namespace ?? (await cp.createNamespace(o.namespace));
    // the cluster's KubeVirt CR: useEmulation, as this machine's guests run under TCG
    if (!o.join) await createKubeVirtCR(kc, namespace, {});
    await core.createNode({ body: { metadata: { name: nodeName } } });
    const root = mkdtempSync('/tmp/kvh');
    dir = root;
    const pki = o.join?.pki ?? (await makeHandlerPki(path.join(root, 'pki')));
    // the handler runs with exactly the permissions deploy/ grants its service account
    const kubeconfigPath = await handlerKubeconfig(cp, path.join(root, 'kubeconfig'));
    const consolePort = await freePort();
    const healthPort = await freePort();
    const vmStatsPort = await freePort();
    kubelet = await startTestKubelet(path.join(root, 'kubelet'));
    const testKubelet = kubelet;
    const options: HandlerOptions = {
      nodeName,
      kubeconfigPath,
      shareDir: path.join(root, 'share'),
      privateDir: path.join(root, 'private'),
      podsBaseDir: podsBaseDir(),
      consoleServerPort: consolePort,
      port: healthPort,
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile },
      // KubeVirt's handler dials migrations with its client certificate (CN type virt-handler)
      migrationClient: { certFile: pki.client.certFile, keyFile: pki.client.keyFile },
      watchdogTimeout: o.watchdogTimeout ?? '5s',
      kubeletRoot: testKubelet.root,
      vmStatsServerPort: vmStatsPort,
      nodeLabellerDir: path.join(root, 'node-labeller'),
    };
    if (o.nodeLabellerFiles) {
      mkdirSync(path.join(root, 'node-labeller'));
      await makeNodeLabellerFiles(path.join(root, 'node-labeller'));
    }
    const node: HandlerNode = {
      cp,
      kc,
      api,
      core,
      namespace,
      nodeName,
      dir: root,
      privateDir: options.privateDir,
      pki,
      consolePort,
      healthPort,
      vmStatsPort,
      kubelet: testKubelet,
      sandboxes,
      get handler() {
        if (!handler) throw new Error('virt-handler not started');
        return handler;
      },
      async startHandler() {
        handler = await startHandler(options);
        return handler;
      },
      getVMI: async (name) => (await api.getNamespacedCustomObject({ ...VMI, namespace, name })) as VMIObject,
      async guestConsole(vm, o = {}) {
        const logs = o.logs ?? (() => `${handler?.logs().slice(-6000) ?? ''}\nlauncher:\n${vm.launcher.logs().slice(-4000)}`);
        const running = async () =>
          ((await api.getNamespacedCustomObject({ ...VMI, namespace, name: vm.name })) as VMIObject).status?.phase === 'Running';
        await poll('VMI Running', async () => ((await running()) ? true : undefined), o.runningMs ?? 90_000, logs);
        const socket = vm.sandbox.hostPath(serialConsoleSocketPath(vm.uid, 0, '/var/run/kubevirt-private'));
        await poll('serial console socket', async () => (existsSync(socket) ? true : undefined), 30_000, logs);
        const serial = await SerialConsole.open(socket);
        try {
          await serial.waitForPrompt(GUEST_PROMPT, o.promptMs ?? 120_000);
        } catch (err) {
          serial.close();
          throw err;
        }
        return serial;
      },
      async updateVMI<T extends object>(name: string, change: (vmi: T) => void) {
        for (let attempt = 0; ; attempt++) {
          const vmi = (await api.getNamespacedCustomObject({ ...VMI, namespace, name })) as T;
          change(vmi);
          try {
            await api.replaceNamespacedCustomObject({ ...VMI, namespace, name, body: vmi });
            return;
          } catch (err) {
            if ((err as { code?: number }).code !== 409 || attempt === 20) throw err;
          }
        }
      },
      async startVM(name, extra = {}) {
        const grace = extra.grace ?? 5;
        const sandbox = await createPodSandbox({
          deviceCgroup: extra.deviceCgroup ?? false,
          cpusetCgroup: extra.cpusetCgroup ?? false,
          virtiofs: extra.virtiofs ?? false,
        });
        sandboxes.push(sandbox);
        const vmi = extra.efi
          ? testEFIVMI({ name, namespace, uid: 'set-by-apiserver', secureBoot: extra.efi.secureBoot })
          : testVMI({
              name,
              namespace,
              uid: 'set-by-apiserver',
              kernelArgs: extra.kernelArgs,
              terminationGracePeriodSeconds: grace,
              autoattachMemBalloon: extra.autoattachMemBalloon,
            });
        vmi.spec.terminationGracePeriodSeconds = grace;
        const { uid: _uid, ...metadata } = vmi.metadata;
        const body = {
          ...vmi,
          spec: { ...vmi.spec, ...(extra.accessCredentials ? { accessCredentials: extra.accessCredentials } : {}) },
          metadata: {
            ...metadata,
            labels: { 'kubevirt.io/nodeName': nodeName },
            finalizers: ['kubevirt.io/foregroundDeleteVirtualMachine'],
          },
          // virt-api marks a non-root VMI with runtimeUser 107 (KubeVirt's default, Root feature gate off)
          status: {
            phase: 'Scheduled',
            nodeName,
            activePods: { [sandbox.podUID]: nodeName },
            // virt-controller makes one volume status per volume; virt-handler fills in the target
            volumeStatus: vmi.spec.volumes.map((v) => ({ name: v.name, target: '' })),
            ...(extra.nonRoot ? { runtimeUser: NONROOT_UID } : {}),
          },
        };
        extra.customize?.(body);
        const created = (await api.createNamespacedCustomObject({ ...VMI, namespace, body })) as VMIObject;
        await extra.preparePod?.(sandbox);
        // the handler mounts the guest's images from these before its first SyncVirtualMachine
        await startContainerDisks(sandbox, created.metadata.uid, vmi.spec.volumes, { kernelBoot: !extra.efi });
        const launcher = await startLauncher(
          sandbox,
          { metadata: { name, namespace, uid: created.metadata.uid } },
          ['--grace-period-seconds', String(grace), ...(extra.nonRoot ? ['--run-as-nonroot'] : [])],
          { stageImages: false, ...(extra.nonRoot ? { nonRootUser: NONROOT_UID, env: NONROOT_ENV } : {}) },
        );
        launchers.push(launcher);
        return { name, uid: created.metadata.uid, sandbox, launcher };
      },
      async startTargetPod(vm, podName, o = {}) {
        const sandbox = await createPodSandbox();
        sandboxes.push(sandbox);
        const vmi = testVMI({ name: vm.name, namespace, uid: vm.uid });
        await startContainerDisks(sandbox, vm.uid, vmi.spec.volumes, { kernelBoot: true });
        const launcher = await startLauncher(
          sandbox,
          { metadata: { name: vm.name, namespace, uid: vm.uid } },
          ['--grace-period-seconds', '5', ...(o.nonRoot ? ['--run-as-nonroot'] : [])],
          {
            stageImages: false,
            ...(o.nonRoot ? { nonRootUser: NONROOT_UID } : {}),
            env: { ...(o.nonRoot ? NONROOT_ENV : {}), POD_NAME: podName },
          },
        );
        launchers.push(launcher);
        return { sandbox, launcher };
      },
      request: (method, urlPath, opts = {}) =>
        handlerRequest(
          opts.port ?? consolePort,
          opts.cert === false ? { ca: pki.ca.cert } : { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
          method,
          urlPath,
        ),
      vmiPath: (name, sub) => `/v1/namespaces/${namespace}/virtualmachineinstances/${name}/${sub}`,
      stop,
    };
    await node.startHandler();
    return node;
  } catch (err) {
    await stop();
    throw err;
  }
}
