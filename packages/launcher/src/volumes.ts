// The launcher's half of KubeVirt's volumes before the domain starts (manager.go preStartHook and
// its ConverterContext): block or file system for each claim, the ConfigDrive ISO, and the ISOs of
// configMap, secret, service account, downward API and sysprep mounts. A hostDisk's image is
// virt-handler's to make (DiskImgCreator), before the first sync.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { VirtualMachineInstance, Volume } from '@kubevirt-ts/shared';
import {
  ConfigDriveVolumeID,
  blockVolumePath,
  configDiskPath,
  configDriveFiles,
  withDevices,
  type DeviceData,
  configDriveISOPath,
  configSourceDir,
  configVolumeKind,
  configVolumeLabel,
  filesystemVolumePath,
  hotplugBlockDevicePath,
  type ConverterContext,
} from './converter/index.ts';
import { cloudInitPublicKeys } from './access-credentials.ts';
import type { CloudInitISO } from './disk-preparation.ts';
import { createDataISO, createISOImage } from './iso.ts';

/** isBlockDeviceVolume: `/dev/<volume>` a block device, else `disk.img` a regular file; anything else is an error. */
export function isBlockDeviceVolume(volumeName: string, ctx: Pick<ConverterContext, 'privateDir'>): boolean {
  const dev = blockVolumePath(volumeName);
  if (existsSync(dev)) {
    if (statSync(dev).isBlockDevice()) return true;
    throw new Error(`found ${dev}, but it's not a block device`);
  }
  const file = filesystemVolumePath(volumeName, ctx);
  if (!existsSync(file)) throw new Error(`neither found block device nor regular file for volume ${volumeName}`);
  if (!statSync(file).isFile()) throw new Error(`found ${file}, but it's not a regular file`);
  return false;
}

/** isHotplugBlockDeviceVolume: the handler made a device node `<hotplug-disks>/<volume>` (else it mounted `<volume>.img`). */
export function isHotplugBlockDeviceVolume(volumeName: string): boolean {
  try {
    return statSync(hotplugBlockDevicePath(volumeName)).isBlockDevice();
  } catch {
    return false;
  }
}

/**
 * The ConverterContext's IsBlockPVC and IsBlockDV for the VMI's claims: a hotplugged one (a volume
 * status with hotplugVolume) is looked for in the hotplug-disks directory, the others in the pod.
 */
export function blockVolumes(
  vmi: VirtualMachineInstance,
  ctx: Pick<ConverterContext, 'privateDir'>,
): Pick<ConverterContext, 'isBlockPVC' | 'isBlockDV'> {
  const isBlockPVC: Record<string, boolean> = {};
  const isBlockDV: Record<string, boolean> = {};
  const hotplugged = new Set((vmi.status?.volumeStatus ?? []).filter((s) => s.hotplugVolume).map((s) => s.name));
  const isBlock = (name: string) => (hotplugged.has(name) ? isHotplugBlockDeviceVolume(name) : isBlockDeviceVolume(name, ctx));
  // a claim shared through virtiofs is the virtiofs container's: no image or device in this one
  const shared = new Set((vmi.spec.domain.devices?.filesystems ?? []).map((fs) => fs.name));
  for (const volume of vmi.spec.volumes ?? []) {
    if (shared.has(volume.name)) continue;
    // an ephemeral volume's claim is its overlay's backing store
    if (volume.persistentVolumeClaim || volume.ephemeral) isBlockPVC[volume.name] = isBlock(volume.name);
    else if (volume.dataVolume) isBlockDV[volume.name] = isBlock(volume.name);
  }
  return { isBlockPVC, isBlockDV };
}

/**
 * The ConfigDrive ISO of `volume`, from `cloudInit` when it is that volume's; with `devices` (the tagged
 * devices' addresses once the domain is defined), their metadata in meta_data.json.
 */
export async function writeConfigDriveISO(
  vmi: VirtualMachineInstance,
  volume: Volume,
  ctx: Pick<ConverterContext, 'ephemeralDiskDir' | 'secretSourceDir'>,
  cloudInit?: CloudInitISO,
  devices?: readonly DeviceData[],
): Promise<void> {
  const files =
    cloudInit?.volumeName === volume.name
      ? cloudInit.files
      : configDriveFiles(volume, vmi, cloudInitPublicKeys(vmi, ctx.secretSourceDir, 'configDrive'));
  await createDataISO(configDriveISOPath(vmi, ctx), ConfigDriveVolumeID, {
    'openstack/latest/user_data': files.userData,
    'openstack/latest/meta_data.json': devices?.length ? withDevices(files.metaData, devices) : files.metaData,
    'openstack/latest/network_data.json': files.networkData,
  });
}

/** Creates what the VMI's volumes need that the pod does not bring; the ConfigDrive ISO from `cloudInit` when it is that volume's. */
export async function prepareVolumes(
  vmi: VirtualMachineInstance,
  ctx: Pick<ConverterContext, 'privateDir' | 'ephemeralDiskDir' | 'secretSourceDir'>,
  cloudInit?: CloudInitISO,
): Promise<void> {
  let serviceAccountDone = false;
  // KubeVirt makes config ISOs for volumes with a disk only; a volume shared through virtiofs has none
  const shared = new Set((vmi.spec.domain.devices?.filesystems ?? []).map((fs) => fs.name));
  for (const [_index, volume] of (vmi.spec.volumes ?? []).entries()) {
    if (volume.cloudInitConfigDrive) {
      await writeConfigDriveISO(vmi, volume, ctx, cloudInit);
    } else {
      const kind = configVolumeKind(volume);
      if (!kind || shared.has(volume.name) || (kind === 'serviceAccount' && serviceAccountDone)) continue;
      if (kind === 'serviceAccount') serviceAccountDone = true;
      const source = configSourceDir(kind, volume.name, ctx);
      if (!existsSync(source)) throw new Error(`${kind} volume ${volume.name}: ${source} is not mounted`);
      const entries = readdirSync(source).sort();
      if (kind === 'sysprep' && !entries.some((f) => ['autounattend.xml', 'unattend.xml'].includes(f.toLowerCase()))) {
        throw new Error('Sysprep drive should contain autounattend.xml or unattend.xml but neither were found.');
      }
      await createISOImage(
        configDiskPath(kind, volume.name, ctx),
        configVolumeLabel(volume),
        entries.map((f) => `${f}=${path.join(source, f)}`),
      );
    }
  }
}
