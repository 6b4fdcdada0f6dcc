// Every Cmd RPC the launcher implements beyond sync/pause/shutdown, proved on real parts: one launcher in
// a pod sandbox with its own libvirtd and the test guest, each RPC's effect checked where it happens —
// in the guest (over its serial console), in the guest agent (asked through virsh, not through the
// launcher), in libvirt, or on disk — never only by `success: true`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { serialConsoleSocketPath, vmiNameToDomainName } from '@kubevirt-ts/shared';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { NotifyRecorder } from '../../../test/bed/notify-recorder.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GUEST_MEMORY_BYTES = 128 * 1024 * 1024;

/** The test guest with room for one more socket (the converter's maxSockets: CPU hotplug). */
function hotplugVMI(sockets: number, uid: string) {
  const vmi = testVMI({ name: 'rpcvmi', uid });
  (vmi.spec.domain as { cpu: object }).cpu = { sockets, cores: 1, threads: 1, maxSockets: 2 };
  return vmi;
}

type MemoryDumpMetadata = {
  FileName: string;
  StartTimestamp?: string | null;
  EndTimestamp?: string | null;
  Completed?: boolean;
  Failed?: boolean;
  FailureReason?: string;
};
/** The MemoryDump part of a domain's kubevirt metadata, as the launcher sends it (GetDomain, domain events). */
const memoryDumpOf = (domain: unknown): MemoryDumpMetadata | undefined =>
  (domain as { Spec?: { Metadata?: { KubeVirt?: { MemoryDump?: MemoryDumpMetadata | null } } } }).Spec?.Metadata?.KubeVirt?.MemoryDump ??
  undefined;

interface DomainStats {
  Name: string;
  Cpu: { TimeSet: boolean; Time: number };
  NrVirtCpu: number;
  Block: Array<{ Name: string; RdBytesSet: boolean; RdBytes: number }>;
}

describe('Cmd RPCs on a real launcher, libvirtd and guest', { timeout: 900_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let serial: SerialConsole;
  const uid = randomUUID();
  const vmi = hotplugVMI(1, uid);
  const domainName = vmiNameToDomainName('default', 'rpcvmi');
  const logs = () => launcher.logs();

  /** The guest agent's answer to one command, asked through libvirt directly (not through the launcher). */
  const agent = async (execute: string): Promise<unknown> =>
    (JSON.parse(await virsh(sandbox, ['qemu-agent-command', domainName, JSON.stringify({ execute })])) as { return: unknown }).return;

  const bootId = async (): Promise<string> => {
    const id = (await serial.run('cat /proc/sys/kernel/random/boot_id')).trim();
    assert.match(id, BOOT_ID, `boot_id read over the serial console: ${JSON.stringify(id)}`);
    return id;
  };

  /** After a reboot: the shell is back, with another boot id. */
  const rebootedFrom = async (oldId: string): Promise<string> => {
    return poll(
      'the guest booted again (new boot_id on the serial console)',
      async () => {
        await serial.waitForPrompt(GUEST_PROMPT, 5_000);
        const id = await bootId();
        return id !== oldId ? id : undefined;
      },
      120_000,
      () => `serial console:\n${serial.output.slice(-3000)}\nlauncher:\n${logs()}`,
    );
  };

  const stats = async (): Promise<DomainStats> => {
    const r = await client.GetDomainStats({});
    assert.equal(r.response?.success, true, r.response?.message);
    return JSON.parse(r.domainStats) as DomainStats;
  };

  const agentAnswers = () =>
    poll(
      'the guest agent answers GuestPing',
      async () => ((await client.GuestPing({ domainName, timeoutSeconds: 5 })).response?.success ? true : undefined),
      90_000,
      logs,
    );

  before(async () => {
    sandbox = await createPodSandbox();
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
    const r = await client.SyncVirtualMachine(asRequest(vmi));
    assert.deepEqual(r, { success: true, message: '' }, logs());
    await recorder.waitFor((e) => e.domain.Status.Status === 'Running', 60_000);
    const socket = sandbox.hostPath(serialConsoleSocketPath(uid, 0, '/var/run/kubevirt-private'));
    await poll('serial console socket', async () => (existsSync(socket) ? true : undefined), 30_000, logs);
    serial = await SerialConsole.open(socket);
    await serial.waitForPrompt(GUEST_PROMPT, 120_000);
    await agentAnswers();
  });

  after(() => stopLauncherTest({ serial, client, launcher, recorder, sandbox }));

  test("GetQemuVersion → the version of the QEMU libvirt runs (the host's qemu-system-x86_64)", async () => {
    const r = await client.GetQemuVersion({});
    assert.equal(r.response?.success, true, r.response?.message);
    const host = /QEMU emulator version (\d+)\.(\d+)\.(\d+)/.exec(execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }));
    assert.ok(host, 'qemu-system-x86_64 --version names its version');
    assert.equal(r.version, `${Number(host[1])}.${Number(host[2])}.${Number(host[3])}`);
  });

  test('Exec → the command ran in the guest: its exit code and its output', async () => {
    const fail = await client.Exec({ domainName, Command: '/bin/sh', Args: ['-c', 'echo out-$((6*7)); exit 3'], timeoutSeconds: 20 });
    assert.equal(fail.response?.success, true, 'a non-zero exit is an answer, not an Exec failure');
    assert.deepEqual([fail.exitCode, fail.stdOut], [3, 'out-42\n']);
    const ok = await client.Exec({ domainName, Command: '/bin/cat', Args: ['/proc/sys/kernel/random/boot_id'], timeoutSeconds: 20 });
    assert.equal(ok.exitCode, 0);
    // the same boot id the serial console shows: it ran in this guest
    assert.equal(ok.stdOut.trim(), await bootId());
    await assert.rejects(
      client.Exec({ domainName, Command: '/no/such/program', Args: [], timeoutSeconds: 20 }),
      'a command that cannot start fails the call',
    );
  });

  test('GuestPing → fails while the agent is stopped in the guest, answers again once it is back', async () => {
    assert.equal((await client.GuestPing({ domainName, timeoutSeconds: 5 })).response?.success, true);
    await serial.run('kill $(pidof qemu-ga); echo stopped');
    await poll(
      'GuestPing failing with qemu-ga stopped',
      async () =>
        client.GuestPing({ domainName, timeoutSeconds: 2 }).then(
          () => undefined,
          (err: Error) => err,
        ),
      30_000,
      logs,
    );
    assert.equal((await serial.run('pidof qemu-ga || echo none')).trim(), 'none', 'qemu-ga is not running');
    await serial.run('qemu-ga -d -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run');
    await agentAnswers();
  });

  test('Freeze → the guest agent reports frozen and a write blocks; Unfreeze → thawed and the write lands', async () => {
    assert.equal((await serial.run('mount -o remount,rw /mnt/data && echo rw')).trim(), 'rw', 'data disk writable');
    assert.equal(await agent('guest-fsfreeze-status'), 'thawed');
    const r = await client.FreezeVirtualMachine({ vmi: asRequest(vmi).vmi, unfreezeTimeoutSeconds: 300 });
    assert.deepEqual(r, { success: true, message: '' });
    assert.equal(await agent('guest-fsfreeze-status'), 'frozen');
    // a writer started now must block in the kernel (state D) on the frozen filesystem
    const tag = randomUUID().slice(0, 8);
    const pid = (await serial.run(`(echo ${tag} > /mnt/data/written-while-frozen; echo write-done-''${tag}) & echo $!`)).trim();
    assert.match(pid, /^\d+$/);
    await poll(
      'the writer blocked on the frozen filesystem (state D)',
      async () => ((await serial.run(`cut -d' ' -f3 /proc/${pid}/stat`)).trim() === 'D' ? true : undefined),
      20_000,
    );
    assert.ok(!serial.output.includes(`write-done-${tag}`), 'the write did not complete while frozen');
    // the launcher reports the frozen state in the domain it sends the handler
    await recorder.waitFor(
      (e) => (e.domain.Status as { FSFreezeStatus?: { Status?: string } }).FSFreezeStatus?.Status === 'frozen',
      60_000,
    );

    assert.deepEqual(await client.UnfreezeVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    assert.equal(await agent('guest-fsfreeze-status'), 'thawed');
    await serial.waitFor(new RegExp(`write-done-${tag}`), 20_000);
    assert.equal((await serial.run('cat /mnt/data/written-while-frozen')).trim(), tag);
  });

  test('Freeze with an unfreeze timeout → the launcher thaws the guest by itself when it runs out', async () => {
    assert.deepEqual(await client.FreezeVirtualMachine({ vmi: asRequest(vmi).vmi, unfreezeTimeoutSeconds: 2 }), {
      success: true,
      message: '',
    });
    assert.equal(await agent('guest-fsfreeze-status'), 'frozen');
    await poll(
      'the safety unfreeze thawed the guest',
      async () => ((await agent('guest-fsfreeze-status')) === 'thawed' ? true : undefined),
      30_000,
      logs,
    );
    assert.match(logs(), /Unfreeze was not called for vmi rpcvmi/);
  });

  test('GetDomainStats → the guest CPU time and the data disk read bytes move with work done in the guest', async () => {
    const before = await stats();
    assert.equal(before.Name, domainName);
    assert.ok(before.Cpu.TimeSet && before.Cpu.Time > 0, JSON.stringify(before.Cpu));
    const vda = (s: DomainStats) => s.Block.find((b) => b.Name === 'vda');
    assert.ok(vda(before)?.RdBytesSet, JSON.stringify(before.Block));
    // read the whole data disk past the page cache, and burn some guest CPU
    await serial.run(
      'echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda of=/dev/null bs=64k 2>/dev/null; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done',
      60_000,
    );
    const afterWork = await stats();
    assert.ok(afterWork.Cpu.Time > before.Cpu.Time, `cpu time ${before.Cpu.Time} → ${afterWork.Cpu.Time}`);
    // the 8 MiB disk read once more
    assert.ok(
      (vda(afterWork)?.RdBytes ?? 0) - (vda(before)?.RdBytes ?? 0) >= 4 * 1024 * 1024,
      `vda read bytes ${vda(before)?.RdBytes} → ${vda(afterWork)?.RdBytes}`,
    );
  });

  test('ResetVirtualMachine → the guest starts over (new boot_id)', async () => {
    const before = await bootId();
    assert.deepEqual(await client.ResetVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await rebootedFrom(before);
  });

  test('SoftRebootVirtualMachine → the guest reboots itself (new boot_id), the domain keeps running', async () => {
    await agentAnswers();
    const before = await bootId();
    assert.deepEqual(await client.SoftRebootVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await rebootedFrom(before);
    assert.equal((await virsh(sandbox, ['domstate', domainName])).trim(), 'running');
  });

  test('SyncVirtualMachineCPUs → the guest sees the hotplugged vCPU (maxSockets room) and can online it', async () => {
    assert.equal((await serial.run('cat /sys/devices/system/cpu/present')).trim(), '0');
    assert.equal((await stats()).NrVirtCpu, 1);
    const two = hotplugVMI(2, uid);
    assert.deepEqual(await client.SyncVirtualMachineCPUs(asRequest(two)), { success: true, message: '' });
    await poll(
      'the guest kernel saw CPU 1 arrive',
      async () => ((await serial.run('cat /sys/devices/system/cpu/present')).trim() === '0-1' ? true : undefined),
      30_000,
    );
    await serial.run('echo 1 > /sys/devices/system/cpu/cpu1/online');
    assert.equal((await serial.run('grep -c ^processor /proc/cpuinfo')).trim(), '2');
    assert.equal((await stats()).NrVirtCpu, 2);
    // LIVE|CONFIG: the persistent definition has it too
    assert.equal((await virsh(sandbox, ['vcpucount', domainName, '--config', '--current'])).trim(), '2');
    // beyond maxSockets: libvirt refuses, in-band
    const three = hotplugVMI(3, uid);
    const r = await client.SyncVirtualMachineCPUs(asRequest(three));
    assert.equal(r.success, false);
    assert.match(r.message, /LibvirtError\(Code=\d+, Domain=\d+, Message='.*(maximum|vcpus)/i);
  });

  test('SyncVirtualMachineMemory → a VMI without maxGuest has no virtio-mem room: fails in-band naming it, the guest keeps its memory', async () => {
    // No maxGuest: the domain has no virtio-mem device and nothing says how big one could be. The
    // hotplug itself is proved in memory-hotplug.test.ts.
    const memTotal = async () => Number(/MemTotal:\s+(\d+) kB/.exec(await serial.run('grep MemTotal /proc/meminfo'))?.[1]);
    const before = await memTotal();
    const bigger = hotplugVMI(2, uid);
    (bigger.spec.domain as { memory: object }).memory = { guest: '256Mi' };
    const r = await client.SyncVirtualMachineMemory(asRequest(bigger));
    assert.equal(r.success, false, 'no silent success');
    assert.equal(r.message, 'spec.domain.memory.maxGuest: Max guest memory must be configured when memory hotplug is enabled');
    assert.equal((await virsh(sandbox, ['dumpxml', domainName])).includes('virtio-mem'), false);
    assert.equal(await memTotal(), before);
  });

  test('VirtualMachineMemoryDump → answered at once; dumped in the background: the metadata says when, the ELF dump holds what the guest holds', async () => {
    const tag = `kvts-memory-${randomUUID()}`;
    // a string only this guest's memory holds: the shell keeps it in its variables
    await serial.run(`MARK=${tag}; echo $MARK >/dev/null`);
    const dir = `/var/run/kubevirt-private/${uid}`;
    // an earlier dump in the volume goes; other files stay
    writeFileSync(sandbox.hostPath(`${dir}/rpcvmi-dumpvol-20260101-000000.memory.dump`), 'an earlier dump');
    writeFileSync(sandbox.hostPath(`${dir}/notes.txt`), 'not a dump');
    // a relative path (where earlier dumps would be removed from the launcher's working directory) is refused
    assert.deepEqual(await client.VirtualMachineMemoryDump({ vmi: asRequest(vmi).vmi, dumpPath: 'x.memory.dump' }), {
      success: false,
      message: 'dumpPath "x.memory.dump" is not an absolute path',
    });
    const fileName = 'rpcvmi-dumpvol-20261203-230405.memory.dump';
    const dumpPath = `${dir}/${fileName}`;
    const from = recorder.events.length;
    const r = await client.VirtualMachineMemoryDump({ vmi: asRequest(vmi).vmi, dumpPath });
    assert.deepEqual(r, { success: true, message: '' });
    // the dump is under way (or done) the moment the answer came: its file is in the metadata
    const now = await client.GetDomain({});
    assert.equal(memoryDumpOf(JSON.parse(now.domain))?.FileName, fileName);

    const done = await recorder.waitFor((e) => memoryDumpOf(e.domain)?.Completed === true, 120_000, from);
    const meta = memoryDumpOf(done.domain)!;
    assert.deepEqual([meta.FileName, meta.Failed, meta.FailureReason ?? ''], [fileName, false, ''], logs());
    const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
    assert.match(String(meta.StartTimestamp), RFC3339);
    assert.match(String(meta.EndTimestamp), RFC3339);
    assert.ok(Date.parse(meta.StartTimestamp!) <= Date.parse(meta.EndTimestamp!), `${meta.StartTimestamp} ≤ ${meta.EndTimestamp}`);

    const file = sandbox.hostPath(dumpPath);
    const written = statSync(file);
    // the guest's RAM, plus its other RAM blocks (the VGA's 16 MiB) and the ELF headers and notes
    assert.ok(written.size >= GUEST_MEMORY_BYTES && written.size < GUEST_MEMORY_BYTES * 1.25, `dump size ${written.size}`);
    const fd = openSync(file, 'r');
    const magic = Buffer.alloc(4);
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    assert.deepEqual(magic, Buffer.from([0x7f, 0x45, 0x4c, 0x46]), 'ELF');
    assert.ok(readFileSync(file).includes(tag), 'the guest shell variable is in the dump');
    assert.equal((await virsh(sandbox, ['domstate', domainName])).trim(), 'running');
    assert.deepEqual(
      readdirSync(sandbox.hostPath(dir))
        .filter((n) => n.includes('memory.dump') || n === 'notes.txt')
        .sort(),
      ['notes.txt', fileName],
    );

    // the handler asks again each round until it has seen the result: the same file is not dumped again
    assert.deepEqual(await client.VirtualMachineMemoryDump({ vmi: asRequest(vmi).vmi, dumpPath }), { success: true, message: '' });
    const again = memoryDumpOf(JSON.parse((await client.GetDomain({})).domain));
    assert.deepEqual(again, meta, 'the metadata of the one dump');
    const after = statSync(file);
    assert.deepEqual([after.ino, after.mtimeMs], [written.ino, written.mtimeMs], 'the dump file untouched');
    assert.equal(logs().split('Starting memory dump').length - 1, 1, 'one dump started');
  });

  test('KillVirtualMachine → libvirt destroyed the domain; DeleteVirtualMachine → undefined, the gone-domain event, the launcher exits 0', async () => {
    const from = recorder.events.length;
    assert.deepEqual(await client.KillVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    assert.equal((await virsh(sandbox, ['domstate', '--reason', domainName])).trim(), 'shut off (destroyed)');
    await recorder.waitFor((e) => e.domain.Status.Status === 'Shutoff' && e.domain.Status.Reason === 'Destroyed', 30_000, from);
    // libvirt's persistent definition: read as a file, since the launcher (and its libvirtd) may be gone
    // as soon as the delete is answered
    const definition = sandbox.hostPath(`/etc/libvirt/qemu/${domainName}.xml`);
    assert.ok(existsSync(definition), `${definition}: the domain is defined before the delete`);
    // the launcher waits for the handler's delete once QEMU is gone, as KubeVirt's does
    assert.deepEqual(await client.DeleteVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    assert.ok(!existsSync(definition), 'no domain defined any more');
    const gone = await recorder.waitFor((e) => e.domain.Status.Reason === 'NonExistent', 30_000, from);
    assert.ok(gone.domain.ObjectMeta.deletionTimestamp);
    const code = await poll('the launcher exited', async () => launcher.process.exitCode ?? undefined, 60_000, logs);
    assert.equal(code, 0, logs().slice(-5000));
  });
});
