// BaseController.configureVirtioFS (pkg/virt-handler/controller.go), the virtiofs part of
// setupDevicesOwnerships before a VMI's first sync: each filesystem's socket in the launcher pod goes to
// the qemu user (107), so that QEMU may connect to it whoever made it. A socket not there yet (its
// virtiofs container still starting) fails the sync with safepath's lstat error; the sync is retried.
import { lchownSync, lstatSync } from 'node:fs';
import { pathInProcRoot, virtioFSSocketPath, type VirtualMachineInstance } from '@kubevirt-ts/shared';

/** util.NonRootUID: DefaultOwnershipManager's qemu user and group. */
const QEMU_UID = 107;

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

/**
 * The pod path under /proc/<pid>/root with every component checked: a missing one fails as Go's
 * os.Lstat does; a symlink is refused (it would resolve against this process's root, not the pod's).
 */
export function inPodNoSymlink(pid: number, podPath: string): string {
  const full = pathInProcRoot(pid, podPath);
  const root = `/proc/${pid}/root`;
  let at = root;
  for (const part of full.slice(root.length).split('/').filter(Boolean)) {
    at = `${at}/${part}`;
    const st = lstatSync(at, { throwIfNoEntry: false });
    if (!st) throw new Error(`lstat ${at}: no such file or directory`);
    if (st.isSymbolicLink()) throw new Error(`${at} is a symbolic link in the launcher pod: not followed`);
  }
  return full;
}
