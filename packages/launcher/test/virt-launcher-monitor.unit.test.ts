// virt-launcher-monitor (packages/launcher/native) as PID 1 of a PID namespace, in front of a stand-in
// launcher (a shell script that records what it sees): what KubeVirt's cmd/virt-launcher-monitor does.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsonLines, nativeProgram, rssKiB, startAsPid1, type Pid1Process } from '../../../test/bed/native.ts';
import { poll } from '../../../test/bed/poll.ts';

const work = mkdtempSync(path.join(tmpdir(), 'kvts-monitor-'));
const running: Pid1Process[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.kill()));
  rmSync(work, { recursive: true, force: true });
});

let scripts = 0;
/** A stand-in virt-launcher: records its argv in <dir>/argv, then runs `body` (bash). */
function fakeLauncher(body: string): { path: string; dir: string } {
  const dir = path.join(work, `launcher-${++scripts}`);
  mkdirSync(dir);
  const file = path.join(dir, 'virt-launcher');
  writeFileSync(file, `#!/bin/bash\nprintf '%s\\n' "$@" > ${dir}/argv\ncd ${dir}\n${body}\n`);
  chmodSync(file, 0o755);
  return { path: file, dir };
}

const LAUNCHER_ARGS = ['--qemu-timeout', '245s', '--name', 'testvmi', '--uid', '1234', '--namespace', 'default'];

/**
 * The monitor in front of `launcher`, in a network namespace of its own: its loopback is down unless the
 * launcher brings it up, so the monitor's look for an istio-proxy on localhost fails at once.
 */
async function monitor(launcher: { path: string }, args: readonly string[] = LAUNCHER_ARGS, env: NodeJS.ProcessEnv = {}) {
  const p = await startAsPid1(
    nativeProgram('virt-launcher-monitor'),
    args,
    { KUBEVIRT_TS_VIRT_LAUNCHER: launcher.path, ...env },
    { newNetwork: true },
  );
  running.push(p);
  return p;
}

const waitFile = (file: string, what: string, p: Pid1Process) =>
  poll(
    what,
    async () => (existsSync(file) ? readFileSync(file, 'utf8') : undefined),
    10_000,
    () => p.output(),
  );

describe('virt-launcher-monitor', () => {
  test('runs the launcher with the same arguments and exits with its code; logs are KubeVirt JSON lines', async () => {
    const launcher = fakeLauncher('exit 7');
    const p = await monitor(launcher);
    assert.equal(await p.exited, 7, p.output());
    assert.deepEqual(readFileSync(path.join(launcher.dir, 'argv'), 'utf8').trim().split('\n'), LAUNCHER_ARGS);
    const lines = jsonLines(p.output());
    assert.ok(lines.length > 0, p.output());
    for (const line of lines) {
      assert.equal(line['component'], 'virt-launcher-monitor');
      assert.match(String(line['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.match(String(line['pos']), /^virt-launcher-monitor\.c:\d+$/);
    }
    assert.ok(
      lines.some((l) => l['level'] === 'error' && l['msg'] === 'dirty virt-launcher shutdown: exit-code 7'),
      p.output(),
    );
  });

  test('a launcher killed by a signal → exit 255 (Go: os.Exit(-1))', async () => {
    const p = await monitor(fakeLauncher('kill -KILL $$'));
    assert.equal(await p.exited, 255, p.output());
  });

  test('a launcher that cannot be started → exit 1, "failed to run virt-launcher" with the exec error', async () => {
    const p = await startAsPid1(
      nativeProgram('virt-launcher-monitor'),
      LAUNCHER_ARGS,
      { KUBEVIRT_TS_VIRT_LAUNCHER: path.join(work, 'none') },
      { newNetwork: true },
    );
    running.push(p);
    assert.equal(await p.exited, 1, p.output());
    const failed = jsonLines(p.output()).find((l) => l['msg'] === 'failed to run virt-launcher');
    assert.equal(failed?.['reason'], `fork/exec ${path.join(work, 'none')}: no such file or directory`, p.output());
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) {
    test(`${signal} to the monitor reaches the launcher as SIGTERM; the launcher's exit code is the monitor's`, async () => {
      const launcher = fakeLauncher(
        `trap 'echo TERM > signal; exit 0' TERM\ntrap 'echo INT > signal; exit 1' INT\ntrap 'echo QUIT > signal; exit 1' QUIT\ntouch ready\nsleep 600 & wait`,
      );
      const p = await monitor(launcher);
      await waitFile(path.join(launcher.dir, 'ready'), 'launcher started', p);
      const rss = rssKiB(p.pid);
      process.kill(p.pid, signal);
      assert.equal(await p.exited, 0, p.output());
      assert.equal(readFileSync(path.join(launcher.dir, 'signal'), 'utf8').trim(), 'TERM');
      assert.ok(
        jsonLines(p.output()).some((l) => l['msg'] === 'signalling virt-launcher to shut down'),
        p.output(),
      );
      if (signal === 'SIGTERM') console.log(`# virt-launcher-monitor RSS while the launcher runs: ${rss} KiB`);
    });
  }

  test('reaps orphans re-parented to it: an exited grandchild leaves no zombie', async () => {
    // the grandchild's parent exits at once, so the grandchild is re-parented to PID 1 (the monitor)
    const launcher = fakeLauncher(`(sleep 0.3 & echo $! > grandchild)\ntouch ready\nsleep 600 & wait`);
    const p = await monitor(launcher, [...LAUNCHER_ARGS, '-v', '4']);
    const grandchild = Number((await waitFile(path.join(launcher.dir, 'grandchild'), 'grandchild started', p)).trim());
    assert.ok(grandchild > 1);
    await poll(
      `grandchild (pid ${grandchild} in the namespace) gone, not left a zombie`,
      async () => (p.processes().some((q) => q.nsPid === grandchild) ? undefined : true),
      10_000,
      () => JSON.stringify(p.processes()),
    );
    assert.deepEqual(
      p.processes().filter((q) => q.state === 'Z'),
      [],
      'no zombie in the namespace',
    );
    assert.ok(
      jsonLines(p.output()).some((l) => l['msg'] === `Reaped pid ${grandchild} with status 0`),
      p.output(),
    );
    process.kill(p.pid, 'SIGTERM');
    await p.exited;
  });

  test('VIRT_LAUNCHER_LOG_VERBOSITY sets the verbosity: V(4) reaping lines only at 4', async () => {
    const quiet = await monitor(fakeLauncher('exit 0'));
    assert.equal(await quiet.exited, 0);
    assert.ok(!jsonLines(quiet.output()).some((l) => String(l['msg']).startsWith('Reaped pid')), quiet.output());
    const verbose = await monitor(fakeLauncher('exit 0'), LAUNCHER_ARGS, { VIRT_LAUNCHER_LOG_VERBOSITY: '4' });
    assert.equal(await verbose.exited, 0);
    const lines = jsonLines(verbose.output());
    assert.ok(
      lines.some((l) => l['msg'] === 'set log verbosity to 4'),
      verbose.output(),
    );
    assert.ok(
      lines.some((l) => String(l['msg']).startsWith('Reaped pid')),
      verbose.output(),
    );
  });

  test("--keep-after-failure: stripped from the launcher's arguments; a failed launcher leaves the monitor running", async () => {
    const launcher = fakeLauncher('exit 3');
    const args = ['--keep-after-failure', ...LAUNCHER_ARGS];
    const p = await monitor(launcher, args);
    await poll(
      'monitor says it keeps the container alive',
      async () =>
        p.output().includes('keeping virt-launcher container alive since --keep-after-failure is set to true') ? true : undefined,
      10_000,
      () => p.output(),
    );
    assert.deepEqual(readFileSync(path.join(launcher.dir, 'argv'), 'utf8').trim().split('\n'), LAUNCHER_ARGS);
    // a SIGTERM does not end it either (KubeVirt's blocks for good; the kubelet kills it)
    process.kill(p.pid, 'SIGTERM');
    await poll(
      'the SIGTERM was handled',
      async () => (p.output().includes("can't signal virt-launcher") ? true : undefined),
      10_000,
      () => p.output(),
    );
    assert.equal(p.unshare.exitCode, null, 'monitor still running');
    await p.kill();
  });

  test('--keep-after-failure with a launcher that succeeds: the monitor exits 0', async () => {
    const p = await monitor(fakeLauncher('exit 0'), [...LAUNCHER_ARGS, '--keep-after-failure']);
    assert.equal(await p.exited, 0, p.output());
  });

  test('a QEMU that outlives the launcher gets SIGTERM, and the monitor exits once it is gone', async () => {
    const launcher = fakeLauncher(
      [
        // a process whose command line says qemu-system-x86_64, as libvirt's QEMU child does
        `(exec -a qemu-system-x86_64 bash -c 'trap "echo TERM > qemu-signal; exit 0" TERM; touch qemu-ready; sleep 600 & wait') &`,
        'while [ ! -f qemu-ready ]; do sleep 0.05; done',
        'exit 0',
      ].join('\n'),
    );
    const p = await monitor(launcher);
    assert.equal(await p.exited, 0, p.output());
    assert.equal(readFileSync(path.join(launcher.dir, 'qemu-signal'), 'utf8').trim(), 'TERM');
    assert.ok(
      jsonLines(p.output()).some((l) => l['msg'] === 'Killing QEMU gracefully.'),
      p.output(),
    );
  });

  test('a QEMU that ignores SIGTERM: the monitor gives up after 10 s and exits 1', { timeout: 30_000 }, async () => {
    const launcher = fakeLauncher(
      [
        `(exec -a qemu-kvm bash -c 'trap "" TERM; touch qemu-ready; while :; do sleep 0.2; done') &`,
        'while [ ! -f qemu-ready ]; do sleep 0.05; done',
        'exit 0',
      ].join('\n'),
    );
    const p = await monitor(launcher);
    const started = Date.now();
    assert.equal(await p.exited, 1, p.output());
    assert.ok(Date.now() - started >= 9_000, `gave up after ${Date.now() - started} ms`);
    assert.ok(
      jsonLines(p.output()).some((l) => l['msg'] === 'Killing QEMU gracefully.'),
      p.output(),
    );
  });

  test('an istio-proxy sidecar (envoy on localhost:15021) is asked to quit (POST :15020/quitquitquit) once the launcher is gone', async () => {
    const envoy = path.join(work, 'fake-envoy.mjs');
    writeFileSync(
      envoy,
      [
        "import http from 'node:http';",
        "import { appendFileSync, writeFileSync } from 'node:fs';",
        'const dir = process.argv[2];',
        "http.createServer((req, res) => { res.setHeader('server', 'envoy'); res.end('ok'); }).listen(15021, '127.0.0.1');",
        'http',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the fake sidecar's own source, a template literal there
        '  .createServer((req, res) => { appendFileSync(`${dir}/quit`, `${req.method} ${req.url}\\n`); res.end(); setTimeout(() => process.exit(0), 50); })',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the fake sidecar's own source
        "  .listen(15020, '127.0.0.1', () => writeFileSync(`${dir}/envoy-ready`, ''));",
      ].join('\n'),
    );
    const launcher = fakeLauncher(
      [`ip link set lo up`, `${process.execPath} ${envoy} $PWD &`, 'while [ ! -f envoy-ready ]; do sleep 0.05; done', 'exit 0'].join('\n'),
    );
    const p = await monitor(launcher);
    assert.equal(await p.exited, 0, p.output());
    assert.equal(readFileSync(path.join(launcher.dir, 'quit'), 'utf8'), 'POST /quitquitquit\n');
  });

  test('no istio-proxy: connections refused on localhost are retried as KubeVirt does (50 ms … 6.25 s), then the monitor exits', {
    timeout: 30_000,
  }, async () => {
    const p = await monitor(fakeLauncher(['ip link set lo up', 'exit 0'].join('\n')));
    const started = Date.now();
    assert.equal(await p.exited, 0, p.output());
    assert.ok(Date.now() - started >= 7_000, `exited after ${Date.now() - started} ms`);
  });

  test("dumps passt's log and every QEMU log into its own log once the launcher is gone", async () => {
    // the container's /run (the monitor's mount namespace is the container's own; a tmpfs keeps the host's untouched)
    const launcher = fakeLauncher(
      [
        'mount -t tmpfs tmpfs /run',
        'mkdir -p /run/kubevirt-private/libvirt/qemu/log /run/kubevirt',
        "printf 'passt: listening\\n' > /var/run/kubevirt/passt.log",
        "printf 'qemu line 1\\r\\nqemu line 2\\n' > /run/kubevirt-private/libvirt/qemu/log/default_testvmi.log",
        'exit 0',
      ].join('\n'),
    );
    const p = await monitor(launcher);
    assert.equal(await p.exited, 0, p.output());
    const msgs = jsonLines(p.output()).map((l) => l['msg']);
    const at = msgs.indexOf('dump log file: /var/run/kubevirt/passt.log');
    assert.deepEqual(msgs.slice(at, at + 2), ['dump log file: /var/run/kubevirt/passt.log', 'passt: listening'], p.output());
    const qemuAt = msgs.indexOf('dump log file: /run/kubevirt-private/libvirt/qemu/log/default_testvmi.log');
    assert.deepEqual(msgs.slice(qemuAt + 1, qemuAt + 3), ['qemu line 1', 'qemu line 2'], p.output());
  });

  test('removes the container-disk sockets (*.sock in --container-disk-dir) once the launcher is gone', async () => {
    const disks = path.join(work, 'container-disks');
    mkdirSync(disks);
    writeFileSync(path.join(disks, 'disk_0.sock'), '');
    writeFileSync(path.join(disks, 'kernel-boot.sock'), '');
    writeFileSync(path.join(disks, 'disk_0.img'), '');
    const p = await monitor(fakeLauncher('exit 0'), [...LAUNCHER_ARGS, '--container-disk-dir', disks]);
    assert.equal(await p.exited, 0, p.output());
    assert.deepEqual([existsSync(path.join(disks, 'disk_0.sock')), existsSync(path.join(disks, 'kernel-boot.sock'))], [false, false]);
    assert.ok(existsSync(path.join(disks, 'disk_0.img')), 'only sockets are removed');
  });
});
