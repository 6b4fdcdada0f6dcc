// The VMI status write virt-handler makes (KubeVirt: virtClient.VirtualMachineInstance(ns).Update): a
// full Update of the VMI with its new status, through kube-apiserver.
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  KubeVirtGroupVersion,
  VirtualMachineInstanceKind,
  type VirtualMachineInstance,
  type VirtualMachineInstanceStatus,
} from '@kubevirt-ts/shared';
import type { VMIStatusWriter } from './vm-controller.ts';

export class KubeVMIStatusWriter implements VMIStatusWriter {
  readonly #api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(CustomObjectsApi);
  }

  async update(vmi: VirtualMachineInstance, status: VirtualMachineInstanceStatus): Promise<void> {
    const body = { ...vmi, apiVersion: KubeVirtGroupVersion, kind: VirtualMachineInstanceKind, status };
    try {
      await this.#api.replaceNamespacedCustomObject({
        group: 'kubevirt.io',
        version: 'v1',
        namespace: vmi.metadata.namespace,
        plural: 'virtualmachineinstances',
        name: vmi.metadata.name,
        body,
      });
    } catch (err) {
      // 409: the informer has (or will have) a newer VMI; the next round recomputes from it
      if (err instanceof ApiException && err.code === 409) throw new Error(`the VMI changed meanwhile (409), retrying`);
      throw err;
    }
  }
}
