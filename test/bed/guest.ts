// The tiny test guest built by scripts/build-guest, and a libvirt domain for it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface GuestArtifacts {
  /** Uncompressed kernel, booted through PVH (skips in-guest decompression under TCG). */
  readonly kernel: string;
  readonly initrd: string;
  /** Small ext2 disk the guest mounts read-only at /mnt/data. */
  readonly dataDisk: string;
}

let guestDir: string | undefined;
/**
 * The guest this checkout's scripts/build-guest makes (cached by content hash: 0.1 s when built), not
 * the cache's `current` link, which any other checkout on the machine may point elsewhere.
 */
export function guestDirectory(): string {
  guestDir ??= execFileSync('bash', [path.resolve(import.meta.dirname, '../../scripts/build-guest')], { encoding: 'utf8' }).trim();
  return guestDir;
}

export function guestArtifacts(): GuestArtifacts {
  const dir = guestDirectory();
  const a = {
    kernel: path.join(dir, 'vmlinux'),
    initrd: path.join(dir, 'initrd.img'),
    dataDisk: path.join(dir, 'data.img'),
  };
  for (const f of Object.values(a)) {
    if (!existsSync(f)) throw new Error(`test guest missing (${f}): run scripts/build-guest`);
  }
  return a;
}

let efiDir: string | undefined;
/**
 * The EFI-bootable test guest scripts/build-guest-efi makes (cached by content hash): a raw GPT disk
 * whose EFI system partition holds the guest as a unified kernel image, \EFI\BOOT\BOOTX64.EFI, signed
 * with Debian ovmf's snakeoil key.
 */
export function efiGuestDisk(): string {
  efiDir ??= execFileSync('bash', [path.resolve(import.meta.dirname, '../../scripts/build-guest-efi')], { encoding: 'utf8' }).trim();
  const disk = path.join(efiDir, 'disk.img');
  if (!existsSync(disk)) throw new Error(`EFI test guest missing (${disk}): run scripts/build-guest-efi`);
  return disk;
}

// ash follows its prompt with a cursor-position query (ESC [6n), so match the prompt alone.
export const GUEST_PROMPT = /~ # /;

export interface GuestDomainOptions {
  name: string;
  uuid?: string;
  kernel: string;
  initrd: string;
  /** Unix socket (path inside the pod) for the serial console; a pty when absent. */
  serialSocket?: string;
  /** Appended to `console=ttyS0`; e.g. `kvts.acpi=off` makes the guest ignore the power button. */
  kernelArgs?: string;
  memoryMiB?: number;
  /** Attached read-only as vda; the guest mounts it at /mnt/data. */
  dataDisk?: string;
  /** Raw XML appended inside <devices>. */
  extraDevices?: string;
  onReboot?: 'destroy' | 'restart';
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A TCG (type='qemu') q35 direct-kernel-boot domain with the qemu-ga channel. */
export function guestDomainXML(o: GuestDomainOptions): string {
  const serial = o.serialSocket
    ? `<serial type='unix'><source mode='bind' path='${xmlEscape(o.serialSocket)}'/><target port='0'/></serial>`
    : `<serial type='pty'><target port='0'/></serial>`;
  return `<domain type='qemu'>
  <name>${xmlEscape(o.name)}</name>
  ${o.uuid ? `<uuid>${o.uuid}</uuid>` : ''}
  <memory unit='MiB'>${o.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>${xmlEscape(o.kernel)}</kernel>
    <initrd>${xmlEscape(o.initrd)}</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet ${xmlEscape(o.kernelArgs ?? '')}</cmdline>
  </os>
  <features><acpi/><tcg><tb-cache unit='MiB'>32</tb-cache></tcg></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>${o.onReboot ?? 'destroy'}</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    ${serial}
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    ${o.dataDisk ? `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${xmlEscape(o.dataDisk)}'/><target dev='vda' bus='virtio'/><readonly/></disk>` : ''}
    <memballoon model='none'/>
    ${o.extraDevices ?? ''}
  </devices>
</domain>`;
}
