// The converter context of a launcher in a KubeVirt pod, as unit tests use it: KubeVirt's paths,
// emulation allowed (no /dev/kvm in the pod).
import type { ConverterContext } from '../src/converter/index.ts';

export const POD_CONTEXT: ConverterContext = {
  allowEmulation: true,
  hypervisorDeviceAvailable: false,
  virtShareDir: '/var/run/kubevirt',
  privateDir: '/var/run/kubevirt-private',
  containerDiskDir: '/var/run/kubevirt/container-disks',
  ephemeralDiskDir: '/var/run/kubevirt-ephemeral-disks',
};
