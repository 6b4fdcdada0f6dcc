// Hook sidecars on real parts: virt-controller's argv with `--hook-sidecars 1`, the pod's
// hook-sidecar-sockets volume at /var/run/kubevirt-hooks, and the test bed's smbios hook sidecar (a
// separate process in the pod, its socket in /var/run/kubevirt-hooks/<container>/, as KubeVirt's
// sidecar container with its subPath mount). The launcher waits for it, and libvirtd defines (and
// QEMU runs) the domain as the hook changed it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { cmdClient, vmiRequest, type CmdClient } from '@kubevirt-ts/proto';
import { launcherSocketPath } from '@kubevirt-ts/shared';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLauncher, testVMI, virtControllerArgv, type RunningLauncher } from '../../../test/bed/launcher.ts';
import { BASEBOARD_MANUFACTURER_ANNOTATION } from '../../../test/bed/hook-sidecar.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { poll } from '../../../test/bed/poll.ts';
import { SecretVolume, accessCredentialSecretPath } from '../../../test/bed/secret-volume.ts';

const HOOK_SIDECAR = path.resolve(import.meta.dirname, '../../../test/bed/hook-sidecar.ts');
const SOCKET = '/var/run/kubevirt-hooks/hook-sidecar-0/smbios.sock';
const DOMAIN = 'default_testvmi';

/** How long a process has run, from its start time in /proc (clock ticks of 1/100 s since boot). */
function processAgeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const uptimeSeconds = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return uptimeSeconds * 1000 - startTicks * 10;
}

/** The sidecar container's process, in the pod. */
function startSidecar(sandbox: PodSandbox, args: readonly string[] = []): { child: ChildProcess; logs: () => string } {
  const child = sandbox.spawn(process.execPath, [HOOK_SIDECAR, '--socket', SOCKET, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
  return { child, logs: () => logs };
}

describe('virt-launcher with --hook-sidecars 1 and the smbios hook sidecar', { timeout: 300_000 }, () => {
  const sandboxes: PodSandbox[] = [];
  const launchers: RunningLauncher[] = [];
  const clients: CmdClient[] = [];
  const sidecars: ChildProcess[] = [];

  after(async () => {
    for (const c of clients) c.close();
    for (const l of launchers) {
      await l.stop('SIGKILL');
      if (process.exitCode) console.error(l.logs().slice(-20_000));
    }
    for (const s of sidecars) if (s.exitCode === null) s.kill('SIGKILL');
    for (const s of sandboxes) await s.destroy();
  });

  test("the launcher waits for the sidecar, then the hook's baseboard manufacturer is in the defined domain and QEMU's command line", async () => {
    const sandbox = await createPodSandbox({ hookSidecars: true });
    sandboxes.push(sandbox);
    const uid = randomUUID();
    const vmi = testVMI({ name: 'testvmi', uid });
    vmi.metadata.annotations = { [BASEBOARD_MANUFACTURER_ANNOTATION]: 'Radical Edward' };
    const spec = vmi.spec as { domain: { devices: { disks: object[] } }; volumes: object[] };
    spec.domain.devices.disks.push({ name: 'cloudinitdisk', disk: { bus: 'virtio' } });
    spec.volumes.push({ name: 'cloudinitdisk', cloudInitNoCloud: { userData: '#cloud-config\npassword: from-the-vmi\n' } });
    // an SSH key propagated by noCloud: in the data the hook gets, and in the ISO's metadata after it
    Object.assign(vmi.spec, {
      accessCredentials: [{ sshPublicKey: { source: { secret: { secretName: 'my-keys' } }, propagationMethod: { noCloud: {} } } }],
    });
    new SecretVolume(sandbox.hostPath(accessCredentialSecretPath('/var/run/kubevirt-private', 'my-keys'))).write({
      key: 'ssh-ed25519 AAAAC3Nz hooked@test',
    });

    const starting = startLauncher(sandbox, vmi, [], { args: virtControllerArgv(uid, { allowEmulation: true, hookSidecars: 1 }) });
    starting.catch(() => undefined);
    // no sidecar yet: Collect blocks, the cmd socket does not appear
    await sleep(2_000);
    assert.equal(existsSync(sandbox.hostPath(launcherSocketPath('/var/run/kubevirt'))), false, 'ready without its hook sidecar');
    const sidecar = startSidecar(sandbox, ['--cloud-init-user-data', '#cloud-config\npassword: from-the-hook\n', '--shutdown']);
    sidecars.push(sidecar.child);
    const launcher = await starting;
    launchers.push(launcher);
    assert.match(launcher.logs(), /Collected all requested hook sidecar sockets/);
    assert.match(launcher.logs(), /OnDefineDomain: \[\/var\/run\/kubevirt-hooks\/hook-sidecar-0\/smbios\.sock\]/);
    assert.match(launcher.logs(), /PreCloudInitIso: \[\/var\/run\/kubevirt-hooks\/hook-sidecar-0\/smbios\.sock\]/);

    const client = await cmdClient(launcher.cmdSocket);
    clients.push(client);
    const r = await client.SyncVirtualMachine(vmiRequest(vmi));
    assert.deepEqual(r, { success: true, message: '' });

    const xml = await virsh(sandbox, ['dumpxml', DOMAIN]);
    assert.match(xml, /<smbios mode='sysinfo'\/>/, xml);
    const board = /<sysinfo type='smbios'>[\s\S]*?<baseBoard>([\s\S]*?)<\/baseBoard>/.exec(xml)?.[1] ?? '';
    assert.match(board, /<entry name='manufacturer'>Radical Edward<\/entry>/, xml);
    // the rest of the domain is the converter's: the hook changed only what it meant to
    assert.match(xml, /<sysinfo type='smbios'>\s*<system>/, xml);

    // PreCloudInitIso: the NoCloud ISO the domain boots with has the hook's user data, not the VMI's
    const iso = readFileSync(sandbox.hostPath('/var/run/kubevirt-ephemeral-disks/cloud-init-data/default/testvmi/noCloud.iso'));
    assert.ok(iso.includes('password: from-the-hook'), "the hook's user data in the ISO");
    assert.ok(!iso.includes('password: from-the-vmi'), "the VMI's user data replaced");
    assert.ok(iso.includes('"public-keys":{"0":"ssh-ed25519 AAAAC3Nz hooked@test"}'), "the noCloud key in the hooked ISO's metadata");
    assert.match(
      sidecar.logs(),
      /PreCloudInitIso got .*"NoCloudMetaData":\{[^}]*"public-keys":\{"0":"ssh-ed25519 AAAAC3Nz hooked@test"\}/,
      'the hook got the key',
    );

    const pid = await poll(
      'QEMU running',
      async () => {
        const text = readFileSync(sandbox.hostPath(`/run/libvirt/qemu/${DOMAIN}.pid`), 'utf8').trim();
        return /^\d+$/.test(text) ? Number(text) : undefined;
      },
      60_000,
      launcher.logs,
    );
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      cmdline.some((a) => /^type=2,manufacturer=Radical Edward/.test(a)),
      `QEMU's -smbios type=2 carries the manufacturer: ${cmdline.join(' ')}`,
    );

    // QEMU ends (destroyed under the launcher): once it is gone the launcher calls the sidecar's Shutdown.
    // The launcher's process monitor looks for QEMU every second: it must have lived through a look.
    await poll('QEMU up for 2 s', async () => (processAgeMs(pid) >= 2_000 ? true : undefined), 30_000);
    assert.doesNotMatch(sidecar.logs(), /Shutdown called/);
    await virsh(sandbox, ['destroy', DOMAIN]);
    await poll(
      'the sidecar’s Shutdown called',
      async () => (/Shutdown called/.test(sidecar.logs()) ? true : undefined),
      30_000,
      launcher.logs,
    );
    assert.equal(existsSync(`/proc/${pid}`), false, 'QEMU is gone');
  });

  test("a hook sidecar's error fails SyncVirtualMachine in-band with gRPC's status text; nothing is defined", async () => {
    const sandbox = await createPodSandbox({ hookSidecars: true });
    sandboxes.push(sandbox);
    const uid = randomUUID();
    const vmi = testVMI({ name: 'testvmi', uid });
    vmi.metadata.annotations = { [BASEBOARD_MANUFACTURER_ANNOTATION]: 'Radical Edward' };
    const sidecar = startSidecar(sandbox, ['--fail', 'Failed to unmarshal given Domain spec: boom']);
    sidecars.push(sidecar.child);
    const launcher = await startLauncher(sandbox, vmi, [], { args: virtControllerArgv(uid, { allowEmulation: true, hookSidecars: 1 }) });
    launchers.push(launcher);
    const client = await cmdClient(launcher.cmdSocket);
    clients.push(client);
    const r = await client.SyncVirtualMachine(vmiRequest(vmi));
    assert.deepEqual(r, { success: false, message: 'rpc error: code = Unknown desc = Failed to unmarshal given Domain spec: boom' });
    assert.equal(await virsh(sandbox, ['list', '--all', '--name']), '', 'no domain defined');
  });

  test("no sidecar within --qemu-timeout: the launcher exits before it serves, in KubeVirt's words", async () => {
    const sandbox = await createPodSandbox({ hookSidecars: true });
    sandboxes.push(sandbox);
    const uid = randomUUID();
    const args = virtControllerArgv(uid, { allowEmulation: true, hookSidecars: 1 });
    args[args.indexOf('--qemu-timeout') + 1] = '2s';
    await assert.rejects(startLauncher(sandbox, testVMI({ name: 'testvmi', uid }), [], { args }), (err: Error) => {
      assert.match(err.message, /virt-launcher exited \(1\) before it was ready/);
      assert.match(err.message, /Failed to collect all expected sidecar hook sockets within given timeout/);
      return true;
    });
  });
});
