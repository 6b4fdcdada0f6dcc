// The disks KubeVirt's preStartHook (virtwrap/manager.go) makes before the domain is defined: each
// container disk's qcow2 overlay over its image (containerdisk.CreateEphemeralImages), each empty
// disk's sparse qcow2 (emptydisk.CreateTemporaryDisks) and the NoCloud ISO (cloudinit.GenerateLocalData).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  containerDiskFormat,
  containerDiskImagePath,
  containerDiskOverlayPath,
  emptyDiskPath,
  emptyDiskSize,
  noCloudFiles,
  noCloudISOPath,
  type NoCloudFiles,
  type ConverterContext,
} from './converter/index.ts';
import { cloudInitPublicKeys } from './access-credentials.ts';

const run = promisify(execFile);

/** The cloud-init ISO's files, as the PreCloudInitIso hooks left them, for the volume they came from. */
export interface CloudInitISO {
  volumeName: string;
  files: NoCloudFiles;
}

/**
 * Container disk overlays, empty disks and the cloud-init ISO of the VMI's volumes, in volume order;
 * the NoCloud ISO from `cloudInit` when it is that volume's.
 */
export async function prepareDisks(vmi: VirtualMachineInstance, ctx: ConverterContext, cloudInit?: CloudInitISO): Promise<void> {
  for (const [index, volume] of (vmi.spec.volumes ?? []).entries()) {
    if (volume.containerDisk) {
      const image = containerDiskImagePath(index, ctx);
      if (!existsSync(image)) throw new Error(`container disk image ${image} of volume ${volume.name} does not exist`);
      const overlay = containerDiskOverlayPath(volume.name, ctx);
      mkdirSync(path.dirname(overlay), { recursive: true });
      rmSync(overlay, { force: true });
      await run('qemu-img', ['create', '-f', 'qcow2', '-b', image, '-F', containerDiskFormat(volume.name, ctx), overlay]);
    } else if (volume.emptyDisk) {
      const size = emptyDiskSize(volume, index);
      const file = emptyDiskPath(volume.name, ctx);
      if (!existsSync(file)) {
        mkdirSync(path.dirname(file), { recursive: true });
        await run('qemu-img', ['create', '-f', 'qcow2', file, String(size)]);
      }
    } else if (volume.cloudInitNoCloud) {
      const iso = noCloudISOPath(vmi, ctx);
      const staging = `${iso}.d`;
      const dir = path.join(staging, 'data');
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const files =
        cloudInit?.volumeName === volume.name
          ? cloudInit.files
          : noCloudFiles(volume, vmi, cloudInitPublicKeys(vmi, ctx.secretSourceDir, 'noCloud'));
      writeFileSync(path.join(dir, 'user-data'), files.userData);
      writeFileSync(path.join(dir, 'meta-data'), files.metaData);
      if (files.networkData !== undefined) writeFileSync(path.join(dir, 'network-config'), files.networkData);
      const built = path.join(staging, 'noCloud.iso');
      await run('genisoimage', ['-output', built, '-volid', 'cidata', '-joliet', '-rock', '-input-charset', 'utf-8', dir]);
      // renamed into place: a symlink planted at the ISO's path is replaced, never written through
      renameSync(built, iso);
      rmSync(staging, { recursive: true, force: true });
    }
  }
}
