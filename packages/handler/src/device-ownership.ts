// setupDevicesOwnerships (pkg/virt-handler/controller.go, non-root.go) before a VMI's first sync: the
// device nodes and disk images of the launcher pod that QEMU opens go to the qemu user. Always the
// hypervisor device (which only an emulating cluster may lack) and an auto-attached vsock's; for a
// non-root VMI also its block claims' nodes, its host disks (or their directory, before the image
// exists), VFIO (the container node 0666, the groups the qemu user's) and the network's vhost-net and
// tun. The virtiofs sockets are virtiofs.ts's; the host disks' images host-disk.ts's.
import { chmodSync, lstatSync, lchownSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { errorMessage, QEMU_UID, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { CriticalNetworkError } from './network/errors.ts';
import { PVC_BASE_DIR } from './host-disk.ts';

export interface DeviceOwnershipOptions {
  /** A path inside the VMI's launcher pod, reachable from the handler (its root through /proc). */
  pathInLauncher(vmiUID: string, p: string): string;
  allowEmulation(): boolean;
  /** The hypervisor's device under /dev (kvm). */
  hypervisorDevice?: string;
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** SetFileOwnership: the qemu user's, unless it already is; a symlink is never followed. */
function setFileOwnership(file: string): void {
  const st = lstatSync(file);
  if (st.isSymbolicLink()) throw new Error(`${file} is a symlink`);
  if (st.uid !== QEMU_UID || st.gid !== QEMU_UID) lchownSync(file, QEMU_UID, QEMU_UID);
}

/** vmitrait.IsNonRoot: virt-api gave the VMI a runtime user (107) other than root. */
export const isNonRoot = (vmi: VirtualMachineInstance) => (vmi.status?.runtimeUser ?? 0) !== 0;

/** RequiresVirtioNetDevice: a virtio interface, on a cluster that does not emulate. */
function requiresVirtioNetDevice(vmi: VirtualMachineInstance, allowEmulation: boolean): boolean {
  const interfaces = vmi.spec.domain.devices?.interfaces ?? [];
  return !allowEmulation && interfaces.some((i) => (i.model ?? 'virtio') === 'virtio');
}

/** RequiresTunDevice: any interface, or the pod interface KubeVirt attaches by default. */
function requiresTunDevice(vmi: VirtualMachineInstance): boolean {
  const devices = vmi.spec.domain.devices;
  return (devices?.interfaces?.length ?? 0) > 0 || devices?.autoattachPodInterface !== false;
}

export class DeviceOwnership {
  readonly #o: DeviceOwnershipOptions;

  constructor(o: DeviceOwnershipOptions) {
    this.#o = o;
  }

  /** `vmi` as the launcher gets it: its filesystem claims already hostDisks (vmiWithAllPVCs). */
  setup(vmi: VirtualMachineInstance): void {
    const inPod = (p: string) => this.#o.pathInLauncher(vmi.metadata.uid, p);
    const hypervisor = this.#o.hypervisorDevice ?? 'kvm';
    this.#claimDevice(inPod, hypervisor, `failed to set up file ownership for /dev/${hypervisor}`, this.#o.allowEmulation());
    if (vmi.spec.domain.devices?.autoattachVSOCK) {
      this.#claimDevice(inPod, 'vhost-vsock', 'failed to set up file ownership for /dev/vhost-vsock');
    }
    if (!isNonRoot(vmi)) return;
    this.#blockDevices(vmi, inPod);
    this.#hostDisks(vmi, inPod);
    this.#vfio(inPod);
    this.#network(vmi, inPod);
  }

  /** claimDeviceOwnership: /dev/<name> in the pod; a missing hypervisor device is fine when emulating. */
  #claimDevice(inPod: (p: string) => string, name: string, what: string, missingOK = false): void {
    try {
      setFileOwnership(inPod(path.posix.join('/dev', name)));
    } catch (err) {
      if (missingOK && isMissing(err)) return;
      throw new Error(`${what}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * changeOwnershipOfBlockDevices: /dev/<volume> of each block claim. KubeVirt fails on a claim whose
   * volume status has no claim info (virt-controller always writes it); here such a claim is skipped.
   */
  #blockDevices(vmi: VirtualMachineInstance, inPod: (p: string) => string): void {
    const modes = new Map((vmi.status?.volumeStatus ?? []).map((s) => [s.name, s.persistentVolumeClaimInfo?.volumeMode]));
    for (const volume of vmi.spec.volumes ?? []) {
      if (!volume.persistentVolumeClaim || modes.get(volume.name) !== 'Block') continue;
      try {
        setFileOwnership(inPod(path.posix.join('/dev', volume.name)));
      } catch (err) {
        if (!isMissing(err)) throw err; // not in the pod (yet): nothing to give
      }
    }
  }

  /** changeOwnershipOfHostDisks: the image, or before it exists the directory it will be made in. */
  #hostDisks(vmi: VirtualMachineInstance, inPod: (p: string) => string): void {
    for (const volume of vmi.spec.volumes ?? []) {
      const hostDisk = volume.hostDisk as { path?: unknown } | undefined;
      if (typeof hostDisk?.path !== 'string') continue;
      const dir = path.posix.join(PVC_BASE_DIR, volume.name);
      try {
        setFileOwnership(inPod(path.posix.join(dir, path.posix.basename(hostDisk.path))));
      } catch (err) {
        if (!isMissing(err)) throw new Error(`Failed to change ownership of HostDisk image: ${String(err)}`, { cause: err });
        try {
          setFileOwnership(inPod(dir));
        } catch (dirErr) {
          throw new Error(`Failed to change ownership of HostDisk dir ${volume.name}, ${String(dirErr)}`, { cause: dirErr });
        }
      }
    }
  }

  /** prepareVFIO: /dev/vfio/vfio 0666, each IOMMU group's node the qemu user's; nothing without VFIO. */
  #vfio(inPod: (p: string) => string): void {
    const base = inPod('/dev/vfio');
    let groups: string[];
    try {
      chmodSync(path.join(base, 'vfio'), 0o666);
      groups = readdirSync(base);
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const group of groups) if (group !== 'vfio') setFileOwnership(path.join(base, group));
  }

  /** prepareNetwork: vhost-net for virtio interfaces (unless emulating) and tun; failures are critical. */
  #network(vmi: VirtualMachineInstance, inPod: (p: string) => string): void {
    const claim = (device: string, what: string) => {
      try {
        setFileOwnership(inPod(path.posix.join('/dev', device)));
      } catch (err) {
        throw new CriticalNetworkError(`failed to set up ${what} device, ${errorMessage(err)}`);
      }
    };
    if (requiresVirtioNetDevice(vmi, this.#o.allowEmulation())) claim('vhost-net', 'vhost-net');
    if (requiresTunDevice(vmi)) claim('net/tun', 'tun');
  }
}
