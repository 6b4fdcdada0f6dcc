// ReadCloudInitVolumeDataSource (pkg/cloud-init): the VMI's first cloud-init volume as CloudInitData,
// its SSH keys resolved, which PreCloudInitIso hooks may change before the ISO is built from it.
import { isDeepStrictEqual } from 'node:util';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { configDriveFiles, noCloudFiles, type NoCloudFiles } from './converter/index.ts';
import { cloudInitPublicKeys } from './access-credentials.ts';
import type { CloudInitData } from './hooks/manager.ts';

/** The files of a cloud-init ISO (NoCloud's and ConfigDrive's have the same three). */
export type CloudInitFiles = NoCloudFiles;

export interface CloudInitSource {
  /** what the hooks see */
  data: CloudInitData;
  /** the ISO's files as the converter writes them (Go's exact metadata bytes) */
  files: CloudInitFiles;
}

/** The data of the first cloudInitNoCloud or cloudInitConfigDrive volume; undefined when there is none. */
export function readCloudInitData(vmi: VirtualMachineInstance, secretSourceDir: string | undefined): CloudInitSource | undefined {
  for (const volume of vmi.spec.volumes ?? []) {
    const noCloud = volume.cloudInitNoCloud !== undefined;
    if (!noCloud && volume.cloudInitConfigDrive === undefined) continue;
    const method = noCloud ? 'noCloud' : 'configDrive';
    const keys = cloudInitPublicKeys(vmi, secretSourceDir, method);
    const files = noCloud ? noCloudFiles(volume, vmi, keys) : configDriveFiles(volume, vmi, keys);
    const metaData = JSON.parse(files.metaData) as Record<string, unknown>;
    return {
      files,
      data: {
        DataSource: method,
        ...(noCloud ? { NoCloudMetaData: metaData } : { ConfigDriveMetaData: metaData }),
        UserData: files.userData,
        NetworkData: files.networkData ?? '',
        VolumeName: volume.name,
      },
    };
  }
  return undefined;
}

/**
 * The ISO's files from the data the hooks returned: theirs where they changed it, the converter's
 * bytes where they did not (a round trip through JSON would reorder Go's sorted key map).
 */
export function cloudInitFiles(source: CloudInitSource, data: CloudInitData): CloudInitFiles {
  if (data === source.data) return source.files;
  const field = source.data.DataSource === 'noCloud' ? 'NoCloudMetaData' : 'ConfigDriveMetaData';
  const meta = data[field];
  const metaData = meta == null || isDeepStrictEqual(meta, source.data[field]) ? source.files.metaData : JSON.stringify(meta);
  return data.NetworkData === ''
    ? { userData: data.UserData, metaData }
    : { userData: data.UserData, metaData, networkData: data.NetworkData };
}
