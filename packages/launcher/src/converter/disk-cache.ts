// SetDriverCacheMode and SetOptimalIOMode: the disk settings that depend on where a disk sits, so the
// DomainManager applies them just before define (and each hotplug attach), as KubeVirt's preStartHook.
import { closeSync, constants, existsSync, openSync, rmSync } from 'node:fs';
import type { Disk } from '../api/index.ts';

/**
 * cache=none (O_DIRECT) where the disk and its backing file allow it, writethrough where they do not;
 * an explicit `none` that cannot work is an error. Empty CD-ROMs are left alone.
 */
export function setDriverCacheMode(disk: Disk, directIO: (path: string) => boolean): void {
  if (!disk.Driver) return;
  const path = disk.Source.File || disk.Source.Dev;
  if (path === '') {
    if (disk.Device === 'cdrom') return;
    throw new Error('unable to set a driver cache mode, disk is neither a block device nor a file');
  }
  const mode = disk.Driver.Cache;
  if (mode !== '' && mode !== 'none') return;
  let supported = directIO(path);
  const backing = disk.BackingStore?.Source?.File;
  if (backing) supported = supported && directIO(backing);
  if (mode === 'none' && !supported) {
    throw new Error(`Unable to use 'none' cache mode, file system where ${path} is stored does not support direct I/O`);
  }
  disk.Driver.Cache = supported ? 'none' : 'writethrough';
}

/**
 * directIOChecker.CheckFile: can `path` be opened with O_DIRECT (made and removed if absent)? Like
 * KubeVirt, a check that fails for another reason counts as no.
 */
export function supportsDirectIO(path: string): boolean {
  const created = !existsSync(path);
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_DIRECT | (created ? constants.O_CREAT : 0), 0o600));
    return true;
  } catch {
    return false;
  } finally {
    if (created) rmSync(path, { force: true });
  }
}

/**
 * SetOptimalIOMode: io=native (which needs O_DIRECT, cache=none) for a block device or a preallocated
 * image; io the VMI set stays, and nothing sets io=threads.
 */
export async function setOptimalIOMode(disk: Disk, isPreAllocated: (path: string) => Promise<boolean>): Promise<void> {
  if (disk.Driver?.IO !== '') return;
  const path = disk.Source.File || disk.Source.Dev;
  if (path === '' || disk.Driver.Cache !== 'none') return;
  if (disk.Type === 'block' || (await isPreAllocated(path))) disk.Driver.IO = 'native';
}
