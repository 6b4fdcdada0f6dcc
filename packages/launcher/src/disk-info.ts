// pkg/os/disk (GetDiskInfoWithValidation, VerifyImage) and the containerDisk loop of KubeVirt's
// generateConverterContext: the launcher asks qemu-img what each containerDisk image is, under CPU and
// address-space limits (the image is the user's: a crafted one must not hang or exhaust the pod), and
// refuses what QEMU must not open as the read-only base of the overlay.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as z from 'zod/mini';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { containerDiskImagePath } from './converter/index.ts';

const run = promisify(execFile);

/** disk.QEMUIMGPath */
export const QEMUIMGPath = '/usr/bin/qemu-img';
/** cmd/virt-launcher's `--disk-memory-limit` default (virtconfig.DefaultDiskVerificationMemoryLimitBytes). */
export const DefaultDiskMemoryLimitBytes = 2000 * 1024 * 1024;
/** CPU seconds qemu-img may use on one image (`ulimit -t 10`). */
const QEMU_IMG_CPU_SECONDS = 10;

/** disk.DiskInfo */
export interface DiskInfo {
  format: string;
  backingFile: string;
  actualSize: number;
  virtualSize: number;
}

/** `qemu-img info --output json`, the fields disk.DiskInfo reads (json names as KubeVirt's tags). */
const qemuImgInfo = z.object({
  format: z.string(),
  'backing-filename': z.optional(z.string()),
  'actual-size': z.optional(z.number()),
  'virtual-size': z.optional(z.number()),
});

interface ExecError extends Error {
  code?: number | string;
  signal?: NodeJS.Signals | null;
  stderr?: string;
}

/** How Go's exec.ExitError prints: `exit status N`, or `signal: <name>` when a limit killed qemu-img. */
function exitText(err: ExecError): string {
  if (typeof err.code === 'number') return `exit status ${err.code}`;
  if (err.signal) return `signal: ${err.signal}`;
  return err.message;
}

/**
 * GetDiskInfoWithValidation: `qemu-img info` under `ulimit -t 10` and `ulimit -v <limit/1024>`, as
 * KubeVirt runs it through bash (the path is an argument here, never part of the script).
 */
export async function getDiskInfoWithValidation(
  imagePath: string,
  diskMemoryLimitBytes: number,
  qemuImgPath: string = QEMUIMGPath,
): Promise<DiskInfo> {
  const script = `ulimit -t ${QEMU_IMG_CPU_SECONDS} && ulimit -v "$1" && exec "$2" info "$3" --output json`;
  const limitKiB = Math.trunc(diskMemoryLimitBytes / 1024);
  let stdout: string;
  try {
    ({ stdout } = await run('bash', ['-c', script, 'qemu-img-info', String(limitKiB), qemuImgPath, imagePath], {
      encoding: 'utf8',
    }));
  } catch (err) {
    const e = err as ExecError;
    const stderr = e.stderr ?? '';
    if (stderr.length > 0) throw new Error(`failed to invoke qemu-img: ${exitText(e)}: '${stderr}'`);
    throw new Error(`failed to invoke qemu-img: ${exitText(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new Error(`failed to parse disk info: ${(err as Error).message}`);
  }
  const parsed = qemuImgInfo.safeParse(json);
  if (!parsed.success) throw new Error(`failed to parse disk info: ${z.prettifyError(parsed.error)}`);
  return {
    format: parsed.data.format,
    backingFile: parsed.data['backing-filename'] ?? '',
    actualSize: parsed.data['actual-size'] ?? 0,
    virtualSize: parsed.data['virtual-size'] ?? 0,
  };
}

/**
 * IsPreAllocated: GetDiskInfo (`qemu-img info`, no limits: the image is a claim's, not a container's)
 * says the image takes all of its virtual size. Anything failing counts as no.
 */
export async function isPreAllocated(imagePath: string, qemuImgPath: string = QEMUIMGPath): Promise<boolean> {
  try {
    const { stdout } = await run(qemuImgPath, ['info', imagePath, '--output', 'json'], { encoding: 'utf8' });
    const info = qemuImgInfo.parse(JSON.parse(stdout));
    return (info['virtual-size'] ?? 0) <= (info['actual-size'] ?? 0);
  } catch {
    return false;
  }
}

/** VerifyImage: raw, or qcow2 without a backing file (it would reach outside the container's image). */
export function verifyImage(info: DiskInfo): void {
  switch (info.format) {
    case 'qcow2':
      if (info.backingFile !== '') throw new Error(`expected no backing file, but found ${info.backingFile}`);
      return;
    case 'raw':
      return;
    default:
      throw new Error(`unsupported image format: ${info.format}`);
  }
}

/**
 * The launcher's disksInfo: each containerDisk volume's image, inspected once for the launcher's life
 * (the image a container brings does not change) and kept by volume name.
 */
export class ContainerDisksInfo {
  // no prototype: a volume may be named `constructor`
  readonly #byVolume: Record<string, DiskInfo> = Object.create(null) as Record<string, DiskInfo>;
  readonly #containerDiskDir: string;
  readonly #diskMemoryLimitBytes: number;
  readonly #qemuImgPath: string;

  constructor(opts: { containerDiskDir: string; diskMemoryLimitBytes?: number; qemuImgPath?: string }) {
    this.#containerDiskDir = opts.containerDiskDir;
    this.#diskMemoryLimitBytes = opts.diskMemoryLimitBytes ?? DefaultDiskMemoryLimitBytes;
    this.#qemuImgPath = opts.qemuImgPath ?? QEMUIMGPath;
  }

  /** The cache itself (the converter context holds it, as KubeVirt's `c.DisksInfo = l.disksInfo`). */
  get byVolume(): Readonly<Record<string, DiskInfo>> {
    return this.#byVolume;
  }

  /** Inspects and verifies every containerDisk volume of the VMI not inspected yet; throws KubeVirt's errors. */
  async update(vmi: VirtualMachineInstance): Promise<void> {
    for (const [index, volume] of (vmi.spec.volumes ?? []).entries()) {
      if (!volume.containerDisk || Object.hasOwn(this.#byVolume, volume.name)) continue;
      const image = containerDiskImagePath(index, { containerDiskDir: this.#containerDiskDir });
      let info: DiskInfo;
      try {
        info = await getDiskInfoWithValidation(image, this.#diskMemoryLimitBytes, this.#qemuImgPath);
      } catch (err) {
        throw new Error(`failed to get container disk info: ${(err as Error).message}`);
      }
      try {
        verifyImage(info);
      } catch (err) {
        throw new Error(`invalid image in containerDisk ${volume.name}: ${(err as Error).message}`);
      }
      this.#byVolume[volume.name] = info;
    }
  }
}
