// virtiofs as KubeVirt runs it, on real parts: the launcher pod with its virtiofs-containers volume
// and a `virtiofs-<volume>` container per filesystem (test/bed/virtiofs-container.ts: virtiofsd as
// uid 107), the launcher's domain with KubeVirt's vhost-user-fs devices and shared memfd memory, and
// the test guest mounting the shares (kvts.virtiofs=TAG:DIR). A claim's directory is written both ways;
// a configMap's is read. A VMI whose virtiofs socket never appears fails its sync with libvirt's error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import {
  NONROOT_ENV,
  NONROOT_UID,
  asRequest,
  startLauncher,
  stopLauncherTest,
  testVMI,
  virtControllerArgv,
  type RunningLauncher,
} from '../../../test/bed/launcher.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { poll } from '../../../test/bed/poll.ts';
import { SerialConsole } from '../../../test/bed/serial.ts';
import { applyWebhookDefaults } from '../../../test/bed/vmi-defaults.ts';
import { startVirtiofsContainer, type SharedVolume, type VirtiofsContainer } from '../../../test/bed/virtiofs-container.ts';

// biome-ignore lint/suspicious/noExplicitAny: the webhook's unchecked JSON, sent as the handler sends it
type DefaultedVMI = { metadata: { name: string; namespace: string; uid: string }; spec: any; status: any };

const CLAIM: SharedVolume = { name: 'shared', persistentVolumeClaim: { claimName: 'shared-files' } };
const CONFIG_MAP: SharedVolume = { name: 'appconfig', configMap: { name: 'app-config' } };

/** The test guest with `volumes` as virtiofs filesystems, mounted by the guest as /mnt/<name>. */
function virtiofsVMI(name: string, uid: string, volumes: readonly SharedVolume[]): DefaultedVMI {
  const mounts = volumes.map((v) => `${v.name}:/mnt/${v.name}`).join(',');
  const base = testVMI({ name, uid, kernelArgs: `kvts.virtiofs=${mounts}`, terminationGracePeriodSeconds: 0 });
  const written = {
    ...base,
    spec: {
      ...base.spec,
      domain: {
        ...base.spec.domain,
        devices: { ...base.spec.domain.devices, filesystems: volumes.map((v) => ({ name: v.name, virtiofs: {} })) },
      },
      volumes: [...base.spec.volumes, ...volumes],
    },
  };
  const vmi = applyWebhookDefaults(written) as DefaultedVMI;
  vmi.status.phase = 'Scheduled';
  return vmi;
}

describe('virtiofs filesystems: a claim and a configMap shared with the guest', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const containers: VirtiofsContainer[] = [];
  const uid = randomUUID();
  const vmi = virtiofsVMI('vmi-virtiofs', uid, [CLAIM, CONFIG_MAP]);
  let claimDir = '';
  let configMapDir = '';

  before(async () => {
    sandbox = await createPodSandbox({ virtiofs: true });
    // the claim's files as the kubelet mounts them: the pod's fsGroup (107) may write there
    claimDir = mkdtempSync(path.join(sandbox.podDir, 'claim-'));
    chownSync(claimDir, NONROOT_UID, NONROOT_UID);
    writeFileSync(path.join(claimDir, 'from-host.txt'), 'written on the node\n');
    // a configMap's files as the kubelet lays them out: readable by every container user
    configMapDir = mkdtempSync(path.join(sandbox.podDir, 'configmap-'));
    chmodSync(configMapDir, 0o755);
    writeFileSync(path.join(configMapDir, 'app.properties'), 'greeting=hello from a configMap\n');
    containers.push(await startVirtiofsContainer(sandbox, CLAIM, claimDir));
    containers.push(await startVirtiofsContainer(sandbox, CONFIG_MAP, configMapDir));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
  });

  after(async () => {
    if (process.exitCode) for (const c of containers) console.error(`${c.name}: ${c.output()}`);
    await stopLauncherTest({ client, launcher, sandbox });
  });

  test('the webhook gave the shared volumes no disk', () => {
    assert.deepEqual(
      vmi.spec.domain.devices.disks.map((d: { name: string }) => d.name),
      ['data'],
    );
  });

  test("SyncVirtualMachine starts the domain with KubeVirt's filesystems and shared memfd memory", async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll(
      'the domain running',
      async () => ((await virsh(sandbox, ['domstate', 'default_vmi-virtiofs'])) === 'running' ? true : undefined),
      60_000,
      launcher.logs,
    );
    const xml = await virsh(sandbox, ['dumpxml', 'default_vmi-virtiofs']);
    for (const name of [CLAIM.name, CONFIG_MAP.name]) {
      assert.match(
        xml,
        new RegExp(
          // libvirt leaves out passthrough, virtiofs's only access mode, from the live XML
          `<filesystem type='mount'>\\s*<driver type='virtiofs' queue='1024'/>\\s*` +
            `<source socket='/var/run/kubevirt/virtiofs-containers/${name}.sock'/>\\s*<target dir='${name}'/>`,
        ),
      );
    }
    assert.match(xml, /<memoryBacking>\s*<source type='memfd'\/>\s*<access mode='shared'\/>\s*<\/memoryBacking>/);
    // the cell memfd needs, over every vCPU the webhook's hotplug room gives
    assert.match(xml, /<numa>\s*<cell id='0' cpus='0-3' memory='131072' unit='KiB'\/>\s*<\/numa>/);
  });

  test('the guest mounts both shares, reads the files the node wrote and writes to the claim', async () => {
    const serial = await SerialConsole.open(sandbox.hostPath(`/var/run/kubevirt-private/${uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, 120_000);
      const mounts = await serial.run('grep virtiofs /proc/mounts');
      assert.match(mounts, /^shared \/mnt\/shared virtiofs rw/m);
      assert.match(mounts, /^appconfig \/mnt\/appconfig virtiofs/m);
      assert.match(await serial.run('cat /mnt/shared/from-host.txt'), /written on the node/);
      assert.match(await serial.run('cat /mnt/appconfig/app.properties'), /greeting=hello from a configMap/);
      await serial.run('echo "written by the guest" > /mnt/shared/from-guest.txt && sync');
      // the kubelet mounts a configMap read-only, and so the guest sees it
      assert.match(await serial.run('touch /mnt/appconfig/x || echo refused'), /Read-only file system|refused/);
    } finally {
      serial.close();
    }
    const written = path.join(claimDir, 'from-guest.txt');
    await poll('the guest file on the node', async () => (existsSync(written) ? true : undefined), 10_000);
    assert.equal(readFileSync(written, 'utf8'), 'written by the guest\n');
    // virtiofsd runs as 107, as KubeVirt's container: the guest's root creates 107's files
    assert.equal(statSync(written).uid, NONROOT_UID);
    assert.ok(!existsSync(path.join(configMapDir, 'x')));
  });

  test('the virtiofs containers serve as uid 107, privileged only in a user namespace of their own', async () => {
    for (const c of containers) {
      const pid = c.process.pid;
      assert.ok(pid !== undefined && c.process.exitCode === null, `${c.name} running`);
      // nsenter and unshare exec'd: the child is the daemon itself
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /virtiofsd/);
      assert.match(status, /^Uid:\s+107\s+107\s+107\s+107$/m);
      // its capabilities are those of a user namespace of its own, which maps uid 107 alone
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/user`), readlinkSync('/proc/self/ns/user'));
      assert.deepEqual(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/), ['0', '107', '1']);
    }
  });
});

describe('virtiofs: a VMI whose virtiofs container never serves', { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const uid = randomUUID();
  const vmi = virtiofsVMI('vmi-nofs', uid, [CLAIM]);

  before(async () => {
    sandbox = await createPodSandbox({ virtiofs: true });
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, sandbox }));

  test("SyncVirtualMachine fails in-band with libvirt's error naming the socket; the launcher keeps serving", async () => {
    const socket = '/var/run/kubevirt/virtiofs-containers/shared.sock';
    const reply = await client.SyncVirtualMachine(asRequest(vmi));
    assert.equal(reply.success, false);
    assert.match(reply.message, /^LibvirtError\(Code=\d+, Domain=\d+, Message='.*'\)$/s);
    // QEMU's vhost-user chardev finds no daemon behind the socket
    assert.ok(reply.message.includes(`Failed to connect to '${socket}': No such file or directory`), reply.message);
    assert.equal(await virsh(sandbox, ['domstate', 'default_vmi-nofs']).catch(() => 'gone'), 'shut off');
    assert.deepEqual(await client.Ping({}), { success: true, message: '' });
  });

  test('once the container serves, the next sync starts the domain', async () => {
    const dir = mkdtempSync(path.join(sandbox.podDir, 'claim-'));
    chownSync(dir, NONROOT_UID, NONROOT_UID);
    mkdirSync(path.join(dir, 'sub'));
    await startVirtiofsContainer(sandbox, CLAIM, dir);
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll(
      'the domain running',
      async () => ((await virsh(sandbox, ['domstate', 'default_vmi-nofs'])) === 'running' ? true : undefined),
      60_000,
      launcher.logs,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("virtiofs in KubeVirt's default (non-root) launcher pod", { timeout: 300_000 }, () => {
  let sandbox: PodSandbox;
  let launcher: RunningLauncher;
  let client: CmdClient;
  const uid = randomUUID();
  // virtControllerArgv renders the compute container of VMI `testvmi`
  const vmi = virtiofsVMI('testvmi', uid, [CLAIM]);
  let claimDir = '';

  before(async () => {
    sandbox = await createPodSandbox({ virtiofs: true });
    claimDir = mkdtempSync(path.join(sandbox.podDir, 'claim-'));
    chownSync(claimDir, NONROOT_UID, NONROOT_UID);
    writeFileSync(path.join(claimDir, 'from-host.txt'), 'for a non-root guest\n');
    await startVirtiofsContainer(sandbox, CLAIM, claimDir);
    const args = virtControllerArgv(uid, { allowEmulation: true, runAsNonRoot: true });
    launcher = await startLauncher(sandbox, vmi, [], { args, nonRootUser: NONROOT_UID, env: NONROOT_ENV });
    client = await cmdClient(launcher.cmdSocket);
  });

  after(() => stopLauncherTest({ client, launcher, sandbox }));

  test("QEMU as uid 107 reaches the virtiofs container's socket; the guest reads and writes the claim", async () => {
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    await poll(
      'the domain running',
      async () => {
        // the session daemon's domain, through the launcher (no virsh on qemu:///system here)
        const r = await client.GetDomain({});
        return r.domain !== '' && (JSON.parse(r.domain) as { Status: { Status: string } }).Status.Status === 'Running' ? true : undefined;
      },
      60_000,
      launcher.logs,
    );
    const serial = await SerialConsole.open(sandbox.hostPath(`/var/run/kubevirt-private/${uid}/virt-serial0`));
    try {
      await serial.waitForPrompt(GUEST_PROMPT, 120_000);
      assert.match(await serial.run('cat /mnt/shared/from-host.txt'), /for a non-root guest/);
      await serial.run('echo "from a non-root pod" > /mnt/shared/from-guest.txt && sync');
    } finally {
      serial.close();
    }
    const written = path.join(claimDir, 'from-guest.txt');
    await poll('the guest file on the node', async () => (existsSync(written) ? true : undefined), 10_000);
    assert.equal(readFileSync(written, 'utf8'), 'from a non-root pod\n');
    assert.equal(statSync(written).uid, NONROOT_UID);
  });
});
