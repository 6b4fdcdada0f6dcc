// What node-labeller.sh (the `virt-launcher` init container of KubeVirt's handler DaemonSet) writes, made by
// the same virsh commands against a real libvirtd in a pod sandbox. Virt type qemu: this machine's KVM
// guests hang, and the script picks qemu where /dev/kvm is missing.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPodSandbox, type PodSandbox } from './pod-sandbox.ts';
import { startLibvirtd, virsh } from './libvirtd.ts';

async function virshHelp(sandbox: PodSandbox, command: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const c = sandbox.spawn('virsh', [command, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', () => resolve(out));
  });
}

/** node-labeller.sh's x86_64 commands, run in `sandbox` against its libvirtd, their output into `dir`. */
export async function runNodeLabellerCommands(sandbox: PodSandbox, dir: string): Promise<void> {
  const base = ['domcapabilities', '--machine', 'q35', '--arch', 'x86_64', '--virttype', 'qemu'];
  const help = await virshHelp(sandbox, 'domcapabilities');
  const expand = help.includes('--expand-cpu-features') ? ['--expand-cpu-features'] : [];
  const supportedOnly = help.includes('--supported-cpu-features') ? ['--supported-cpu-features'] : [];
  writeFileSync(path.join(dir, 'virsh_domcapabilities.xml'), await virsh(sandbox, [...base, ...expand]));
  // the script pipes domcapabilities into hypervisor-cpu-baseline; a file inside the pod does the same
  writeFileSync(sandbox.hostPath('/var/lib/libvirt/domcaps.xml'), await virsh(sandbox, [...base, ...expand, ...supportedOnly]));
  const baseline = [
    'hypervisor-cpu-baseline',
    '--features',
    '/var/lib/libvirt/domcaps.xml',
    '--machine',
    'q35',
    '--arch',
    'x86_64',
    '--virttype',
    'qemu',
  ];
  writeFileSync(path.join(dir, 'supported_features.xml'), await virsh(sandbox, baseline));
  writeFileSync(path.join(dir, 'capabilities.xml'), await virsh(sandbox, ['capabilities']));
}

/** A sandbox and libvirtd just for the files, both gone afterwards. */
export async function makeNodeLabellerFiles(dir: string): Promise<void> {
  const sandbox = await createPodSandbox();
  try {
    const libvirtd = await startLibvirtd(sandbox);
    try {
      await runNodeLabellerCommands(sandbox, dir);
    } finally {
      await libvirtd.stop();
    }
  } finally {
    await sandbox.destroy();
  }
}
