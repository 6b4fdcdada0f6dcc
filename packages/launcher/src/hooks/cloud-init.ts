// The PreCloudInitIso hook point of KubeVirt's preStartHook (virtwrap/manager.go): the VMI's NoCloud
// data, as CloudInitData, goes through the hook sidecars before the ISO is built from it.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { noCloudFiles } from '../converter/index.ts';
import type { CloudInitData, HooksManager } from './manager.ts';

/**
 * The VMI the cloud-init ISO is built from: its NoCloud volume's user and network data as the hooks
 * returned them (the VMI itself when no hook subscribes or it has no NoCloud volume).
 */
export function preCloudInitIsoHook(
  manager: Pick<HooksManager, 'preCloudInitIso'>,
): (vmi: VirtualMachineInstance) => Promise<VirtualMachineInstance> {
  return async (vmi) => {
    const volumes = vmi.spec.volumes ?? [];
    const index = volumes.findIndex((v) => v.cloudInitNoCloud !== undefined);
    const volume = volumes[index];
    if (volume === undefined) return vmi;
    const files = noCloudFiles(volume, vmi);
    const data: CloudInitData = {
      DataSource: 'noCloud',
      NoCloudMetaData: JSON.parse(files.metaData) as Record<string, unknown>,
      UserData: files.userData,
      NetworkData: files.networkData ?? '',
      VolumeName: volume.name,
    };
    let out: CloudInitData;
    try {
      out = await manager.preCloudInitIso(vmi, data);
    } catch (err) {
      throw new Error(`PreCloudInitIso hook failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (out === data) return vmi;
    const hooked = { ...volume, cloudInitNoCloud: { userData: out.UserData, networkData: out.NetworkData } };
    return { ...vmi, spec: { ...vmi.spec, volumes: volumes.map((v, i) => (i === index ? hooked : v)) } };
  };
}
