// The part of virt-controller (pkg/virt-controller/watch/vmi) a VMI on the real node needs, played by the
// test: the VMI finalizer, a launcher pod from deploy/example-vmi-pod.yaml, Scheduled with the node's
// name and the pod in activePods once the pod runs (virt-handler takes it from there), the pod deleted
// when the VMI is, and the finalizer removed once the VMI is final and its pods are gone. It polls one
// namespace; KubeVirt's watches, scheduling decisions and status conditions are not played.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { type ContainerDiskSpec, launcherPod } from './manifests.ts';

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
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
  status?: { phase?: string };
}

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
    if (phase !== '' && phase !== 'Pending' && phase !== 'Scheduling') return;
    if (own.length === 0) {
      const grace = vmi.spec?.terminationGracePeriodSeconds ?? 30;
      await core.createNamespacedPod({
        namespace,
        body: launcherPod({ vmi: { name, namespace, uid, terminationGracePeriodSeconds: grace, spec: vmi.spec ?? {} } }),
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
