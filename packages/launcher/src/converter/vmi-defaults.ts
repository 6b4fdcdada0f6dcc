// The defaults a VMI carries by the time KubeVirt's launcher sees it: the API's SetDefaults_* and the
// virt-api mutating webhook's. A VMI that went through KubeVirt's virt-api already has them and
// passes through unchanged; one created straight against the CRD gets them here.
import type { Disk, VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { ResolvedContext } from './context.ts';

export const DiskBusVirtio = 'virtio';
/** The webhook's CD-ROM bus on amd64. */
export const DefaultCDRomBus = 'sata';
/** The cluster's default binding for the pod network (virtconfig.DefaultNetworkInterface). */
export const DefaultNetworkInterface = 'bridge';

export function withDefaults(input: VirtualMachineInstance, ctx: ResolvedContext): VirtualMachineInstance {
  const vmi = structuredClone(input);
  const spec = vmi.spec;
  const domain = spec.domain;

  spec.architecture ||= ctx.architecture;

  // SetDefaults_Firmware draws a random UUID; the VMI's UID is as unique and stable across restarts
  domain.firmware ??= {};
  domain.firmware.uuid ||= vmi.metadata.uid;
  domain.features ??= {};

  domain.devices ??= {};
  const devices = domain.devices;
  const disks = (devices.disks ??= []);

  // SetDefaultVolumeDisk: every volume without a disk or filesystem gets a disk of its name
  const named = new Set([...disks, ...(devices.filesystems ?? [])].map((d) => d.name));
  for (const volume of spec.volumes ?? []) {
    if (!named.has(volume.name)) disks.push({ name: volume.name });
  }
  for (const disk of disks) setDefaultsDisk(disk);

  // the webhook's default pod network interface
  const interfaces = devices.interfaces ?? [];
  const networks = spec.networks ?? [];
  if (interfaces.length === 0 && networks.length === 0 && devices.autoattachPodInterface !== false) {
    devices.interfaces = [{ name: 'default', [DefaultNetworkInterface]: {} }];
    spec.networks = [{ name: 'default', pod: {} }];
  }
  return vmi;
}

function setDefaultsDisk(disk: Disk): void {
  // SetDefaults_DiskDevice
  if (!disk.disk && !disk.cdrom && !disk.lun) disk.disk = {};
  if (disk.disk) disk.disk.bus ||= DiskBusVirtio;
  if (disk.cdrom) {
    disk.cdrom.bus ||= DefaultCDRomBus;
    // SetDefaults_CDRomTarget
    disk.cdrom.readonly ??= true;
    disk.cdrom.tray ||= 'closed';
  }
}
