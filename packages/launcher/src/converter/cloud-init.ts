// pkg/cloud-init for the NoCloud data source: where the `cidata` ISO goes and the three files in it.
// The DomainManager writes the files and builds the ISO (volume id `cidata`, Joliet + Rock Ridge).
import { posix } from 'node:path';
import type { VirtualMachineInstance, Volume } from '@kubevirt-ts/shared';
import type { ConverterContext } from './context.ts';
import { ConversionError } from './errors.ts';

export const NoCloudVolumeID = 'cidata';

/** GetIsoFilePath(noCloud): `<ephemeralDiskDir>/cloud-init-data/<namespace>/<name>/noCloud.iso`. */
export function noCloudISOPath(vmi: Pick<VirtualMachineInstance, 'metadata'>, ctx: Pick<ConverterContext, 'ephemeralDiskDir'>): string {
  return posix.join(ctx.ephemeralDiskDir, 'cloud-init-data', vmi.metadata.namespace, vmi.metadata.name, 'noCloud.iso');
}

export interface NoCloudFiles {
  /** `user-data` */
  userData: string;
  /** `meta-data`: NoCloudMetadata as JSON, `{"instance-id":…,"local-hostname":…}` */
  metaData: string;
  /** `network-config`, only when the volume has network data */
  networkData?: string;
}

/**
 * The files of the NoCloud ISO (ReadCloudInitVolumeDataSource + GenerateLocalData). The instance id
 * is the firmware UUID, the hostname dns.SanitizeHostname's.
 */
export function noCloudFiles(volume: Volume, vmi: VirtualMachineInstance, publicKeys?: ReadonlyMap<string, string>): NoCloudFiles {
  const source = volume.cloudInitNoCloud;
  const index = (vmi.spec.volumes ?? []).findIndex((v) => v.name === volume.name);
  const path = `spec.volumes[${Math.max(index, 0)}].cloudInitNoCloud`;
  if (!source) throw new ConversionError(path, `volume ${volume.name} is not a cloudInitNoCloud volume`);
  const userData = rawOrBase64(source.userData, source.userDataBase64, `${path}.userDataBase64`);
  const networkData = rawOrBase64(source.networkData, source.networkDataBase64, `${path}.networkDataBase64`);
  if (userData === '' && networkData === '') {
    throw new ConversionError(path, 'userDataBase64, userData, networkDataBase64 or networkData is required for a cloud-init data source');
  }
  const metaData = withPublicKeys(
    JSON.stringify({ 'instance-id': firmwareUUID(vmi), 'local-hostname': sanitizeHostname(vmi) }),
    'public-keys',
    publicKeys,
  );
  return networkData === '' ? { userData, metaData } : { userData, metaData, networkData };
}

/**
 * The metadata's PublicSSHKeys (omitempty) appended as Go's encoding/json writes a map: keys sorted
 * as strings ("10" before "2"), `<`, `>` and `&` escaped.
 */
/** cloudinit.DeviceData: a tagged device's address in the guest, for ConfigDriveMetadata.devices. */
export interface DeviceData {
  type: 'nic' | 'hostdev';
  bus: string;
  address: string;
  mac?: string;
  tags: string[];
}

/**
 * ConfigDriveMetadata with its `devices` (set once the domain is defined): placed after `uuid` and before
 * `public_keys`, in the struct's order. Go escapes <, > and & in JSON strings, and so does this.
 */
export function withDevices(metaData: string, devices: readonly DeviceData[]): string {
  const json = JSON.stringify(
    devices.map((d) => ({ type: d.type, bus: d.bus, address: d.address, ...(d.mac ? { mac: d.mac } : {}), tags: d.tags })),
  ).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const keys = metaData.indexOf(',"public_keys":');
  return keys >= 0 ? `${metaData.slice(0, keys)},"devices":${json}${metaData.slice(keys)}` : `${metaData.slice(0, -1)},"devices":${json}}`;
}

function withPublicKeys(json: string, field: string, keys: ReadonlyMap<string, string> | undefined): string {
  if (!keys || keys.size === 0) return json;
  const goString = (s: string) =>
    JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const entries = [...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${goString(k)}:${goString(v)}`);
  return `${json.slice(0, -1)},${goString(field)}:{${entries.join(',')}}}`;
}

function rawOrBase64(raw: string | undefined, base64: string | undefined, path: string): string {
  if (raw) return raw;
  if (!base64) return '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new ConversionError(path, 'illegal base64 data');
  }
  return Buffer.from(base64, 'base64').toString('utf8');
}

/** dns.SanitizeHostname: spec.hostname, else the VMI name up to its first dot, at most 63 characters. */
export function sanitizeHostname(vmi: Pick<VirtualMachineInstance, 'metadata' | 'spec'>): string {
  if (vmi.spec.hostname) return vmi.spec.hostname;
  return (vmi.metadata.name.split('.')[0] ?? '').slice(0, 63);
}

/** The VMI's firmware UUID, defaulted to its UID as this port's defaulting does (vmi-defaults.ts). */
export function firmwareUUID(vmi: Pick<VirtualMachineInstance, 'metadata' | 'spec'>): string {
  return vmi.spec.domain.firmware?.uuid || vmi.metadata.uid;
}

export const ConfigDriveVolumeID = 'config-2';

/** GetIsoFilePath(configDrive): `<ephemeralDiskDir>/cloud-init-data/<namespace>/<name>/configdrive.iso`. */
export function configDriveISOPath(vmi: Pick<VirtualMachineInstance, 'metadata'>, ctx: Pick<ConverterContext, 'ephemeralDiskDir'>): string {
  return posix.join(ctx.ephemeralDiskDir, 'cloud-init-data', vmi.metadata.namespace, vmi.metadata.name, 'configdrive.iso');
}

/** The files of the ConfigDrive ISO, under `openstack/latest/` (GenerateLocalData for configDrive). */
export interface ConfigDriveFiles {
  /** `user_data` */
  userData: string;
  /** `meta_data.json`: ConfigDriveMetadata, `{"instance_id":"<name>.<namespace>","hostname":…,"uuid":…}` */
  metaData: string;
  /** `network_data.json`, only when the volume has network data */
  networkData?: string;
}

export function configDriveFiles(volume: Volume, vmi: VirtualMachineInstance, publicKeys?: ReadonlyMap<string, string>): ConfigDriveFiles {
  const source = volume.cloudInitConfigDrive;
  const index = (vmi.spec.volumes ?? []).findIndex((v) => v.name === volume.name);
  const path = `spec.volumes[${Math.max(index, 0)}].cloudInitConfigDrive`;
  if (!source) throw new ConversionError(path, `volume ${volume.name} is not a cloudInitConfigDrive volume`);
  const userData = rawOrBase64(source.userData, source.userDataBase64, `${path}.userDataBase64`);
  const networkData = rawOrBase64(source.networkData, source.networkDataBase64, `${path}.networkDataBase64`);
  if (userData === '' && networkData === '') {
    throw new ConversionError(path, 'userDataBase64, userData, networkDataBase64 or networkData is required for a cloud-init data source');
  }
  const metaData = withPublicKeys(
    JSON.stringify({
      instance_id: `${vmi.metadata.name}.${vmi.metadata.namespace}`,
      hostname: sanitizeHostname(vmi),
      uuid: firmwareUUID(vmi),
    }),
    'public_keys',
    publicKeys,
  );
  return networkData === '' ? { userData, metaData } : { userData, metaData, networkData };
}
