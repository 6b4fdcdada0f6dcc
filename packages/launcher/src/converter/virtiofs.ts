// storage.VirtiofsConfigurator: each virtiofs filesystem of the VMI becomes a vhost-user-fs device
// whose daemon is the pod's `virtiofs-<name>` container, reached through its socket in the
// virtiofs-containers emptyDir; the guest mounts it by the tag `<name>`.
import { virtioFSSocketPath } from '@kubevirt-ts/shared';
import { filesystemDeviceCodec, newStruct } from '../api/index.ts';
import type { DomainConfigurator } from './configurator.ts';

/** KubeVirt's virtqueue size for every virtiofs device. */
export const VirtiofsQueueSize = '1024';

export const configureVirtiofs: DomainConfigurator = (vmi, spec) => {
  for (const fs of vmi.spec.domain.devices?.filesystems ?? []) {
    if (fs.virtiofs == null) continue;
    spec.Devices.Filesystems ??= [];
    spec.Devices.Filesystems.push(
      newStruct(filesystemDeviceCodec, {
        Type: 'mount',
        AccessMode: 'passthrough',
        Driver: { Type: 'virtiofs', Queue: VirtiofsQueueSize },
        Source: { Dir: '', Socket: virtioFSSocketPath(fs.name) },
        Target: { Dir: fs.name },
      }),
    );
  }
};
