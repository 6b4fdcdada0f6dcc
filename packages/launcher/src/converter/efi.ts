// pkg/virt-launcher/virtwrap/efi: the EFI firmware files found under --ovmf-path, and which of them an
// EFI VMI boots with (the launcher's EFIConfiguration). Detection reads the directory; choosing is pure.
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { ConversionError } from './errors.ts';

export const EFICode = 'OVMF_CODE.fd';
export const EFIVars = 'OVMF_VARS.fd';
export const EFICodeSecureBoot = 'OVMF_CODE.secboot.fd';
export const EFIVarsSecureBoot = 'OVMF_VARS.secboot.fd';

/** efi.EFIEnvironment on amd64: each path is empty when the file is missing. */
export interface EFIEnvironment {
  code: string;
  vars: string;
  codeSecureBoot: string;
  varsSecureBoot: string;
}

/** efi.DetectEFIEnvironment(amd64, ovmfPath) */
export function detectEFIEnvironment(ovmfPath: string): EFIEnvironment {
  const find = (name: string) => {
    const file = posix.join(ovmfPath, name);
    return existsSync(file) ? file : '';
  };
  return {
    code: find(EFICode),
    vars: find(EFIVars),
    codeSecureBoot: find(EFICodeSecureBoot),
    varsSecureBoot: find(EFIVarsSecureBoot),
  };
}

/** convertertypes.EFIConfiguration */
export interface EFIConfiguration {
  code: string;
  vars: string;
  secureLoader: boolean;
  /** libvirt picks the firmware from its descriptors (--firmware-auto-selection): code and vars stay empty. */
  usesFirmwareAutoSelection: boolean;
}

/** The VMI's bootloader is EFI (vmi.IsBootloaderEFI). */
export function isBootloaderEFI(vmi: VirtualMachineInstance): boolean {
  return vmi.spec.domain.firmware?.bootloader?.efi !== undefined;
}

/**
 * The manager's EFI choice for a VMI (no SEV/SNP/TDX here): secure boot unless turned off; with
 * firmware auto-selection a secure boot VMI leaves the firmware to libvirt; else KubeVirt's error when
 * the roms for it are missing.
 */
export function efiConfiguration(
  vmi: VirtualMachineInstance,
  env: EFIEnvironment | null,
  firmwareAutoSelection = false,
): EFIConfiguration | null {
  if (!isBootloaderEFI(vmi)) return null;
  const secureBoot = vmi.spec.domain.firmware?.bootloader?.efi?.secureBoot ?? true;
  if (secureBoot && firmwareAutoSelection) return { code: '', vars: '', secureLoader: true, usesFirmwareAutoSelection: true };
  const code = secureBoot ? env?.codeSecureBoot : env?.code;
  const vars = secureBoot ? env?.varsSecureBoot : env?.vars;
  if (!code || !vars) {
    throw new ConversionError(
      'spec.domain.firmware.bootloader.efi',
      `EFI OVMF roms missing for booting in EFI mode with SecureBoot=${secureBoot}, SEV/SEV-ES=false, SEV-SNP=false, TDX=false`,
    );
  }
  return { code, vars, secureLoader: secureBoot, usesFirmwareAutoSelection: false };
}

/** util.PathForNVram: libvirt's own directory for a root launcher, the private dir's for a non-root one. */
export function nvramPath(vmi: VirtualMachineInstance, privateDir: string): string {
  const dir = vmi.status?.runtimeUser ? posix.join(privateDir, 'libvirt', 'qemu', 'nvram') : '/var/lib/libvirt/qemu/nvram';
  return posix.join(dir, `${vmi.metadata.name}_VARS.fd`);
}
