// node-labeller.sh (packages/launcher/native): virt-handler's init container, run as root in a pod sandbox
// (private mount namespace, /run, /etc/libvirt, /var/lib/libvirt of its own) with a container /dev and a
// /proc/misc without kvm, as on a node without KVM: the three XML files from libvirt, virt type qemu, and the
// private libvirtd stopped again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPodSandbox, processesInNamespace, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../native/node-labeller.sh');
const work = mkdtempSync(path.join(tmpdir(), 'kvts-labeller-'));

interface LabellerRun {
  sandbox: PodSandbox;
  code: number | null;
  output: string;
  labellerDir: string;
  /** The container's /dev, as the sandbox sees it. */
  dev: string;
}

/**
 * Runs node-labeller.sh in a fresh pod sandbox, as virt-handler's init container: a container /dev (the usual
 * character devices, no kvm), and — `kvmModule: false` — a /proc/misc without kvm (a kernel without the module).
 */
async function runLabeller(name: string, opts: { kvmModule: boolean; env: Record<string, string> }): Promise<LabellerRun> {
  const sandbox = await createPodSandbox();
  const labellerDir = path.join(work, name);
  let output = '';
  const misc = path.join(work, `${name}-misc`);
  writeFileSync(
    misc,
    readFileSync('/proc/misc', 'utf8')
      .split('\n')
      .filter((l) => opts.kvmModule || !/\skvm$/.test(l))
      .join('\n'),
  );
  const devices = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];
  const setup = [
    'set -e',
    // the hostPath volume node-labeller (/var/lib/kubevirt-node-labeller)
    `mkdir -p ${labellerDir} /var/lib/kubevirt-node-labeller`,
    `mount --bind ${labellerDir} /var/lib/kubevirt-node-labeller`,
    // a container's /dev: the usual character devices, no kvm
    'mkdir /run/host-dev && mount --bind /dev /run/host-dev',
    'mount -t tmpfs -o mode=0755 tmpfs /dev',
    ...devices.map((d) => `touch /dev/${d} && mount --bind /run/host-dev/${d} /dev/${d}`),
    'umount /run/host-dev && rmdir /run/host-dev',
    // the links a container runtime makes in /dev
    'ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin && ln -s fd/1 /dev/stdout && ln -s fd/2 /dev/stderr',
    // the kernel's misc devices (without kvm: a kernel without the module)
    `mount --bind ${misc} /proc/misc`,
    `exec /bin/sh -c node-labeller.sh`,
  ].join('\n');
  const child = sandbox.spawn('/bin/sh', ['-c', setup], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: `${path.dirname(SCRIPT)}:/usr/sbin:/usr/bin:/sbin:/bin`, ...opts.env },
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { sandbox, code, output, labellerDir, dev: sandbox.hostPath('/dev') };
}

after(() => rmSync(work, { recursive: true, force: true }));

describe('node-labeller.sh on a node without KVM', { timeout: 120_000 }, () => {
  let sandbox: PodSandbox;
  let code: number | null;
  let output = '';
  let labellerDir = '';

  before(async () => {
    ({ sandbox, code, output, labellerDir } = await runLabeller('no-kvm', {
      kvmModule: false,
      env: { PREFERRED_VIRTTYPE: 'kvm', HYPERVISOR_DEVICE: 'kvm' },
    }));
  });

  after(async () => sandbox?.destroy());

  test("exits 0 and writes the three files KubeVirt's node labeller reads", () => {
    assert.equal(code, 0, output);
    const files = readdirSync(labellerDir);
    for (const f of ['virsh_domcapabilities.xml', 'supported_features.xml', 'capabilities.xml'])
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  });

  test("virsh_domcapabilities.xml: libvirt's domain capabilities for q35, x86_64, virt type qemu (no KVM here)", () => {
    const xml = readFileSync(path.join(labellerDir, 'virsh_domcapabilities.xml'), 'utf8');
    assert.match(xml, /^<domainCapabilities>/);
    assert.match(xml, /<path>\/usr\/bin\/qemu-system-x86_64<\/path>/);
    assert.match(xml, /<domain>qemu<\/domain>/);
    assert.match(xml, /<machine>pc-q35-[\d.]+<\/machine>/);
    assert.match(xml, /<arch>x86_64<\/arch>/);
    assert.match(xml, /<cpu>[\s\S]*<mode name='host-model' supported='yes'>/);
    assert.match(output, /virttype qemu/);
  });

  test('supported_features.xml: the baseline CPU with its features', () => {
    const xml = readFileSync(path.join(labellerDir, 'supported_features.xml'), 'utf8');
    assert.match(xml, /^<cpu mode='custom' match='exact'>/);
    assert.match(xml, /<model fallback='forbid'>[\w-]+<\/model>/);
    assert.ok((xml.match(/<feature policy='require' name='[\w.-]+'\/>/g) ?? []).length > 3, xml);
  });

  test("capabilities.xml: libvirt's host capabilities", () => {
    const xml = readFileSync(path.join(labellerDir, 'capabilities.xml'), 'utf8');
    assert.match(xml, /^<capabilities>/);
    assert.match(xml, /<host>[\s\S]*<arch>x86_64<\/arch>/);
    assert.match(xml, /<guest>[\s\S]*<os_type>hvm<\/os_type>/);
  });

  test("the private libvirtd is stopped: only the sandbox's own process is left", () => {
    const mntNs = readlinkSync(`/proc/${sandbox.pid}/ns/mnt`);
    assert.deepEqual(processesInNamespace(mntNs), [sandbox.pid]);
  });
});

describe('node-labeller.sh on a node with KVM, env unset', { timeout: 120_000 }, () => {
  let run: LabellerRun;
  before(async () => {
    run = await runLabeller('kvm', { kvmModule: true, env: {} });
  });
  after(async () => run?.sandbox.destroy());

  test('defaults to kvm with a warning, makes /dev/kvm from /proc/misc (o+rw) and asks for virt type kvm', () => {
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Warning: Env vars HYPERVISOR_DEVICE or PREFERRED_VIRTTYPE not set\. Defaulting to KVM values for both vars/);
    const minor = /^\s*(\d+) kvm$/m.exec(readFileSync('/proc/misc', 'utf8'))?.[1];
    const kvm = statSync(path.join(run.dev, 'kvm'));
    assert.ok(kvm.isCharacterDevice());
    assert.deepEqual([kvm.rdev >> 8, kvm.rdev & 0xff], [10, Number(minor)]);
    assert.ok(kvm.mode & 0o006, '/dev/kvm is o+rw');
    const xml = readFileSync(path.join(run.labellerDir, 'virsh_domcapabilities.xml'), 'utf8');
    assert.match(xml, /<domain>kvm<\/domain>/);
  });
});
