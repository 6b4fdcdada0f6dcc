// virt-launcher as KubeVirt runs it: virt-controller's exact command line for a compute container, in
// a pod sandbox with a container's /dev (no /dev/kvm: a pod only gets it from the kvm device plugin),
// driven by a client generated from the .proto files with grpc-js + proto-loader (not our typed
// helpers), each answer judged as virt-handler judges it (Response.success; GetDomain's JSON).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLauncher, testVMI, virtControllerArgv, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';

const PROTO_DIR = path.resolve(import.meta.dirname, '../../proto/proto');

/** virt-controller's args for a VMI `testvmi` in `default` (pkg/virt-controller/services/template.go). */
interface Response {
  success: boolean;
  message: string;
}
type Callback = (err: grpc.ServiceError | null, value: unknown) => void;
type Unary = (this: grpc.Client, request: object, callback: Callback) => void;

/** Clients of kubevirt.cmd.v1.Cmd and kubevirt.cmd.info.CmdInfo from the .proto files, as a Go client sees the wire. */
function protoClients(socket: string) {
  const definition = protoLoader.loadSync(['kubevirt/cmd/v1/cmd.proto', 'kubevirt/cmd/info/info.proto'], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    kubevirt: { cmd: { v1: { Cmd: grpc.ServiceClientConstructor }; info: { CmdInfo: grpc.ServiceClientConstructor } } };
  };
  const target = `unix:${socket}`;
  const cmd = new loaded.kubevirt.cmd.v1.Cmd(target, grpc.credentials.createInsecure());
  const info = new loaded.kubevirt.cmd.info.CmdInfo(target, grpc.credentials.createInsecure());
  const call =
    (client: grpc.Client) =>
    <T>(method: string, request: object = {}): Promise<T> =>
      new Promise((resolve, reject) => {
        const fn = (client as unknown as Record<string, Unary>)[method];
        if (!fn) throw new Error(`no method ${method} in the generated client`);
        fn.call(client, request, (err, value) => (err ? reject(err) : resolve(value as T)));
      });
  return {
    cmd: call(cmd),
    info: call(info),
    close() {
      cmd.close();
      info.close();
    },
  };
}

type GetDomainResponse = { response: Response; domain: string };
const vmiRequest = (vmi: object, options?: object) => ({
  vmi: { vmiJson: Buffer.from(JSON.stringify(vmi)) },
  ...(options ? { options } : {}),
});

/** The options a KubeVirt CR with a custom SMBIOS and balloon period makes virt-handler send. */
const OPTIONS = {
  VirtualMachineSMBios: { manufacturer: 'Initech', product: 'TPS-Report', version: '1.9', sku: 'SKU-77', family: 'Printers' },
  MemBalloonStatsPeriod: 7,
  PreallocatedVolumes: [],
  clusterConfig: { SerialConsoleLogDisabled: true, FreePageReportingDisabled: true, BochsDisplayForEFIGuests: false },
  interfaceDomainAttachment: {},
};

describe("virt-controller's exact argv with --allow-emulation, a container /dev without kvm", { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: ReturnType<typeof protoClients>;
  const uid = randomUUID();
  const vmi = testVMI({ name: 'testvmi', uid, autoattachMemBalloon: true });
  const domainName = 'default_testvmi';
  const liveXML = () => virsh(sandbox, ['dumpxml', domainName]);
  const domainStatus = async () => {
    const r = await client.cmd<GetDomainResponse>('GetDomain');
    assert.equal(r.response.success, true, r.response.message);
    return r.domain === '' ? undefined : (JSON.parse(r.domain) as { Status: { Status: string; Reason: string } }).Status;
  };

  before(async () => {
    sandbox = await createPodSandbox();
    launcher = await startLauncher(sandbox, vmi, [], { args: virtControllerArgv(uid, { allowEmulation: true }) });
    client = protoClients(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, sandbox }));

  test('the pod has a container /dev: the standard devices, devpts, shm, net/tun, and no kvm', () => {
    assert.equal(existsSync(sandbox.hostPath('/dev/kvm')), false, '/dev/kvm in the pod');
    for (const dev of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/net/tun']) {
      assert.ok(statSync(sandbox.hostPath(dev)).isCharacterDevice(), `${dev} is a character device`);
    }
    assert.ok(statSync(sandbox.hostPath('/dev/pts/ptmx')).isCharacterDevice(), 'a devpts instance');
    assert.ok(statSync(sandbox.hostPath('/dev/shm')).isDirectory(), '/dev/shm');
  });

  test('Info negotiates cmd v1; Ping succeeds; GetDomain before any sync: success, no domain', async () => {
    const info = await client.info<{ supportedCmdVersions: number[] }>('Info');
    assert.ok(info.supportedCmdVersions.includes(1), JSON.stringify(info));
    assert.deepEqual(await client.cmd<Response>('Ping'), { success: true, message: '' });
    const r = await client.cmd<GetDomainResponse>('GetDomain');
    assert.deepEqual(r, { response: { success: true, message: '' }, domain: '' });
  });

  test('GetQemuVersion answers the emulator version', async () => {
    const r = await client.cmd<{ response: Response; version: string }>('GetQemuVersion');
    assert.equal(r.response.success, true, r.response.message);
    assert.match(r.version, /^\d+\.\d+/);
  });

  test('SyncVirtualMachine with the handler options → success, the guest runs under TCG (no /dev/kvm, emulation allowed)', async () => {
    const r = await client.cmd<Response>('SyncVirtualMachine', vmiRequest(vmi, OPTIONS));
    assert.deepEqual(r, { success: true, message: '' });
    await poll('domain Running', async () => ((await domainStatus())?.Status === 'Running' ? true : undefined), 60_000, launcher.logs);
    assert.match(await liveXML(), /^<domain type='qemu'/, 'software emulation, as KubeVirt picks it without /dev/kvm');
  });

  test('the domain libvirt holds carries the options: SMBIOS system entries, balloon period, no serial log, no free page reporting', async () => {
    const xml = await liveXML();
    const system = /<sysinfo type='smbios'>\s*<system>([\s\S]*?)<\/system>/.exec(xml)?.[1] ?? '';
    const entries = Object.fromEntries([...system.matchAll(/<entry name='(\w+)'>([^<]*)<\/entry>/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(
      { manufacturer: entries.manufacturer, product: entries.product, version: entries.version, sku: entries.sku, family: entries.family },
      OPTIONS.VirtualMachineSMBios,
      system,
    );
    assert.equal(entries.uuid, uid, 'the firmware UUID (the VMI UID) stays first');
    const balloon = /<memballoon model='virtio[^']*'[^>]*>[\s\S]*?<\/memballoon>/.exec(xml)?.[0] ?? '';
    assert.match(balloon, /<stats period='7'\/>/, balloon || xml);
    assert.match(balloon, /freePageReporting='off'/, balloon);
    assert.doesNotMatch(xml, /<log file=/, 'SerialConsoleLogDisabled: no serial console log');
  });

  test('the test guest boots: its guest agent reports its OS through GetGuestInfo', async () => {
    const info = await poll(
      'guest info with the OS',
      async () => {
        const r = await client.cmd<{ response: Response; guestInfoResponse: string }>('GetGuestInfo');
        const gi = JSON.parse(r.guestInfoResponse || '{}') as { os?: { id?: string }; hostname?: string };
        // the agent poller asks for the OS and the host name in turn: wait for both
        return gi.os?.id === 'kvts-testguest' && gi.hostname ? gi : undefined;
      },
      120_000,
      launcher.logs,
    );
    assert.equal(info.hostname, 'testguest');
  });

  test('Pause → success, Paused; Unpause → success, Running', async () => {
    assert.deepEqual(await client.cmd<Response>('PauseVirtualMachine', vmiRequest(vmi)), { success: true, message: '' });
    await poll('domain Paused', async () => ((await domainStatus())?.Status === 'Paused' ? true : undefined), 20_000, launcher.logs);
    assert.deepEqual(await client.cmd<Response>('UnpauseVirtualMachine', vmiRequest(vmi)), { success: true, message: '' });
    await poll('domain Running', async () => ((await domainStatus())?.Status === 'Running' ? true : undefined), 20_000, launcher.logs);
  });
});

describe('without --allow-emulation, and with features this launcher lacks', { timeout: 120_000 }, () => {
  const started: Array<{ sandbox: PodSandbox; launcher?: RunningLauncher; client?: ReturnType<typeof protoClients> }> = [];
  const start = async (argv: (uid: string) => string[], env: Record<string, string> = {}) => {
    const uid = randomUUID();
    const entry: (typeof started)[number] = { sandbox: await createPodSandbox() };
    started.push(entry);
    entry.launcher = await startLauncher(entry.sandbox, { metadata: { name: 'testvmi', namespace: 'default', uid } }, [], {
      args: argv(uid),
      env,
    });
    entry.client = protoClients(entry.launcher.cmdSocket);
    return { ...entry, launcher: entry.launcher, client: entry.client, vmi: testVMI({ name: 'testvmi', uid }) };
  };

  after(async () => {
    for (const { sandbox, launcher, client } of started) {
      client?.close();
      if (launcher) {
        await launcher.stop('SIGKILL');
        if (process.exitCode) console.error(launcher.logs().slice(-10_000));
      }
      await sandbox.destroy();
    }
  });

  test("no /dev/kvm and no --allow-emulation → Sync fails in-band with KubeVirt's text, nothing defined", async () => {
    const env = { VIRT_LAUNCHER_LOG_VERBOSITY: '6', POD_NAME: 'virt-launcher-testvmi-x7k2p' };
    const { sandbox, client, vmi, launcher } = await start((uid) => virtControllerArgv(uid, { allowEmulation: false }), env);
    const r = await client.cmd<Response>('SyncVirtualMachine', vmiRequest(vmi));
    assert.deepEqual(r, { success: false, message: 'kvm not present and emulation is not allowed' });
    assert.deepEqual(await client.cmd<GetDomainResponse>('GetDomain'), { response: { success: true, message: '' }, domain: '' });
    assert.equal(await virsh(sandbox, ['list', '--all', '--name']), '', 'no domain defined');

    // VIRT_LAUNCHER_LOG_VERBOSITY 6: the launcher logs at V(6), libvirt gets the level-2 debug filters
    const daemonConf = readFileSync(sandbox.hostPath('/var/run/libvirt/libvirtd.conf'), 'utf8');
    assert.match(daemonConf, /^log_filters=".*3:qemu\.qemu_monitor 1:\*"$/m, daemonConf);
    assert.doesNotMatch(daemonConf, /qemu_monitor_json/, 'level 2, not level 1');
    assert.match(launcher.logs(), /set log verbosity to 6/);
  });

  test('--image-volume: the launcher starts and serves; Sync fails naming it', async () => {
    const { client, vmi, launcher, sandbox } = await start(
      (uid) => [...virtControllerArgv(uid, { allowEmulation: true }), '--image-volume', '--libvirt-log-filters', '3:remote 1:qemu'],
      { LIBVIRT_DEBUG_LOGS: '1' },
    );
    const daemonConf = readFileSync(sandbox.hostPath('/var/run/libvirt/libvirtd.conf'), 'utf8');
    assert.match(daemonConf, /^log_filters="3:remote 1:qemu"$/m, '--libvirt-log-filters wins over LIBVIRT_DEBUG_LOGS');
    assert.deepEqual(await client.cmd<Response>('Ping'), { success: true, message: '' });
    const r = await client.cmd<Response>('SyncVirtualMachine', vmiRequest(vmi));
    assert.equal(r.success, false);
    assert.match(r.message, /--image-volume: ImageVolume disks are not supported/);

    // KubeVirt's waitForDomainUUID returns on a signal: no domain, nothing to shut down or report
    launcher.process.kill('SIGTERM');
    const exited = () => Promise.resolve(launcher.process.exitCode ?? undefined);
    const code = await poll('the launcher exits on SIGTERM without a domain', exited, 15_000, launcher.logs);
    assert.equal(code, 0, launcher.logs().slice(-3000));
    assert.match(launcher.logs(), /Received signal SIGTERM/);
    assert.match(launcher.logs(), /Exiting\.\.\./);
    assert.doesNotMatch(launcher.logs(), /Detected domain with UUID|Waiting on final notifications/);
  });
});
