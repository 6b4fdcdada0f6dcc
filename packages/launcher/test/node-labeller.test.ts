// node-labeller.sh (packages/launcher/native): virt-handler's init container, run as root in a pod sandbox
// (private mount namespace, /run, /etc/libvirt, /var/lib/libvirt of its own) with a container /dev and a
// /proc/misc without kvm, as on a node without KVM: the three XML files from libvirt, virt type qemu, and the
// private libvirtd stopped again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPodSandbox, processesInNamespace, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';

const SCRIPT = path.resolve(import.meta.dirname, '../native/node-labeller.sh');
const work = mkdtempSync(path.join(tmpdir(), 'kvts-labeller-'));

describe('node-labeller.sh on a node without KVM', { timeout: 120_000 }, () => {
  let sandbox: PodSandbox;
  let code: number | null;
  let output = '';
  const labellerDir = path.join(work, 'node-labeller');

  before(async () => {
    sandbox = await createPodSandbox();
    const misc = path.join(work, 'misc');
    writeFileSync(misc, readFileSync('/proc/misc', 'utf8').split('\n').filter((l) => !/\skvm$/.test(l)).join('\n'));
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
      // a kernel without the kvm module
      `mount --bind ${misc} /proc/misc`,
      `exec /bin/sh -c node-labeller.sh`,
    ].join('\n');
    const child = sandbox.spawn('/bin/sh', ['-c', setup], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${path.dirname(SCRIPT)}:/usr/sbin:/usr/bin:/sbin:/bin`, PREFERRED_VIRTTYPE: 'kvm', HYPERVISOR_DEVICE: 'kvm' },
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    [code] = (await once(child, 'exit')) as [number | null];
  });

  after(async () => {
    await sandbox?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  test('exits 0 and writes the three files KubeVirt\'s node labeller reads', () => {
    assert.equal(code, 0, output);
    const files = readdirSync(labellerDir);
    for (const f of ['virsh_domcapabilities.xml', 'supported_features.xml', 'capabilities.xml']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  });

  test('virsh_domcapabilities.xml: libvirt\'s domain capabilities for q35, x86_64, virt type qemu (no KVM here)', () => {
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

  test('capabilities.xml: libvirt\'s host capabilities', () => {
    const xml = readFileSync(path.join(labellerDir, 'capabilities.xml'), 'utf8');
    assert.match(xml, /^<capabilities>/);
    assert.match(xml, /<host>[\s\S]*<arch>x86_64<\/arch>/);
    assert.match(xml, /<guest>[\s\S]*<os_type>hvm<\/os_type>/);
  });

  test('the private libvirtd is stopped: only the sandbox\'s own process is left', () => {
    const mntNs = readlinkSync(`/proc/${sandbox.pid}/ns/mnt`);
    assert.deepEqual(processesInNamespace(mntNs), [sandbox.pid]);
  });
});
