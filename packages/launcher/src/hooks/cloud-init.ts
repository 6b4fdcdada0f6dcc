// The PreCloudInitIso hook point of KubeVirt's preStartHook (virtwrap/manager.go): the VMI's cloud-init
// data (ReadCloudInitVolumeDataSource's, SSH keys included) goes through the hook sidecars before the
// ISO is built from it.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { CloudInitData, HooksManager } from './manager.ts';

export function preCloudInitIsoHook(
  manager: Pick<HooksManager, 'preCloudInitIso'>,
): (vmi: VirtualMachineInstance, data: CloudInitData) => Promise<CloudInitData> {
  return async (vmi, data) => {
    try {
      return await manager.preCloudInitIso(vmi, data);
    } catch (err) {
      throw new Error(`PreCloudInitIso hook failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}
