// compute.OSDomainConfigurator on amd64: SMBIOS from sysinfo, BIOS over serial, direct kernel boot
// from a kernel-boot container's artifacts, and the machine type.
import type { DomainConfigurator } from '../configurator.ts';
import { kernelBootArtifactPath } from '../container-disk.ts';

export const configureOS: DomainConfigurator = (vmi, spec, ctx) => {
  const firmware = vmi.spec.domain.firmware;
  if (firmware) {
    if (firmware.bootloader?.bios?.useSerial === true) spec.OS.BIOS = { UseSerial: 'yes' };
    const kernelBoot = firmware.kernelBoot;
    const container = kernelBoot?.container;
    // util.HasKernelBootContainerImage
    if (container?.image) {
      if (container.kernelPath) spec.OS.Kernel = kernelBootArtifactPath(container.kernelPath, ctx);
      if (container.initrdPath) spec.OS.Initrd = kernelBootArtifactPath(container.initrdPath, ctx);
    }
    // custom kernel arguments apply even without a kernel-boot container
    if (kernelBoot) spec.OS.KernelArgs = kernelBoot.kernelArgs ?? '';
  }
  spec.OS.SMBios = { Mode: 'sysinfo' };
  const machine = vmi.spec.domain.machine;
  if (machine) spec.OS.Type.Machine = machine.type ?? '';
};
