// compute.OSDomainConfigurator on amd64: EFI (OVMF from --ovmf-path, secure boot unless turned off, or
// libvirt's firmware auto-selection for secure boot with --firmware-auto-selection),
// SMBIOS from sysinfo, BIOS over serial, direct kernel boot from a kernel-boot container's artifacts,
// the machine type, a boot menu for a VMI that starts paused, and the ACPI tables of secret volumes.
import { posix } from 'node:path';
import { SecretSourceDir } from '@kubevirt-ts/shared';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';
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
    configureACPI(vmi, spec, ctx);
  }
  spec.OS.SMBios = { Mode: 'sysinfo' };
  const machine = vmi.spec.domain.machine;
  if (machine) spec.OS.Type.Machine = machine.type ?? '';
  // time to reach the firmware's menu once the user unpauses
  if (vmi.spec.startStrategy === 'Paused') spec.OS.BootMenu = { Enable: 'yes', Timeout: 10000 };
};

/**
 * configureACPI: the SLIC and MSDM tables the firmware hands the guest, each the `<type>.bin` of a
 * secret volume, as virt-controller mounts it under the secret source dir.
 */
function configureACPI(...[vmi, spec, ctx]: Parameters<DomainConfigurator>): void {
  const acpi = vmi.spec.domain.firmware?.acpi;
  if (!acpi) return;
  if (!acpi.slicNameRef && !acpi.msdmNameRef) {
    throw new ConversionError('spec.domain.firmware.acpi', 'no ACPI tables were set, expecting at least one');
  }
  const tables = [];
  for (const [type, volumeName] of [
    ['slic', acpi.slicNameRef],
    ['msdm', acpi.msdmNameRef],
  ] as const) {
    if (!volumeName) continue;
    const volume = (vmi.spec.volumes ?? []).find((v) => v.name === volumeName);
    if (!volume) throw new ConversionError(`spec.domain.firmware.acpi.${type}NameRef`, `firmware's volume for ${type} was not found`);
    if (!volume.secret)
      throw new ConversionError(`spec.domain.firmware.acpi.${type}NameRef`, `firmware's volume type is unsupported for ${type}`);
    tables.push({ Type: type, Path: posix.join(ctx.secretSourceDir ?? SecretSourceDir, volumeName, `${type}.bin`) });
  }
  spec.OS.ACPI = { Table: tables };
}
