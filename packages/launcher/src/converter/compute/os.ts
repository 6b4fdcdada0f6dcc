// compute.OSDomainConfigurator on amd64: EFI (OVMF from --ovmf-path, secure boot unless turned off, or
// libvirt's firmware auto-selection for secure boot with --firmware-auto-selection),
// SMBIOS from sysinfo, BIOS over serial, direct kernel boot from a kernel-boot container's artifacts,
// the machine type, and a boot menu for a VMI that starts paused.
import type { DomainConfigurator } from '../configurator.ts';
import { kernelBootArtifactPath } from '../container-disk.ts';
import { efiConfiguration, nvramPath } from '../efi.ts';

export const FirmwareFeatureSecureBoot = 'secure-boot';
export const FirmwareFeatureEnrolledKeys = 'enrolled-keys';

export const configureOS: DomainConfigurator = (vmi, spec, ctx) => {
  const firmware = vmi.spec.domain.firmware;
  if (firmware) {
    const efi = efiConfiguration(vmi, ctx.efiEnvironment, ctx.firmwareAutoSelection);
    if (efi?.usesFirmwareAutoSelection) {
      // libvirt's descriptors pick code and variables; the nvram keeps KubeVirt's name (raw, as pflash)
      spec.OS.Firmware = 'efi';
      spec.OS.FirmwareInfo = {
        Features: [
          { Enabled: 'yes', Name: FirmwareFeatureSecureBoot },
          { Enabled: 'yes', Name: FirmwareFeatureEnrolledKeys },
        ],
      };
      spec.OS.BootLoader = null;
      spec.OS.NVRam = { Template: '', Format: 'raw', NVRam: nvramPath(vmi, ctx.privateDir) };
    } else if (efi) {
      spec.OS.BootLoader = { Path: efi.code, ReadOnly: 'yes', Secure: efi.secureLoader ? 'yes' : 'no', Type: 'pflash' };
      spec.OS.NVRam = { Template: efi.vars, Format: '', NVRam: nvramPath(vmi, ctx.privateDir) };
    }
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
  // time to reach the firmware's menu once the user unpauses
  if (vmi.spec.startStrategy === 'Paused') spec.OS.BootMenu = { Enable: 'yes', Timeout: 10000 };
};
