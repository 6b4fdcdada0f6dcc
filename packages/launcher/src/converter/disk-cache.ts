// SetDriverCacheMode, SetOptimalIOMode and blockSize.matchVolume: the disk settings that depend on where
// a disk sits, so the DomainManager applies them just before define (and each hotplug attach).
import { closeSync, constants, existsSync, openSync, readFileSync, rmSync, statSync, statfsSync } from 'node:fs';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { BlockIO, Disk } from '../api/index.ts';

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

/**
 * blockSize.matchVolume (getOptimalBlockIO): a disk whose VMI disk asks for it (and sets no custom
 * size) takes the block sizes of its volume: a block device's own, from sysfs (what BLKSSZGET and
 * BLKPBSZGET answer), or the file system's block size for an image file.
 */
export function setBlockIOMatchingVolume(disk: Disk, vmi: VirtualMachineInstance): void {
  const vmiDisk = (vmi.spec.domain.devices?.disks ?? []).find((d) => d.name === disk.Alias?.Name);
  const match = vmiDisk?.blockSize?.matchVolume;
  if (!match || match.enabled === false || vmiDisk?.blockSize?.custom) return;
  try {
    if (disk.Source.Dev) disk.BlockIO = blockIOOfDevice(disk.Source.Dev);
    else if (disk.Source.File) {
      const size = Number(statfsSync(disk.Source.File).bsize);
      disk.BlockIO = { LogicalBlockSize: size, PhysicalBlockSize: size, DiscardGranularity: size };
    } else throw new Error('disk is neither a block device nor a file');
  } catch (err) {
    throw new Error(`failed to configure disk with block size detection enabled: ${(err as Error).message}`);
  }
}

function blockIOOfDevice(dev: string): BlockIO {
  // glibc's major()/minor() of the device number
  const rdev = statSync(dev, { bigint: true }).rdev;
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  const queue = `/sys/dev/block/${major}:${minor}/queue`;
  const read = (f: string) => Number(readFileSync(`${queue}/${f}`, 'utf8').trim());
  let logical = read('logical_block_size');
  let physical = read('physical_block_size');
  if (logical === 0 && physical === 0) throw new Error(`block sizes returned by device ${dev} are 0`);
  if (logical === 0) logical = physical;
  if (physical === 0) physical = logical;
  let discard = 0;
  try {
    discard = read('discard_granularity');
  } catch {
    // no discard granularity to read: discard off, as KubeVirt sets it
  }
  return { LogicalBlockSize: logical, PhysicalBlockSize: physical, DiscardGranularity: discard % logical === 0 ? discard : physical };
}
