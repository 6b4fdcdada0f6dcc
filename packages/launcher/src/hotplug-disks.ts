// Volume hotplug on the launcher's side (manager.go syncDisks): on each SyncVirtualMachine of a
// domain that exists, the hotplug disks (sources in the hotplug-disks directory, on the virtio or
// SCSI bus) the new spec lacks are detached, and those it adds are attached, live and persistent,
// once their image or device node can be opened; a CD-ROM drive whose medium is a hotplugged volume
// or none gets the new medium inserted, or is ejected (DeclarativeHotplugVolumes). Disks are matched
// by target device.
import { isDeepStrictEqual } from 'node:util';
import { constants, closeSync, openSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { DomainDeviceModifyFlags, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { diskCodec, diskDriverCodec, diskSourceCodec, newStruct, type Disk, type DiskSource } from './api/index.ts';
import { marshalXML } from './api/codec.ts';
import { isHotplugDiskSource, setDriverCacheMode, setOptimalIOMode, supportsDirectIO } from './converter/index.ts';
import { isPreAllocated } from './disk-info.ts';

export type HotplugConnection = Pick<Connection, 'domainAttachDeviceFlags' | 'domainDetachDeviceFlags' | 'domainUpdateDeviceFlags'>;

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

/**
 * disksource.Resolve(disk).BackendPath(): the file or device node the disk's data is in (a data
 * store's, when the source is an overlay over one); '' for a drive without a medium.
 */
export function backendPath(disk: Disk | undefined): string {
  if (!disk) return '';
  const store = disk.Source.DataStore?.Source;
  if (store && (store.File !== '' || store.Dev !== '')) return store.File || store.Dev;
  return disk.Source.File || disk.Source.Dev;
}

/** ResolvedDiskSource.IsHotplugOrEmpty: a medium virt-handler put in hotplug-disks, or none at all. */
function isHotplugOrEmpty(disk: Disk | undefined): boolean {
  const backend = backendPath(disk);
  return backend === '' || isHotplugDiskSource(backend);
}

/** equality.Semantic.DeepEqual: as deep equality, with an empty list the same as none. */
function semanticEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(withoutEmptyLists(a), withoutEmptyLists(b));
}

function withoutEmptyLists(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? null : v.map(withoutEmptyLists);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutEmptyLists(x)]));
}

/**
 * getUpdatedDisks: the CD-ROM drives of the running domain whose medium changes. Only a drive whose
 * medium is hotplugged or absent, on both sides, counts (a drive the new spec lacks loses its medium);
 * each comes back as the running drive with the new source (none: an eject), its type following the
 * source (a file, else a block device) and a raw driver.
 */
export function updatedDisks(oldDisks: readonly Disk[], newDisks: readonly Disk[]): Disk[] {
  const byTarget = new Map(newDisks.map((d) => [d.Target.Device, d]));
  const updates: Disk[] = [];
  for (const oldDisk of oldDisks) {
    const newDisk = byTarget.get(oldDisk.Target.Device);
    // only CD-ROM media are changed
    if (oldDisk.Device !== 'cdrom' || (newDisk && newDisk.Device !== 'cdrom')) continue;
    if (!isHotplugOrEmpty(oldDisk) || !isHotplugOrEmpty(newDisk)) continue;
    const newSource: DiskSource = newDisk ? newDisk.Source : newStruct(diskSourceCodec);
    if (semanticEqual(oldDisk.Source, newSource)) continue;
    const update = structuredClone(oldDisk);
    update.Source = backendPath(newDisk) === '' ? newStruct(diskSourceCodec) : structuredClone(newSource);
    update.Type = update.Source.File !== '' ? 'file' : 'block';
    update.Driver ??= newStruct(diskDriverCodec);
    update.Driver.Type = 'raw';
    updates.push(update);
  }
  return updates;
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

/**
 * syncDisks: detach what went, attach what came, change the CD-ROM media that changed. Resolves to
 * the number of media changed: libvirt raises no device event for those.
 */
export async function syncDisks(
  conn: HotplugConnection,
  dom: VirDomain,
  running: readonly Disk[],
  wanted: readonly Disk[],
  log: Logger,
  readyToUse: (file: string) => boolean = diskReadyToUse,
): Promise<number> {
  for (const disk of detachedDisks(running, wanted)) {
    log.info(`Detaching disk ${disk.Alias?.Name ?? ''}, target ${disk.Target.Device}`);
    await conn.domainDetachDeviceFlags(dom, diskToXML(disk), LIVE_AND_CONFIG);
  }
  for (const disk of attachedDisks(running, wanted)) {
    if (!readyToUse(disk.Source.File || disk.Source.Dev)) continue;
    log.info(`Attaching disk ${disk.Alias?.Name ?? ''}, target ${disk.Target.Device}`);
    const attach = structuredClone(disk);
    setDriverCacheMode(attach, supportsDirectIO);
    await setOptimalIOMode(attach, isPreAllocated);
    await conn.domainAttachDeviceFlags(dom, diskToXML(attach), LIVE_AND_CONFIG);
  }
  let changed = 0;
  for (const disk of updatedDisks(running, wanted)) {
    // an inserted medium waits until it can be opened; an eject never waits
    const backend = backendPath(disk);
    if (backend !== '' && !readyToUse(backend)) continue;
    log.info(`Updating disk ${disk.Alias?.Name ?? ''}, target ${disk.Target.Device}`);
    await conn.domainUpdateDeviceFlags(dom, diskToXML(disk), LIVE_AND_CONFIG);
    changed++;
  }
  return changed;
}
