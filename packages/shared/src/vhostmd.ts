// vhostmd's metrics disk (downwardmetrics/vhostmd), the downwardMetrics volume: a 256 KiB raw file
// the guest reads, a big-endian header (signature "mvbd", flag, checksum, body length) and the
// metrics XML. The launcher creates it with no metrics; virt-handler rewrites it every 5 s, setting the
// flag while it writes so that a reader never takes a half-written body.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { VirtPrivateDir } from './sockets.ts';

/** config.DownwardMetricDisk */
export const DownwardMetricDisk = posix.join(VirtPrivateDir, 'downwardapi-disks', 'vhostmd0');
/** fileSize */
export const VHOSTMD_DISK_SIZE = 262144;
const HEADER_SIZE = 16;
/** maxBodyLength */
const MAX_BODY_LENGTH = VHOSTMD_DISK_SIZE - 24;

function header(flag: number, checksum: number, length: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.write('mvbd', 0, 'latin1');
  h.writeInt32BE(flag, 4);
  h.writeInt32BE(checksum, 8);
  h.writeInt32BE(length, 12);
  return h;
}

/** writeDisk: the header locked (flag 1), the body, then the header unlocked; `xml` gets its newline here. */
export function writeVhostmdDisk(fd: number, xml: string): void {
  const body = Buffer.from(`${xml}\n`);
  if (body.length > MAX_BODY_LENGTH) {
    throw new Error(`vhostmd metrics body is too big, expected a maximum of ${MAX_BODY_LENGTH}, got ${body.length}`);
  }
  // an int32 sum of the bytes, wrapping as Go's does
  let checksum = 0;
  for (const b of body) checksum = (checksum + b) | 0;
  writeSync(fd, header(1, checksum, body.length), 0, HEADER_SIZE, 0);
  fsyncSync(fd);
  writeSync(fd, body, 0, body.length, HEADER_SIZE);
  writeSync(fd, header(0, checksum, body.length), 0, HEADER_SIZE, 0);
}

/** createDisk: the file at its full size, holding no metrics yet. */
export function createVhostmdDisk(file: string): void {
  const fd = openSync(file, 'w+', 0o755);
  try {
    writeSync(fd, Buffer.alloc(1), 0, 1, VHOSTMD_DISK_SIZE - 1);
    writeVhostmdDisk(fd, '<metrics></metrics>');
  } finally {
    closeSync(fd);
  }
}
