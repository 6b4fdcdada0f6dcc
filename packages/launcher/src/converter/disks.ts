// converter.go's disk half: each VMI disk with its volume becomes a domain disk (device, bus and
// target name, driver, source), in the VMI's order, aliased `ua-<disk name>`.
import type { Disk as VMIDisk, VirtualMachineInstance, Volume } from '@kubevirt-ts/shared';
import { diskCodec, diskDriverCodec, diskSourceCodec, newStruct, type Disk } from '../api/index.ts';
import { configDriveISOPath, noCloudISOPath } from './cloud-init.ts';
import type { ResolvedContext } from './context.ts';
import { containerDiskFormat, containerDiskImagePath, containerDiskOverlayPath } from './container-disk.ts';
import { emptyDiskPath } from './emptydisk.ts';
import { ConversionError } from './errors.ts';
import { virtioModel } from './virtio.ts';
import { requestedVCPUs } from './compute/cpu.ts';
import { userPCIAddress } from './pci-placement.ts';
import { diskIOThreads, ioThreadsPlan } from './iothreads.ts';
import {
  blockVolumePath,
  configDiskPath,
  configVolumeKind,
  downwardMetricDiskPath,
  filesystemVolumePath,
  hostDiskPath,
  hotplugBlockDevicePath,
  hotplugFilesystemPath,
} from './volume-paths.ts';

const DISK_BUSES = ['virtio', 'sata', 'scsi'];
/** KubeVirt's validation refuses a virtio CD-ROM */
const CDROM_BUSES = ['sata', 'scsi'];
const CACHE_MODES = new Set(['none', 'writethrough', 'writeback']);
/** v1.DriverIO */
const IO_MODES = new Set(['native', 'threads']);
/** v1.DiskErrorPolicy */
const ERROR_POLICIES = new Set(['stop', 'ignore', 'report', 'enospace']);

/** FormatDeviceName, a port of the kernel's sd naming: vda … vdz, vdaa … */
export function formatDeviceName(prefix: string, index: number): string {
  let name = '';
  for (let i = index; i >= 0; i = Math.floor(i / 26) - 1) name = String.fromCharCode(97 + (i % 26)) + name;
  return prefix + name;
}

function prefixFromBus(bus: string): string {
  return bus === 'virtio' ? 'vd' : 'sd';
}

/** KubeVirt's deviceNamer: targets recorded in status.volumeStatus stay; new disks take the next free name. */
class DeviceNamer {
  readonly #byPrefix = new Map<string, { names: Map<string, string>; used: Set<string> }>();

  constructor(vmi: VirtualMachineInstance) {
    const targets = new Map((vmi.status?.volumeStatus ?? []).filter((s) => s.target).map((s) => [s.name, s.target]));
    for (const disk of vmi.spec.domain.devices?.disks ?? []) {
      // a CD-ROM drive keeps its target too: its medium changes, the drive stays
      const bus = disk.disk ? (disk.disk.bus ?? 'virtio') : disk.cdrom ? (disk.cdrom.bus ?? 'sata') : undefined;
      if (bus === undefined) continue;
      const target = targets.get(disk.name);
      if (target === undefined) continue;
      const namer = this.#namer(prefixFromBus(bus));
      namer.names.set(disk.name, target);
      namer.used.add(target);
    }
  }

  #namer(prefix: string) {
    let namer = this.#byPrefix.get(prefix);
    if (!namer) this.#byPrefix.set(prefix, (namer = { names: new Map(), used: new Set() }));
    return namer;
  }

  name(diskName: string, bus: string): string {
    const prefix = prefixFromBus(bus);
    const namer = this.#namer(prefix);
    const existing = namer.names.get(diskName);
    if (existing !== undefined) return existing;
    for (let i = 0; ; i++) {
      const name = formatDeviceName(prefix, i);
      if (!namer.used.has(name)) {
        namer.names.set(diskName, name);
        namer.used.add(name);
        return name;
      }
    }
  }
}

/** v1.HotplugVolumeMounted and v1.VolumeReady: a hotplugged volume the handler has mounted into the pod. */
const HOTPLUG_READY_PHASES = new Set(['MountedToPod', 'Ready']);

export function convertDisks(vmi: VirtualMachineInstance, ctx: ResolvedContext): Disk[] | null {
  const volumes = vmi.spec.volumes ?? [];
  const namer = new DeviceNamer(vmi);
  // virt-controller's volume statuses: hotplugged volumes (with their phase), and the permanent rest
  const hotplug = new Map<string, string>();
  const permanent = new Set<string>();
  for (const s of vmi.status?.volumeStatus ?? []) {
    if (s.hotplugVolume) hotplug.set(s.name, s.phase ?? '');
    else permanent.add(s.name);
  }
  // blockMultiQueue: a queue per vCPU on each virtio disk
  const blkQueues = vmi.spec.domain.devices?.blockMultiQueue ? Math.max(1, requestedVCPUs(vmi)) : null;
  const ioThreads = diskIOThreads(vmi, ioThreadsPlan(vmi));
  const disks: Disk[] = [];
  for (const [i, vmiDisk] of (vmi.spec.domain.devices?.disks ?? []).entries()) {
    const path = `spec.domain.devices.disks[${i}]`;
    const disk = convertDiskDevice(vmi, vmiDisk, namer, path, ctx.preallocatedVolumes);
    if (blkQueues !== null && disk.Target.Bus === 'virtio' && disk.Driver) disk.Driver.Queues = blkQueues;
    const ioThread = ioThreads.get(vmiDisk.name);
    if (ioThread !== undefined && disk.Driver) {
      if (typeof ioThread === 'number') disk.Driver.IOThread = ioThread;
      else disk.Driver.IOThreads = ioThread;
    }
    const index = volumes.findIndex((v) => v.name === vmiDisk.name);
    const volume = volumes[index];
    const hotplugPhase = hotplug.get(vmiDisk.name);
    if (!volume) {
      if (!vmiDisk.cdrom) {
        throw new ConversionError(`${path}.name`, `no matching volume with name ${vmiDisk.name} found`);
      }
      // Convert_v1_Missing_Volume_To_api_Disk: an empty CD-ROM drive
      disk.Type = 'block';
      setDiskDriver(disk, 'raw', true);
    } else if (hotplugPhase !== undefined) {
      convertHotplugVolume(volume, index, disk, ctx);
    } else {
      convertVolume(vmi, volume, index, disk, ctx);
    }
    setErrorPolicy(vmiDisk, disk, path);
    // a VMI without volume statuses is not started yet: every disk; else the permanent ones, and the
    // hotplugged ones once mounted into the pod (the sync that sees them attaches them)
    const permanentReady = permanent.has(vmiDisk.name) || permanent.size === 0;
    const hotplugReady = hotplugPhase !== undefined && HOTPLUG_READY_PHASES.has(hotplugPhase);
    if (permanentReady || hotplugReady || !volume) disks.push(disk);
  }
  return disks.length > 0 ? disks : null;
}

/** convert_v1_Hotplug_Volume_To_api_Disk: the claim's image or device node virt-handler put in hotplug-disks. */
function convertHotplugVolume(volume: Volume, index: number, disk: Disk, ctx: ResolvedContext): void {
  if (!volume.persistentVolumeClaim && !volume.dataVolume) {
    throw new ConversionError(`spec.volumes[${index}]`, `hotplug disk ${volume.name} references an unsupported source`);
  }
  const block = volume.persistentVolumeClaim ? ctx.isBlockPVC[volume.name] : ctx.isBlockDV[volume.name];
  setDiskDriver(disk, 'raw', !ctx.preallocatedVolumes.includes(volume.name));
  if (block) {
    disk.Type = 'block';
    disk.Source = newStruct(diskSourceCodec, { Dev: hotplugBlockDevicePath(volume.name) });
  } else {
    disk.Type = 'file';
    disk.Source = newStruct(diskSourceCodec, { File: hotplugFilesystemPath(volume.name) });
  }
}

/** Convert_v1_Disk_To_api_Disk */
function convertDiskDevice(
  vmi: VirtualMachineInstance,
  vmiDisk: VMIDisk,
  namer: DeviceNamer,
  path: string,
  discardIgnore: readonly string[],
): Disk {
  const disk = newStruct(diskCodec, { Alias: { Name: vmiDisk.name, UserDefined: true } });
  if (vmiDisk.disk) {
    const bus = checkBus(vmiDisk.disk.bus ?? 'virtio', DISK_BUSES, `${path}.disk.bus`);
    disk.Device = 'disk';
    disk.Target = { Bus: bus, Device: namer.name(vmiDisk.name, bus), Tray: '' };
    if (bus === 'scsi') disk.Address = scsiAddress(disk.Target.Device);
    if (vmiDisk.disk.pciAddress) {
      if (bus !== 'virtio') {
        throw new ConversionError(
          `${path}.disk.pciAddress`,
          `setting a pci address is not allowed for non-virtio bus types, for disk ${vmiDisk.name}`,
        );
      }
      disk.Address = userPCIAddress(vmiDisk.disk.pciAddress, `${path}.disk.pciAddress`, `disk ${vmiDisk.name}`);
    }
    if (bus === 'virtio') disk.Model = virtioModel(vmi);
    if (vmiDisk.disk.readonly) disk.ReadOnly = {};
    disk.Serial = vmiDisk.serial ?? '';
    if (vmiDisk.shareable) {
      // a disk shared with other VMs must not be cached on this host
      if ((vmiDisk.cache ?? 'none') !== 'none') {
        throw new ConversionError(`${path}.cache`, `a sharable disk requires cache = none got: ${vmiDisk.cache}`);
      }
      disk.Shareable = {};
    }
  } else if (vmiDisk.cdrom) {
    const bus = checkBus(vmiDisk.cdrom.bus ?? 'sata', CDROM_BUSES, `${path}.cdrom.bus`);
    disk.Device = 'cdrom';
    disk.Target = { Bus: bus, Device: namer.name(vmiDisk.name, bus), Tray: vmiDisk.cdrom.tray ?? '' };
    if (vmiDisk.cdrom.readonly !== false) disk.ReadOnly = {};
  }
  const cache = vmiDisk.cache ?? (disk.Shareable ? 'none' : '');
  if (cache !== '' && !CACHE_MODES.has(cache)) {
    throw new ConversionError(`${path}.cache`, `${JSON.stringify(cache)} is not one of none, writethrough, writeback`);
  }
  const io = vmiDisk.io ?? '';
  if (io !== '' && !IO_MODES.has(io)) throw new ConversionError(`${path}.io`, `${JSON.stringify(io)} is not one of native, threads`);
  // preallocated (thick) volumes keep their blocks: no unmap for them
  const discard = Boolean(vmiDisk.disk) && !discardIgnore.includes(vmiDisk.name);
  disk.Driver = newStruct(diskDriverCodec, { Name: 'qemu', Cache: cache, IO: io, Discard: discard ? 'unmap' : '' });
  // convert_v1_BlockSize_To_api_BlockIO: custom sizes here; matchVolume's are read from the volume
  // before define (setBlockIOMatchingVolume), where the volume is
  const custom = vmiDisk.blockSize?.custom;
  if (custom) {
    disk.BlockIO = {
      LogicalBlockSize: custom.logical,
      PhysicalBlockSize: custom.physical,
      DiscardGranularity: custom.discardGranularity ?? null,
    };
  }
  if (vmiDisk.bootOrder !== undefined) {
    if (vmiDisk.bootOrder < 1) throw new ConversionError(`${path}.bootOrder`, 'must be greater than 0');
    disk.BootOrder = { Order: vmiDisk.bootOrder };
  }
  return disk;
}

/** setErrorPolicy: what the guest sees on an I/O error; by default it is paused. */
function setErrorPolicy(vmiDisk: VMIDisk, disk: Disk, path: string): void {
  const policy = vmiDisk.errorPolicy ?? 'stop';
  if (!ERROR_POLICIES.has(policy)) throw new ConversionError(`${path}.errorPolicy`, `error policy ${policy} not recognized`);
  (disk.Driver ??= newStruct(diskDriverCodec, { Name: 'qemu' })).ErrorPolicy = policy;
}

function checkBus(bus: string, allowed: readonly string[], path: string): string {
  if (!allowed.includes(bus)) {
    throw new ConversionError(path, `${JSON.stringify(bus)} is not one of ${allowed.join(', ')}`);
  }
  return bus;
}

/** assignDiskToSCSIController: unit = the target's index, on controller 0 bus 0. */
function scsiAddress(device: string): Disk['Address'] {
  let unit = 0;
  for (const c of device.slice(2)) unit = unit * 26 + (c.charCodeAt(0) - 96);
  return {
    Type: 'drive',
    Domain: '',
    Bus: '0',
    Slot: '',
    Function: '',
    Controller: '0',
    Target: '',
    Unit: String(unit - 1),
    UUID: '',
    Device: '',
    CSSID: '',
    SSID: '',
    DevNo: '',
  };
}

/** setDiskDriver */
function setDiskDriver(disk: Disk, type: string, discard: boolean): void {
  const driver = (disk.Driver ??= newStruct(diskDriverCodec, { Name: 'qemu' }));
  driver.Type = type;
  driver.ErrorPolicy = 'stop';
  if (discard) driver.Discard = 'unmap';
}

/** Convert_v1_Volume_To_api_Disk for the volume sources this converter supports. */
function convertVolume(vmi: VirtualMachineInstance, volume: Volume, index: number, disk: Disk, ctx: ResolvedContext): void {
  const path = `spec.volumes[${index}]`;
  const configKind = configVolumeKind(volume);
  if (volume.containerDisk) {
    // a qcow2 overlay in the ephemeral disk dir over the read-only image the container brought
    disk.Type = 'file';
    setDiskDriver(disk, 'qcow2', true);
    disk.Source = newStruct(diskSourceCodec, { File: containerDiskOverlayPath(volume.name, ctx) });
    disk.BackingStore = {
      Type: 'file',
      Format: { Type: containerDiskFormat(volume.name, ctx) },
      Source: newStruct(diskSourceCodec, { File: containerDiskImagePath(index, ctx) }),
    };
  } else if (volume.cloudInitNoCloud) {
    disk.Type = 'file';
    disk.Source = newStruct(diskSourceCodec, { File: noCloudISOPath(vmi, ctx) });
    setDiskDriver(disk, 'raw', false);
  } else if (volume.emptyDisk) {
    disk.Type = 'file';
    disk.Source = newStruct(diskSourceCodec, { File: emptyDiskPath(volume.name, ctx) });
    setDiskDriver(disk, 'qcow2', true);
  } else if (volume.cloudInitConfigDrive) {
    disk.Type = 'file';
    disk.Source = newStruct(diskSourceCodec, { File: configDriveISOPath(vmi, ctx) });
    setDiskDriver(disk, 'raw', false);
  } else if (volume.ephemeral) {
    // convert_v1_EphemeralVolumeSource_To_api_Disk: a qcow2 overlay the guest writes to, over the
    // claim's raw image or block device, which stays as it was
    disk.Type = 'file';
    setDiskDriver(disk, 'qcow2', true);
    disk.Source = newStruct(diskSourceCodec, { File: containerDiskOverlayPath(volume.name, ctx) });
    const block = ctx.isBlockPVC[volume.name];
    disk.BackingStore = {
      Type: block ? 'block' : 'file',
      Format: { Type: 'raw' },
      Source: block
        ? newStruct(diskSourceCodec, { Name: volume.name, Dev: blockVolumePath(volume.name) })
        : newStruct(diskSourceCodec, { File: filesystemVolumePath(volume.name, ctx) }),
    };
  } else if (volume.persistentVolumeClaim || volume.dataVolume) {
    // a raw image on the claim's file system, or the claim's block device
    const block = volume.persistentVolumeClaim ? ctx.isBlockPVC[volume.name] : ctx.isBlockDV[volume.name];
    setDiskDriver(disk, 'raw', !ctx.preallocatedVolumes.includes(volume.name));
    if (block) {
      disk.Type = 'block';
      disk.Source = newStruct(diskSourceCodec, { Name: volume.name, Dev: blockVolumePath(volume.name) });
    } else {
      disk.Type = 'file';
      disk.Source = newStruct(diskSourceCodec, { File: filesystemVolumePath(volume.name, ctx) });
    }
  } else if (volume.hostDisk) {
    const hostDisk = volume.hostDisk as { path?: unknown };
    if (typeof hostDisk.path !== 'string' || hostDisk.path === '') {
      throw new ConversionError(`${path}.hostDisk.path`, 'hostDisk path is required');
    }
    disk.Type = 'file';
    disk.Source = newStruct(diskSourceCodec, { File: hostDiskPath(volume.name, hostDisk.path, ctx) });
    (disk.Driver ??= newStruct(diskDriverCodec, { Name: 'qemu' })).Type = 'raw';
    disk.Driver.ErrorPolicy = 'stop';
  } else if (volume.downwardMetrics) {
    // convert_v1_DownwardMetricSource_To_api_Disk: vhostmd's disk, read-only, always virtio
    disk.Type = 'file';
    disk.ReadOnly = {};
    disk.Driver = newStruct(diskDriverCodec, { Name: 'qemu', Type: 'raw' });
    disk.Model = virtioModel(vmi);
    disk.Source = newStruct(diskSourceCodec, { File: downwardMetricDiskPath(ctx) });
  } else if (configKind) {
    // the ISO the DomainManager builds from the mounted files
    disk.Type = 'file';
    disk.Source = newStruct(diskSourceCodec, { File: configDiskPath(configKind, volume.name, ctx) });
    setDiskDriver(disk, 'raw', false);
  } else {
    throw new ConversionError(path, `volume ${volume.name} has no source this launcher supports`);
  }
}
