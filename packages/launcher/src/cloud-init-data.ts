// ReadCloudInitVolumeDataSource (pkg/cloud-init): the VMI's first cloud-init volume as CloudInitData,
// its SSH keys and its user and network data secrets resolved, which PreCloudInitIso hooks may change
// before the ISO is built from it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { VirtualMachineInstance, Volume } from '@kubevirt-ts/shared';
import { configDriveFiles, noCloudFiles, type NoCloudFiles } from './converter/index.ts';
import { cloudInitPublicKeys, SecretSourceDir } from './access-credentials.ts';
import type { CloudInitData } from './hooks/manager.ts';

/** The files of a cloud-init ISO (NoCloud's and ConfigDrive's have the same three). */
export type CloudInitFiles = NoCloudFiles;

export interface CloudInitSource {
  /** what the hooks see */
  data: CloudInitData;
  /** the ISO's files as the converter writes them (Go's exact metadata bytes) */
  files: CloudInitFiles;
}

/** readFirstFoundFileFromDir: the first of `names` in `dir` that reads, or undefined. */
function readFirst(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    try {
      return readFileSync(path.join(dir, name), 'utf8');
    } catch {
      // the next name
    }
  }
  return undefined;
}

/**
 * resolveNoCloudSecrets and resolveConfigDriveSecrets: user and network data from the secrets
 * virt-controller mounts at `<secretSourceDir>/<volume>/` (`userdata` or `userData`, `networkdata` or
 * `networkData`) in place of the volume's own; an error when neither one asked for is there.
 */
export function withSecretData(volume: Volume, secretSourceDir: string): Volume {
  const source = volume.cloudInitNoCloud ?? volume.cloudInitConfigDrive;
  if (!source || (!source.secretRef && !source.networkDataSecretRef)) return volume;
  const dir = path.join(secretSourceDir, volume.name);
  const userData = source.secretRef ? readFirst(dir, ['userdata', 'userData']) : undefined;
  const networkData = source.networkDataSecretRef ? readFirst(dir, ['networkdata', 'networkData']) : undefined;
  // KubeVirt fails only when every read failed, the one not asked for counting as failed
  if (userData === undefined && networkData === undefined) throw new Error(`no cloud-init data-source found at volume: ${volume.name}`);
  const resolved = { ...source, ...(userData ? { userData } : {}), ...(networkData ? { networkData } : {}) };
  return volume.cloudInitNoCloud ? { ...volume, cloudInitNoCloud: resolved } : { ...volume, cloudInitConfigDrive: resolved };
}

/** The data of the first cloudInitNoCloud or cloudInitConfigDrive volume; undefined when there is none. */
export function readCloudInitData(vmi: VirtualMachineInstance, secretSourceDir: string | undefined): CloudInitSource | undefined {
  for (const volume of vmi.spec.volumes ?? []) {
    const noCloud = volume.cloudInitNoCloud !== undefined;
    if (!noCloud && volume.cloudInitConfigDrive === undefined) continue;
    const method = noCloud ? 'noCloud' : 'configDrive';
    const keys = cloudInitPublicKeys(vmi, secretSourceDir, method);
    const resolved = withSecretData(volume, secretSourceDir ?? SecretSourceDir);
    const files = noCloud ? noCloudFiles(resolved, vmi, keys) : configDriveFiles(resolved, vmi, keys);
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
