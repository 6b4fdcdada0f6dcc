// BaseController.configureVirtioFS (pkg/virt-handler/controller.go), the virtiofs part of
// setupDevicesOwnerships before a VMI's first sync: each filesystem's socket in the launcher pod goes to
// the qemu user (107), so that QEMU may connect to it whoever made it. A socket not there yet (its
// virtiofs container still starting) fails the sync with safepath's lstat error; the sync is retried.
import { lchownSync } from 'node:fs';
import { QEMU_UID, virtioFSSocketPath, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { inPodNoSymlink } from './pod-files.ts';

/** util.NonRootUID: DefaultOwnershipManager's qemu user and group. */

export interface VirtioFSOwnershipOptions {
  /** A process of the VMI's launcher pod (LauncherClients.launcherPid). */
  launcherPid(vmiUID: string): number;
}

export class VirtioFSOwnership {
  readonly #o: VirtioFSOwnershipOptions;

  constructor(o: VirtioFSOwnershipOptions) {
    this.#o = o;
  }

  /** Every filesystem's socket owned by 107:107; throws naming the first one missing. */
  configure(vmi: VirtualMachineInstance): void {
    const filesystems = vmi.spec.domain.devices?.filesystems ?? [];
    if (filesystems.length === 0) return;
    const pid = this.#o.launcherPid(vmi.metadata.uid);
    for (const fs of filesystems) lchownSync(inPodNoSymlink(pid, virtioFSSocketPath(fs.name)), QEMU_UID, QEMU_UID);
  }
}
