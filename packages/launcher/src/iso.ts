// The ISOs KubeVirt's launcher makes with xorrisofs, with its options (Joliet, Rock Ridge, the image
// padded to whole cylinders): config volumes (config.go's createISOImage) and the cloud-init data
// source (cloud-init.go's GenerateLocalData). Each is written beside its path and renamed into place,
// so a symlink planted at the ISO's path is replaced, never written through.
import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** createISOImage: an ISO of `graftPoints` (`name=source`, links followed); none makes an empty ISO. */
export async function createISOImage(iso: string, volumeID: string, graftPoints: readonly string[]): Promise<void> {
  const staging = `${iso}.staging`;
  mkdirSync(path.dirname(iso), { recursive: true });
  rmSync(staging, { force: true });
  await run('xorrisofs', [
    ...['-output', staging, '-follow-links', '-volid', volumeID, '-joliet', '-rock', '-graft-points'],
    ...['-partition_cyl_align', 'on', ...graftPoints],
  ]);
  renameSync(staging, iso);
}

/** GenerateLocalData's ISO: `files` (path in the ISO → content, mode 0600) staged in a directory beside it. */
export async function createDataISO(iso: string, volumeID: string, files: Readonly<Record<string, string | undefined>>): Promise<void> {
  const staging = `${iso}.staging`;
  const data = `${iso}.d`;
  rmSync(data, { recursive: true, force: true });
  rmSync(staging, { force: true });
  try {
    for (const [name, content] of Object.entries(files)) {
      if (content === undefined) continue;
      mkdirSync(path.dirname(path.join(data, name)), { recursive: true });
      writeFileSync(path.join(data, name), content, { mode: 0o600 });
    }
    await run('xorrisofs', ['-output', staging, '-volid', volumeID, '-joliet', '-rock', '-partition_cyl_align', 'on', data]);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
  renameSync(staging, iso);
}
