// The disks KubeVirt's preStartHook (virtwrap/manager.go) makes before the domain is defined: each
// container disk's qcow2 overlay over its image (containerdisk.CreateEphemeralImages), each empty
// disk's sparse qcow2 (emptydisk.CreateTemporaryDisks) and the NoCloud ISO (cloudinit.GenerateLocalData).
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createVhostmdDisk, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  blockVolumePath,
  filesystemVolumePath,
  containerDiskFormat,
  containerDiskImagePath,
  containerDiskOverlayPath,
  downwardMetricDiskPath,
  emptyDiskPath,
  emptyDiskSize,
  noCloudFiles,
  noCloudISOPath,
  type NoCloudFiles,
  type ConverterContext,
} from './converter/index.ts';
import { cloudInitPublicKeys } from './access-credentials.ts';
import { createDataISO } from './iso.ts';

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
    } else if (volume.ephemeral) {
      // ephemeralDiskCreator.CreateEphemeralImages: the overlay, kept when it is there already
      const overlay = containerDiskOverlayPath(volume.name, ctx);
      if (!existsSync(overlay)) {
        const backing = ctx.isBlockPVC?.[volume.name] ? blockVolumePath(volume.name) : filesystemVolumePath(volume.name, ctx);
        mkdirSync(path.dirname(overlay), { recursive: true });
        await run('qemu-img', ['create', '-f', 'qcow2', '-b', backing, '-F', 'raw', overlay]);
        chmodSync(overlay, 0o640);
      }
    } else if (volume.emptyDisk) {
      const size = emptyDiskSize(volume, index);
      const file = emptyDiskPath(volume.name, ctx);
      if (!existsSync(file)) {
        mkdirSync(path.dirname(file), { recursive: true });
        await run('qemu-img', ['create', '-f', 'qcow2', file, String(size)]);
      }
    } else if (volume.downwardMetrics) {
      // CreateDownwardMetricDisk: the vhostmd disk virt-handler fills in
      const file = downwardMetricDiskPath(ctx);
      mkdirSync(path.dirname(file), { recursive: true });
      createVhostmdDisk(file);
    } else if (volume.cloudInitNoCloud) {
      const files =
        cloudInit?.volumeName === volume.name
          ? cloudInit.files
          : noCloudFiles(volume, vmi, cloudInitPublicKeys(vmi, ctx.secretSourceDir, 'noCloud'));
      await createDataISO(noCloudISOPath(vmi, ctx), 'cidata', {
        'user-data': files.userData,
        'meta-data': files.metaData,
        'network-config': files.networkData,
      });
    }
  }
}
