// What the VMI status reads from the launcher pod's own filesystem, through /proc/<pid>/root (KubeVirt:
// the pod isolation's MountRoot and safepath): the sizes of the ISOs the launcher made
// (updateIsoSizeStatus) and the SELinux context (updateSELinuxContext).
import { lstatSync, readFileSync } from 'node:fs';
import { pathInProcRoot } from '@kubevirt-ts/shared';

/** The launcher pod's files, for calculateStatus. */
export interface PodFiles {
  /** A regular file's size, by its path in the VMI's launcher pod; undefined when it cannot be read. */
  fileSize(vmiUID: string, podPath: string): number | undefined;
  /** `none` without SELinux on the node; undefined when it cannot be told. */
  selinuxContext(vmiUID: string): string | undefined;
}

export interface LauncherPodFilesOptions {
  /** A process of the VMI's launcher pod (LauncherClients.launcherPid); throws when none is known. */
  launcherPid(vmiUID: string): number;
  /** The kernel's filesystem types (default /proc/filesystems). */
  procFilesystems?: string;
}

export class LauncherPodFiles implements PodFiles {
  readonly #o: LauncherPodFilesOptions;
  #selinuxDisabled: boolean | undefined;

  constructor(o: LauncherPodFilesOptions) {
    this.#o = o;
  }

  fileSize(vmiUID: string, podPath: string): number | undefined {
    try {
      return regularFileSize(this.#o.launcherPid(vmiUID), podPath);
    } catch {
      return undefined;
    }
  }

  /**
   * With SELinux disabled KubeVirt writes `none`. The kernel registers selinuxfs only when SELinux is
   * enabled, so /proc/filesystems tells from any namespace. With it enabled KubeVirt writes the launcher
   * root's security.selinux attribute, which Node cannot read (no getxattr): undefined, left alone.
   */
  selinuxContext(_vmiUID: string): string | undefined {
    if (this.#selinuxDisabled === undefined) {
      try {
        // fixed at boot: read once
        this.#selinuxDisabled = !/\sselinuxfs$/m.test(readFileSync(this.#o.procFilesystems ?? '/proc/filesystems', 'utf8'));
      } catch {
        return undefined;
      }
    }
    return this.#selinuxDisabled ? 'none' : undefined;
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

/** A regular file's size, by its path in the pod, no component a symlink; undefined when it cannot be read. */
export function regularFileSize(pid: number, podPath: string): number | undefined {
  let full: string;
  try {
    full = inPodNoSymlink(pid, podPath);
  } catch {
    return undefined;
  }
  const st = lstatSync(full, { throwIfNoEntry: false });
  return st?.isFile() ? st.size : undefined;
}
