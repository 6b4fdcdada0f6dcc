// The README's main job: `pnpm demo` on the real node — kubelet runs our handler DaemonSet and the
// example VMI's launcher pod, the VM boots in it, virt-api's calls go to the handler pod — and Ctrl-C
// leaves the machine as it was. `--sandbox --once` is the quick look's walk-through, torn down at once.
// Both boot guests and the first holds the machine's one kubelet:
//   flock /tmp/kvts-heavy.lock node --test test/demo.test.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { poll } from './bed/poll.ts';
import { mountsUnder } from './bed/mounts.ts';
import { BRIDGE, CGROUP_ROOT, KUBELET_ROOT, NODE_BASE } from './node/host.ts';

/** The walk-through's stage lines, in either mode. */
const WALK_THROUGH = [
  /GET guestosinfo → 200/,
  /GET userlist → 200/,
  /GET filesystemlist → 200: .*\/mnt\/data/,
  /PUT pause → 202/,
  /condition Paused/,
  /PUT unpause → 202/,
  // the guest's own answer to uname -a, from the console websocket
  /Linux \S+ \d+\.\d+\.\d+\S* .*x86_64/,
];

/** Processes whose command line names `name` (the launcher's `--name`, QEMU's `guest=<ns>_<name>`), with their cgroup paths. */
function processesNaming(name: string): Array<{ cmdline: string; cgroups: string }> {
  const found: Array<{ cmdline: string; cgroups: string }> = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      // pnpm and the demo carry `--name <name>` too
      if (!cmdline.includes(name) || cmdline.includes('demo')) continue;
      found.push({ cmdline: `${pid}: ${cmdline}`, cgroups: readFileSync(`/proc/${pid}/cgroup`, 'utf8') });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test('pnpm demo: the VM boots in a kubelet pod beside the handler DaemonSet pod; Ctrl-C leaves nothing of the node', {
  timeout: 600_000,
}, async (t) => {
  const name = `ctrlc-${randomBytes(3).toString('hex')}`;
  // detached: the demo leads its own process group, as a shell's foreground job does, so the SIGINT
  // below reaches every process of that group the way a terminal's Ctrl-C does.
  // Through pnpm, as the README runs it: pnpm sits between the terminal and the demo.
  const demo = spawn('pnpm', ['demo', '--name', name], {
    cwd: path.join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    await poll(
      'the demo waiting for Ctrl-C',
      async () => (out.includes('Ctrl-C here tears everything down') ? true : undefined),
      480_000,
      () => out,
    );
    for (const line of [
      /node kvts-node Ready/,
      /virt-handler DaemonSet pod kubevirt\/virt-handler-\S+ Ready/,
      /VMI default\/\S+ is Running/,
      /VMI default\/\S+ Ready: its launcher pod Ready/,
    ])
      assert.match(out, line);
    for (const line of WALK_THROUGH) assert.match(out, line);
    // `kubectl get pods,vmi -A`, from the apiserver's own tables: both pods Running, the VMI Running and Ready on the node
    assert.match(out, /kubevirt\s+pod\/virt-handler-\S+\s+1\/1\s+Running\s+0\s/);
    assert.match(out, new RegExp(`default\\s+pod/virt-launcher-${name}-\\S+\\s+(\\d+)/\\1\\s+Running\\s+0\\s`));
    assert.match(out, new RegExp(`default\\s+virtualmachineinstance\\.kubevirt\\.io/${name}\\s+\\S+\\s+Running\\s+kvts-node\\s+True\\b`));

    // kubelet started them: the launcher and QEMU run in the node's pod cgroups, not the demo's
    const vmProcesses = processesNaming(name);
    const cmdlines = vmProcesses.map((p) => p.cmdline).join('\n');
    assert.ok(
      vmProcesses.some((p) => p.cmdline.includes('virt-launcher')),
      `a virt-launcher for ${name}:\n${cmdlines}\n${out}`,
    );
    assert.ok(
      vmProcesses.some((p) => p.cmdline.includes(`guest=default_${name}`)),
      `a QEMU for ${name}:\n${cmdlines}`,
    );
    for (const p of vmProcesses) assert.match(p.cgroups, new RegExp(`/${CGROUP_ROOT}/kubepods`), `${p.cmdline} in a pod's cgroup`);

    // the VM's page, served by the virt-api stand-in
    const page = /^\s+(http:\/\/127\.0\.0\.1:\d+\/vmi\/\S+)$/m.exec(out)?.[1];
    assert.ok(page, `the page's URL printed:\n${out}`);
    const res = await fetch(page);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<html/i);
    const origin = new URL(page).origin;
    const vmi = (await (await fetch(`${origin}/api/vmi/default/${name}`)).json()) as { phase?: string; nodeName?: string };
    assert.deepEqual([vmi.phase, vmi.nodeName], ['Running', 'kvts-node']);
    // virt-api's subresource, relayed to the handler pod with virt-api's client certificate
    const info = await fetch(`${origin}/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/${name}/guestosinfo`);
    assert.equal(info.status, 200);
    assert.match(await info.text(), /kubevirt-ts test guest/);
  } finally {
    const pid = demo.pid;
    assert.ok(pid !== undefined);
    if (demo.exitCode === null) process.kill(-pid, 'SIGINT');
  }
  const interruptedAt = Date.now();
  const [code, signal] = await exited;
  // figures for the README: the demo's own stage clock, and Ctrl-C → exit
  const at = (re: RegExp) => re.exec(out)?.[1] ?? '?';
  t.diagnostic(`nothing → VMI Running: ${at(/^\[\s*([\d.]+) s\] VMI \S+ is Running/m)} s`);
  t.diagnostic(`nothing → guest agent connected: ${at(/^\[\s*([\d.]+) s\] guest agent connected/m)} s`);
  t.diagnostic(`Ctrl-C → exit, torn down: ${((Date.now() - interruptedAt) / 1000).toFixed(1)} s`);
  assert.equal(signal, null, out);
  assert.equal(code, 0, out);
  // KubeVirt's order: the VMI and its pod, then the DaemonSet and its pod, then the node
  const position = (re: RegExp) => out.search(re);
  const order = [
    /VMI default\/\S+ deleted, its launcher pod gone/,
    /virt-handler DaemonSet deleted, its pod gone/,
    /node stopped/,
    /torn down/,
  ];
  for (const re of order) assert.ok(position(re) >= 0, `${re} in:\n${out}`);
  assert.deepEqual(
    order.map(position),
    order.map(position).toSorted((a, b) => a - b),
    out,
  );
  assert.doesNotMatch(out, /ELIFECYCLE|Command failed/);

  assert.deepEqual(processesNaming(name), [], 'nothing of the VM is left running');
  assert.deepEqual(mountsUnder(NODE_BASE), []);
  assert.deepEqual(mountsUnder(KUBELET_ROOT), []);
  for (const p of [NODE_BASE, KUBELET_ROOT]) assert.equal(existsSync(p), false, `${p} removed`);
  assert.equal(existsSync(`/sys/class/net/${BRIDGE}`), false, 'the pod bridge deleted');
  for (const ctrl of readdirSync('/sys/fs/cgroup'))
    assert.equal(existsSync(path.join('/sys/fs/cgroup', ctrl, CGROUP_ROOT)), false, `cgroup ${ctrl}/${CGROUP_ROOT} removed`);
  // containerd keeps pod netns files under its state dir (gone with NODE_BASE); none in the host's place
  const netns = existsSync('/var/run/netns') ? readdirSync('/var/run/netns') : [];
  assert.deepEqual(
    netns.filter((n) => n.startsWith('cni-')),
    [],
    'no pod netns left',
  );
});

test('pnpm demo, Ctrl-C while the node starts: it is stopped all the same, exit 0', { timeout: 300_000 }, async () => {
  const demo = spawn(process.execPath, [path.join(import.meta.dirname, 'demo', 'demo.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    // the host prepared: the node is on its way up, nothing of it deferred yet but its start
    await poll(
      'the node starting',
      async () => (existsSync(NODE_BASE) ? true : undefined),
      180_000,
      () => out,
    );
  } finally {
    if (demo.exitCode === null) process.kill(-demo.pid!, 'SIGINT');
  }
  const [code, signal] = await exited;
  assert.equal(signal, null, out);
  assert.equal(code, 0, out);
  // interrupted before the handler was deployed, torn down through the node's stop
  assert.doesNotMatch(out, /virt-handler DaemonSet pod/);
  assert.match(out, /node stopped[\s\S]*torn down/);
  assert.deepEqual(mountsUnder(NODE_BASE), []);
  assert.deepEqual(mountsUnder(KUBELET_ROOT), []);
  for (const p of [NODE_BASE, KUBELET_ROOT]) assert.equal(existsSync(p), false, `${p} removed`);
  assert.equal(existsSync(`/sys/class/net/${BRIDGE}`), false, 'the pod bridge deleted');
});

test('pnpm demo --sandbox --once: the quick look, VMI Running, the walk-through, clean teardown', { timeout: 300_000 }, async () => {
  const name = `quick-${randomBytes(3).toString('hex')}`;
  const demo = spawn(process.execPath, [path.join(import.meta.dirname, 'demo', 'demo.ts'), '--sandbox', '--once', '--name', name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(demo, 'exit')) as [number | null];
  assert.equal(code, 0, out);
  for (const line of [/virt-launcher started in pod/, /VMI \S+ is Running/, ...WALK_THROUGH, /torn down/]) assert.match(out, line);
  // no kubelet in the quick look
  assert.doesNotMatch(out, /kubectl get|DaemonSet/);
  // every stage line carries its timing
  assert.ok(out.split('\n').filter((l) => /^\[\s*\d+\.\d s\] .*\(\+\d+ ms\)$/.test(l)).length >= 10, out);
  assert.deepEqual(processesNaming(name), [], 'nothing of the demo is left running');
});
