// EFI VMIs boot for real: the test guest as a unified kernel image on an EFI system partition
// (scripts/build-guest-efi), a containerDisk, booted by OVMF under QEMU TCG in a pod sandbox. The
// launcher finds the firmware under --ovmf-path by KubeVirt's file names (scripts/setup and
// Dockerfile.launcher link Debian's files to them), and the domain carries the loader and nvram as
// KubeVirt's converter writes them, the nvram where util.PathForNVram puts it. Secure Boot runs with
// SMM: with Debian's snakeoil keys (which signed the guest) the guest boots and its kernel sees Secure
// Boot on; with the image's Microsoft keys the firmware refuses the guest. With --firmware-auto-selection
// libvirt picks the secure boot firmware from its descriptors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { efiGuestDisk, GUEST_PROMPT } from '../../../test/bed/guest.ts';
import {
  NONROOT_ENV,
  NONROOT_UID,
  asRequest,
  nonRootCommand,
  startLauncher,
  testEFIVMI,
  virtControllerArgv,
  type RunningLauncher,
} from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { poll } from '../../../test/bed/poll.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';

/** KubeVirt's default --ovmf-path (virtconfig.DefaultARCHOVMFPath), as scripts/setup fills it. */
const KUBEVIRT_OVMF = '/usr/share/edk2/ovmf';
const DEBIAN_OVMF = '/usr/share/OVMF';
/** OVMF under TCG is slow (firmware start, then the stub unpacks kernel and initramfs): generous deadlines. */
const RUNNING_MS = 120_000;
const BOOT_MS = 300_000;

/** A directory with KubeVirt's secure boot names for Debian's snakeoil-enrolled firmware, which trusts the guest. */
function snakeoilOVMF(): string {
  for (const f of ['OVMF_CODE_4M.secboot.fd', 'OVMF_VARS_4M.snakeoil.fd']) {
    assert.ok(existsSync(path.join(DEBIAN_OVMF, f)), `${DEBIAN_OVMF}/${f} missing: install Debian's ovmf (scripts/setup)`);
  }
  const dir = mkdtempSync('/tmp/kvts-ovmf-');
  symlinkSync(path.join(DEBIAN_OVMF, 'OVMF_CODE_4M.secboot.fd'), path.join(dir, 'OVMF_CODE.secboot.fd'));
  symlinkSync(path.join(DEBIAN_OVMF, 'OVMF_VARS_4M.snakeoil.fd'), path.join(dir, 'OVMF_VARS.secboot.fd'));
  return dir;
}

interface EFIRun {
  sandbox: PodSandbox;
  launcher: RunningLauncher;
  client: CmdClient;
  vmi: ReturnType<typeof testEFIVMI>;
}

/** A pod sandbox whose container-disks volume holds the EFI guest's disk, and a launcher in it. */
async function startEFI(o: {
  name: string;
  secureBoot: boolean;
  nonRoot: boolean;
  ovmfPath: string;
  extraArgs?: string[];
}): Promise<EFIRun> {
  const disk = efiGuestDisk();
  const uid = randomUUID();
  const vmi = testEFIVMI({ name: o.name, uid, secureBoot: o.secureBoot, ...(o.nonRoot ? { runtimeUser: NONROOT_UID } : {}) });
  const sandbox = await createPodSandbox();
  // what the handler's containerDisk mounter leaves for volume 0 (read-only to the pod's user)
  const staged = path.join(sandbox.volumePath('container-disks'), 'disk_0.img');
  mkdirSync(path.dirname(staged), { recursive: true });
  try {
    linkSync(disk, staged);
  } catch {
    copyFileSync(disk, staged);
  }
  const args = virtControllerArgv(uid, { allowEmulation: true, runAsNonRoot: o.nonRoot }).map((a) => a.replace('testvmi', o.name));
  args[args.indexOf('--ovmf-path') + 1] = o.ovmfPath;
  args.push(...(o.extraArgs ?? []));
  const launcher = await startLauncher(sandbox, vmi, [], {
    args,
    stageImages: false,
    ...(o.nonRoot ? { nonRootUser: NONROOT_UID, env: NONROOT_ENV } : {}),
  });
  const client = await cmdClient(launcher.cmdSocket);
  return { sandbox, launcher, client, vmi };
}

async function stopEFI(run: EFIRun | undefined): Promise<void> {
  if (!run) return;
  run.client.close();
  await run.launcher.stop('SIGKILL');
  if (process.exitCode) console.error(run.launcher.logs().slice(-20_000));
  await run.sandbox.destroy();
}

async function domainStatus(client: CmdClient): Promise<string | undefined> {
  const r = await client.GetDomain({});
  assert.equal(r.response?.success, true, r.response?.message);
  return r.domain === '' ? undefined : (JSON.parse(r.domain) as { Status: { Status: string } }).Status.Status;
}

/** libvirt's domain XML: from the system daemon, or the non-root launcher's session daemon as its user. */
async function dumpXML(run: EFIRun): Promise<string> {
  const domain = `default_${run.vmi.metadata.name}`;
  if (!run.vmi.status.runtimeUser) return virsh(run.sandbox, ['dumpxml', domain]);
  const [command, args] = nonRootCommand(NONROOT_UID, 'virsh', ['-q', '-c', 'qemu:///session', 'dumpxml', domain]);
  const child = run.sandbox.spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NONROOT_ENV } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, `virsh dumpxml ${domain} as ${NONROOT_UID}: ${err}`);
  return out;
}

async function syncUntilRunning(run: EFIRun): Promise<string> {
  assert.deepEqual(await run.client.SyncVirtualMachine(asRequest(run.vmi)), { success: true, message: '' });
  await poll(
    'domain Running',
    async () => ((await domainStatus(run.client)) === 'Running' ? true : undefined),
    RUNNING_MS,
    run.launcher.logs,
  );
  return dumpXML(run);
}

async function guestOS(run: EFIRun): Promise<string | undefined> {
  return poll(
    'the guest agent reports the OS',
    async () => {
      const gi = JSON.parse((await run.client.GetGuestInfo({})).guestInfoResponse || '{}') as { os?: { id?: string } };
      return gi.os?.id === 'kvts-testguest' ? gi.os.id : undefined;
    },
    BOOT_MS,
    run.launcher.logs,
  );
}

async function onSerial(run: EFIRun, command: string): Promise<string> {
  const serial = await SerialConsole.open(run.sandbox.hostPath(`/var/run/kubevirt-private/${run.vmi.metadata.uid}/virt-serial0`));
  try {
    await serial.waitForPrompt(GUEST_PROMPT, 60_000);
    return await serial.run(command);
  } finally {
    serial.close();
  }
}

describe('EFI without Secure Boot, non-root launcher (KubeVirt default --ovmf-path)', { timeout: 600_000 }, () => {
  let run: EFIRun | undefined;
  before(async () => {
    run = await startEFI({ name: 'efivmi', secureBoot: false, nonRoot: true, ovmfPath: KUBEVIRT_OVMF });
  });
  after(() => stopEFI(run));

  test("the domain boots OVMF as KubeVirt's converter writes it, nvram in the private dir", async () => {
    const r = run!;
    const xml = await syncUntilRunning(r);
    assert.match(xml, /<loader readonly='yes' secure='no' type='pflash'>\/usr\/share\/edk2\/ovmf\/OVMF_CODE.fd<\/loader>/);
    // util.PathForNVram of a non-root VMI: <private dir>/libvirt/qemu/nvram/<vmi>_VARS.fd
    const nvram = '/var/run/kubevirt-private/libvirt/qemu/nvram/efivmi_VARS.fd';
    assert.match(xml, new RegExp(`<nvram template='/usr/share/edk2/ovmf/OVMF_VARS.fd'>${nvram}</nvram>`));
    const copy = statSync(r.sandbox.hostPath(nvram));
    assert.equal(copy.size, statSync(path.join(KUBEVIRT_OVMF, 'OVMF_VARS.fd')).size, 'the nvram is a copy of the template');
    assert.equal(copy.uid, NONROOT_UID, 'the nvram belongs to the launcher user');
  });

  test('the guest boots through the firmware: its agent answers and the kernel sees EFI', async () => {
    const r = run!;
    assert.equal(await guestOS(r), 'kvts-testguest');
    assert.match(await onSerial(r, 'test -d /sys/firmware/efi && echo efi-booted'), /efi-booted/);
    // the firmware's own lines are in the serial console log, before the kernel's
    const log = readFileSync(r.sandbox.hostPath(`/var/run/kubevirt-private/${r.vmi.metadata.uid}/virt-serial0-log`), 'utf8');
    assert.match(log, /BdsDxe: starting Boot\d+ "UEFI Misc Device"/);
    // the firmware keeps its variables (boot entries, counters) in the VMI's own nvram, not the template
    const nvram = readFileSync(r.sandbox.hostPath('/var/run/kubevirt-private/libvirt/qemu/nvram/efivmi_VARS.fd'));
    assert.ok(!nvram.equals(readFileSync(path.join(KUBEVIRT_OVMF, 'OVMF_VARS.fd'))), 'the firmware wrote its variables');
  });

  test('Kill, then Delete: the domain is undefined and its nvram kept, as KubeVirt keeps it for persistent EFI', async () => {
    const r = run!;
    const nvram = r.sandbox.hostPath('/var/run/kubevirt-private/libvirt/qemu/nvram/efivmi_VARS.fd');
    const written = readFileSync(nvram);
    assert.deepEqual(await r.client.KillVirtualMachine(asRequest(r.vmi)), { success: true, message: '' });
    await poll('domain Shutoff', async () => ((await domainStatus(r.client)) === 'Shutoff' ? true : undefined), 60_000, r.launcher.logs);
    assert.deepEqual(await r.client.DeleteVirtualMachine(asRequest(r.vmi)), { success: true, message: '' });
    assert.equal(await poll('the launcher exited', async () => r.launcher.process.exitCode ?? undefined, 60_000, r.launcher.logs), 0);
    assert.ok(readFileSync(nvram).equals(written), 'the nvram outlives the domain, unchanged');
  });
});

describe('EFI with Secure Boot and SMM, snakeoil keys: the signed guest boots', { timeout: 600_000 }, () => {
  let run: EFIRun | undefined;
  let ovmf: string;
  before(async () => {
    ovmf = snakeoilOVMF();
    run = await startEFI({ name: 'securevmi', secureBoot: true, nonRoot: false, ovmfPath: ovmf });
  });
  after(async () => {
    await stopEFI(run);
    rmSync(ovmf, { recursive: true, force: true });
  });

  test("the domain: secure loader, SMM on, nvram in libvirt's directory", async () => {
    const r = run!;
    const xml = await syncUntilRunning(r);
    assert.match(xml, new RegExp(`<loader readonly='yes' secure='yes' type='pflash'>${ovmf}/OVMF_CODE.secboot.fd</loader>`));
    // util.PathForNVram of a root VMI
    const nvram = '/var/lib/libvirt/qemu/nvram/securevmi_VARS.fd';
    assert.match(xml, new RegExp(`<nvram template='${ovmf}/OVMF_VARS.secboot.fd'>${nvram}</nvram>`));
    assert.match(xml, /<smm state='on'\/>/);
    assert.ok(existsSync(r.sandbox.hostPath(nvram)), `${nvram} in the pod`);
  });

  test('the guest boots and its kernel runs with Secure Boot enabled', async () => {
    const r = run!;
    assert.equal(await guestOS(r), 'kvts-testguest');
    assert.match(await onSerial(r, 'dmesg | grep -i "secure boot"'), /Secure boot enabled/);
  });
});

describe("EFI with Secure Boot, the image's Microsoft keys: the firmware refuses the snakeoil-signed guest", { timeout: 600_000 }, () => {
  let run: EFIRun | undefined;
  before(async () => {
    run = await startEFI({ name: 'refusedvmi', secureBoot: true, nonRoot: false, ovmfPath: KUBEVIRT_OVMF });
  });
  after(() => stopEFI(run));

  test('the domain runs the firmware, which denies the boot loader', async () => {
    const r = run!;
    const xml = await syncUntilRunning(r);
    assert.match(xml, /<loader readonly='yes' secure='yes' type='pflash'>\/usr\/share\/edk2\/ovmf\/OVMF_CODE.secboot.fd<\/loader>/);
    const logFile = r.sandbox.hostPath(`/var/run/kubevirt-private/${r.vmi.metadata.uid}/virt-serial0-log`);
    const log = await poll(
      'the firmware refuses the guest',
      async () => {
        const text = readFileSync(logFile, 'utf8');
        return /Access Denied/.test(text) ? text : undefined;
      },
      BOOT_MS,
      r.launcher.logs,
    );
    assert.match(log, /BdsDxe: failed to load Boot\d+ "UEFI Misc Device".*Access Denied/);
    assert.doesNotMatch(log, /kvts-guest: ready/);
  });
});

describe("--firmware-auto-selection: libvirt's descriptors pick the Microsoft-enrolled secure boot firmware", { timeout: 600_000 }, () => {
  let run: EFIRun | undefined;
  before(async () => {
    // an --ovmf-path without any rom: with auto-selection the launcher does not need one
    run = await startEFI({
      name: 'autovmi',
      secureBoot: true,
      nonRoot: false,
      ovmfPath: '/nonexistent',
      extraArgs: ['--firmware-auto-selection'],
    });
  });
  after(() => stopEFI(run));

  test("libvirt resolves firmware='efi' to secure code and enrolled variables; the nvram keeps KubeVirt's name", async () => {
    const r = run!;
    const xml = await syncUntilRunning(r);
    // the definition asks for EFI by features; the running domain shows what libvirt chose
    const inactive = await virsh(r.sandbox, ['dumpxml', '--inactive', 'default_autovmi']);
    assert.match(inactive, /<os firmware='efi'>/);
    for (const x of [inactive, xml]) {
      assert.match(x, /<feature enabled='yes' name='enrolled-keys'\/>/);
      assert.match(x, /<feature enabled='yes' name='secure-boot'\/>/);
    }
    assert.match(xml, /<loader readonly='yes' secure='yes' type='pflash'>\/usr\/share\/OVMF\/OVMF_CODE_4M.ms.fd<\/loader>/);
    assert.match(
      xml,
      /<nvram template='\/usr\/share\/OVMF\/OVMF_VARS_4M.ms.fd'>\/var\/lib\/libvirt\/qemu\/nvram\/autovmi_VARS.fd<\/nvram>/,
    );
    assert.match(xml, /<smm state='on'\/>/);
    // Debian's descriptor for enrolled keys: Microsoft's, so the snakeoil-signed guest is refused
    const logFile = r.sandbox.hostPath(`/var/run/kubevirt-private/${r.vmi.metadata.uid}/virt-serial0-log`);
    await poll(
      'the firmware refuses the guest',
      async () => (/Access Denied/.test(readFileSync(logFile, 'utf8')) ? true : undefined),
      BOOT_MS,
      r.launcher.logs,
    );
  });
});
