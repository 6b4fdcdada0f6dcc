// KubeVirt's virtwrap/converter: VMI → DomainSpec, and the paths of what the domain refers to.
export { convertVMIToDomainSpec } from './converter.ts';
export { DefaultSMBios, type ConverterContext, type SMBios } from './context.ts';
export { ConversionError } from './errors.ts';
export { NOT_CONVERTED_FIELDS, SUPPORTED_FIELDS } from './supported-fields.ts';
export {
  containerDiskFormat,
  containerDiskImagePath,
  containerDiskOverlayPath,
  kernelBootArtifactPath,
} from './container-disk.ts';
export { emptyDiskPath, emptyDiskSize } from './emptydisk.ts';
export { NoCloudVolumeID, noCloudFiles, noCloudISOPath, type NoCloudFiles } from './cloud-init.ts';
export { GuestAgentChannelName } from './compute/channels.ts';
export { DefaultGracePeriodSeconds, gracePeriodSeconds } from './compute/metadata.ts';
export { quantityToBytes } from './quantity.ts';
export { parseQuantity } from '@kubevirt-ts/shared';
export { setBlockIOMatchingVolume, setDriverCacheMode, setOptimalIOMode, supportsDirectIO } from './disk-cache.ts';
export {
  ConfigDriveVolumeID,
  configDriveFiles,
  configDriveISOPath,
  withDevices,
  type ConfigDriveFiles,
  type DeviceData,
} from './cloud-init.ts';
export { detectEFIEnvironment, type EFIEnvironment } from './efi.ts';
export {
  blockVolumePath,
  configDiskPath,
  configSourceDir,
  configVolumeKind,
  configVolumeLabel,
  downwardMetricDiskPath,
  filesystemVolumePath,
  hostDiskPath,
  hotplugBlockDevicePath,
  hotplugFilesystemPath,
  isHotplugDiskSource,
  type ConfigVolumeKind,
} from './volume-paths.ts';
