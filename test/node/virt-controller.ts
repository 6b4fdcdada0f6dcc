// The part of virt-controller (pkg/virt-controller/watch/vmi) a VMI on the real node needs, played by the
// test: the VMI finalizer, a launcher pod from deploy/example-vmi-pod.yaml, Scheduled with the node's
// name and the pod in activePods once the pod runs (virt-handler takes it from there), the pod deleted
// when the VMI is, and the finalizer removed once the VMI is final and its pods are gone. It polls one
// namespace; of the status conditions it plays only Ready (from the pod's) and the pod's unpaused readiness
// gate; KubeVirt's watches and scheduling decisions are not played.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod, type V1SeccompProfile } from '@kubernetes/client-node';
import { type ContainerDiskSpec, launcherPod } from './manifests.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts', namespace: 'kubevirt' } as const;

interface SeccompConfiguration {
  virtualMachineInstanceProfile?: { customProfile?: { localhostProfile?: string; runtimeDefaultProfile?: boolean } };
}

/** template.go renderLaunchManifest: the launcher pod's seccomp profile from the CR's seccompConfiguration. */
export function podSeccompProfile(conf: SeccompConfiguration | undefined): V1SeccompProfile | undefined {
  const custom = conf?.virtualMachineInstanceProfile?.customProfile;
  if (custom?.localhostProfile !== undefined) return { type: 'Localhost', localhostProfile: custom.localhostProfile };
  if (custom?.runtimeDefaultProfile) return { type: 'RuntimeDefault' };
  return undefined;
}
/** virtv1.VirtualMachineInstanceFinalizer */
export const VMI_FINALIZER = 'kubevirt.io/foregroundDeleteVirtualMachine';
/** virtv1.NodeNameLabel */
export const NODE_NAME_LABEL = 'kubevirt.io/nodeName';
/** virtv1.CreatedByLabel: the VMI uid on its launcher pods */
export const CREATED_BY_LABEL = 'kubevirt.io/created-by';

interface VMIObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: { terminationGracePeriodSeconds?: number } & ContainerDiskSpec;
  status?: { phase?: string; conditions?: Condition[] };
}

interface Condition {
  type: string;
  status: string;
  reason?: string | undefined;
  message?: string | undefined;
  lastProbeTime?: string | Date | null | undefined;
  lastTransitionTime?: string | Date | null | undefined;
}

/** virtv1.VirtualMachineUnpaused: the launcher pod's readiness gate */
export const UNPAUSED_CONDITION = 'kubevirt.io/virtual-machine-unpaused';

export interface VirtControllerStandIn {
  /** What went wrong in a sync (the loop goes on), for failure messages. */
  readonly errors: readonly string[];
  stop(): Promise<void>;
}

const isFinal = (vmi: VMIObject) => vmi.status?.phase === 'Succeeded' || vmi.status?.phase === 'Failed';

export function startVirtControllerStandIn(kc: KubeConfig, namespace: string, intervalMs = 500): VirtControllerStandIn {
  const api = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const errors: string[] = [];
  let running = true;

  const patchVMI = (name: string, body: object[]) => api.patchNamespacedCustomObject({ ...VMI, namespace, name, body });

  const syncVMI = async (vmi: VMIObject, pods: V1Pod[]) => {
    const { name, uid } = vmi.metadata;
    const own = pods.filter((p) => p.metadata?.labels?.[CREATED_BY_LABEL] === uid);
    if (vmi.metadata.deletionTimestamp || isFinal(vmi)) {
      // The launcher gets SIGTERM and shuts its domain down within the pod's grace period.
      if (vmi.metadata.deletionTimestamp) {
        for (const p of own.filter((p) => !p.metadata?.deletionTimestamp)) {
          await core.deleteNamespacedPod({ namespace, name: p.metadata!.name! }).catch(ignoreNotFound);
        }
      }
      const finalizers = vmi.metadata.finalizers ?? [];
      const at = finalizers.indexOf(VMI_FINALIZER);
      if (isFinal(vmi) && own.length === 0 && at >= 0) {
        await patchVMI(name, [
          { op: 'test', path: `/metadata/finalizers/${at}`, value: VMI_FINALIZER },
          { op: 'remove', path: `/metadata/finalizers/${at}` },
        ]);
      }
      return;
    }
    if (!vmi.metadata.finalizers?.includes(VMI_FINALIZER)) {
      await patchVMI(name, [
        vmi.metadata.finalizers
          ? { op: 'add', path: '/metadata/finalizers/-', value: VMI_FINALIZER }
          : { op: 'add', path: '/metadata/finalizers', value: [VMI_FINALIZER] },
      ]);
      return;
    }
    const phase = vmi.status?.phase ?? '';
    if (phase !== '' && phase !== 'Pending' && phase !== 'Scheduling') {
      if (own[0]) await syncConditions(vmi, own[0]);
      return;
    }
    if (own.length === 0) {
      const grace = vmi.spec?.terminationGracePeriodSeconds ?? 30;
      const kubevirts = (await api.listNamespacedCustomObject(KUBEVIRT)) as {
        items: { spec?: { configuration?: { seccompConfiguration?: SeccompConfiguration } } }[];
      };
      const seccompProfile = podSeccompProfile(kubevirts.items[0]?.spec?.configuration?.seccompConfiguration);
      await core.createNamespacedPod({
        namespace,
        body: launcherPod({ vmi: { name, namespace, uid, terminationGracePeriodSeconds: grace, spec: vmi.spec ?? {} }, seccompProfile }),
      });
      await patchVMI(name, [{ op: 'add', path: '/status', value: { ...vmi.status, phase: 'Scheduling' } }]);
      return;
    }
    const pod = own[0]!;
    const nodeName = pod.spec?.nodeName;
    const compute = pod.status?.containerStatuses?.find((c) => c.name === 'compute');
    if (pod.status?.phase !== 'Running' || !nodeName || !compute?.state?.running) return;
    await patchVMI(name, [
      { op: 'add', path: '/metadata/labels', value: { ...vmi.metadata.labels, [NODE_NAME_LABEL]: nodeName } },
      {
        op: 'add',
        path: '/status',
        value: { ...vmi.status, phase: 'Scheduled', nodeName, activePods: { [pod.metadata!.uid!]: nodeName } },
      },
    ]);
  };

  /** lifecycle.go syncPausedConditionToPod and syncReadyConditionFromPod, once the handler owns the VMI. */
  const syncConditions = async (vmi: VMIObject, pod: V1Pod) => {
    const now = new Date().toISOString();
    const paused = vmi.status?.conditions?.some((c) => c.type === 'Paused' && c.status === 'True') ?? false;
    const podConditions = pod.status?.conditions ?? [];
    const gate = podConditions.findIndex((c) => c.type === UNPAUSED_CONDITION);
    if (podConditions[gate]?.status !== (paused ? 'False' : 'True')) {
      const value = paused
        ? { type: UNPAUSED_CONDITION, status: 'False', reason: 'Paused', message: 'the virtual machine is paused' }
        : { type: UNPAUSED_CONDITION, status: 'True', reason: 'NotPaused', message: 'the virtual machine is not paused' };
      await core.patchNamespacedPodStatus({
        namespace,
        name: pod.metadata!.name!,
        body:
          gate >= 0
            ? [
                { op: 'test', path: `/status/conditions/${gate}/type`, value: UNPAUSED_CONDITION },
                { op: 'replace', path: `/status/conditions/${gate}`, value: { ...value, lastProbeTime: now, lastTransitionTime: now } },
              ]
            : [{ op: 'add', path: '/status/conditions/-', value: { ...value, lastProbeTime: now, lastTransitionTime: now } }],
      });
    }
    const podReady = podConditions.find((c) => c.type === 'Ready');
    const notReady = (reason: string, message: string): Condition => ({
      type: 'Ready',
      status: 'False',
      reason,
      message,
      lastProbeTime: now,
      lastTransitionTime: now,
    });
    const ready: Condition = pod.metadata?.deletionTimestamp
      ? notReady('PodTerminating', 'virt-launcher pod is terminating')
      : vmi.status?.phase !== 'Running'
        ? notReady('GuestNotRunning', 'Guest VM is not reported as running')
        : podReady
          ? { ...podReady, type: 'Ready' }
          : notReady('PodConditionMissing', 'virt-launcher pod is missing the Ready condition');
    const conditions = vmi.status?.conditions ?? [];
    const at = conditions.findIndex((c) => c.type === 'Ready');
    const current = conditions[at];
    if (current?.status === ready.status && current.reason === ready.reason) return;
    const value = { ...ready, lastProbeTime: ready.lastProbeTime ?? null, lastTransitionTime: ready.lastTransitionTime ?? null };
    await patchVMI(
      vmi.metadata.name,
      !vmi.status?.conditions
        ? [{ op: 'add', path: '/status/conditions', value: [value] }]
        : at >= 0
          ? [
              { op: 'test', path: `/status/conditions/${at}/type`, value: 'Ready' },
              { op: 'replace', path: `/status/conditions/${at}`, value },
            ]
          : [{ op: 'add', path: '/status/conditions/-', value }],
    );
  };

  const loop = (async () => {
    while (running) {
      try {
        const list = (await api.listNamespacedCustomObject({ ...VMI, namespace })) as { items: VMIObject[] };
        const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'kubevirt.io=virt-launcher' })).items;
        for (const vmi of list.items) {
          await syncVMI(vmi, pods).catch((err: unknown) => {
            // 409/422: the VMI changed under this sync (the handler writes it too); the next round retries.
            if (!(err instanceof ApiException && (err.code === 409 || err.code === 422)))
              errors.push(`${vmi.metadata.name}: ${String(err)}`);
          });
        }
      } catch (err) {
        errors.push(String(err));
      }
      await sleep(intervalMs);
    }
  })();

  return {
    errors,
    async stop() {
      running = false;
      await loop;
    },
  };
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof ApiException && err.code === 404)) throw err;
}
