// Volume hotplug on the launcher's side (manager.go syncDisks): on each SyncVirtualMachine of a
// domain that exists, the hotplug disks (sources in the hotplug-disks directory, on the virtio or
// SCSI bus) the new spec lacks are detached, and those it adds are attached, live and persistent,
// once their image or device node can be opened. Disks are matched by target device.
import { constants, closeSync, openSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { DomainDeviceModifyFlags, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { diskCodec, type Disk } from './api/index.ts';
import { marshalXML } from './api/codec.ts';
import { isHotplugDiskSource, setDriverCacheMode, supportsDirectIO } from './converter/index.ts';

export type HotplugConnection = Pick<Connection, 'domainAttachDeviceFlags' | 'domainDetachDeviceFlags'>;

/** affectDeviceLiveAndConfigLibvirtFlags */
const LIVE_AND_CONFIG = DomainDeviceModifyFlags.LIVE | DomainDeviceModifyFlags.CONFIG;
/** The buses KubeVirt hotplugs disks on. */
const HOTPLUG_BUSES = new Set(['', 'virtio', 'scsi']);

const isHotplugDisk = (disk: Disk) => isHotplugDiskSource(disk.Source.File || disk.Source.Dev) && HOTPLUG_BUSES.has(disk.Target.Bus);

/** getDetachedDisks: hotplug disks of the running domain whose target the new spec does not have. */
export function detachedDisks(oldDisks: readonly Disk[], newDisks: readonly Disk[]): Disk[] {
  const wanted = new Set(newDisks.map((d) => d.Target.Device));
  return oldDisks.filter((d) => isHotplugDisk(d) && !wanted.has(d.Target.Device));
}

/** getAttachedDisks: hotplug disks of the new spec whose target the running domain does not have. */
export function attachedDisks(oldDisks: readonly Disk[], newDisks: readonly Disk[]): Disk[] {
  const present = new Set(oldDisks.map((d) => d.Target.Device));
  return newDisks.filter((d) => isHotplugDisk(d) && !present.has(d.Target.Device));
}

/** The <disk> element libvirt's attach/detach take; lowercased, as KubeVirt sends it. */
export function diskToXML(disk: Disk): string {
  return marshalXML(diskCodec, 'disk', disk).toLowerCase();
}

/**
 * checkIfDiskReadyToUse: a device node that opens read-only, an image that opens read-write; not yet
 * there means not yet (the next sync tries again).
 */
export function diskReadyToUse(file: string): boolean {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    closeSync(openSync(file, st.isBlockDevice() ? constants.O_RDONLY : constants.O_RDWR));
    return true;
  } catch {
    return false;
  }
}

/** syncDisks: detach what went, attach what came. */
export async function syncDisks(
  conn: HotplugConnection,
  dom: VirDomain,
  running: readonly Disk[],
  wanted: readonly Disk[],
  log: Logger,
  readyToUse: (file: string) => boolean = diskReadyToUse,
): Promise<void> {
  for (const disk of detachedDisks(running, wanted)) {
    log.info(`Detaching disk ${disk.Alias?.Name ?? ''}, target ${disk.Target.Device}`);
    await conn.domainDetachDeviceFlags(dom, diskToXML(disk), LIVE_AND_CONFIG);
  }
  for (const disk of attachedDisks(running, wanted)) {
    if (!readyToUse(disk.Source.File || disk.Source.Dev)) continue;
    log.info(`Attaching disk ${disk.Alias?.Name ?? ''}, target ${disk.Target.Device}`);
    const attach = structuredClone(disk);
    setDriverCacheMode(attach, supportsDirectIO);
    await conn.domainAttachDeviceFlags(dom, diskToXML(attach), LIVE_AND_CONFIG);
  }
}
