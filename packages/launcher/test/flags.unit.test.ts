// virt-launcher's command line and environment against KubeVirt's: every flag of its pflag set with
// the same name, type, default and usage (vendored in test/fixtures/kubevirt/virt-launcher-flags.json),
// virt-controller's argv accepted whole, what is not implemented named for Sync, KubeVirt's reading of
// VIRT_LAUNCHER_LOG_VERBOSITY / LIBVIRT_DEBUG_LOGS / --libvirt-log-filters into libvirt's configuration.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FlagError, flagUsage, parseFlags, parseGoDuration } from '@kubevirt-ts/shared';
import { effectiveVerbosity, hypervisorDevice, launcherFlags, parseLauncherEnv, unsupportedFeatures } from '../src/flags.ts';
import { libvirtEnvOptions, libvirtLogFilters, setupLibvirt } from '../src/libvirt-setup.ts';

interface KubeVirtFlag {
  name: string;
  type: 'bool' | 'duration' | 'string' | 'int' | 'uint' | 'int64';
  default: string;
  usage: string;
}
const kubevirt = JSON.parse(readFileSync(new URL('../../../test/fixtures/kubevirt/virt-launcher-flags.json', import.meta.url), 'utf8')) as {
  flags: KubeVirtFlag[];
};

/** Our usage lines by flag name: the type word pflag would print and the text after it. */
function usageByFlag(): Map<string, { type: string; text: string }> {
  const out = new Map<string, { type: string; text: string }>();
  for (const line of flagUsage(launcherFlags).split('\n').slice(1)) {
    const m = /^\s+(?:-\w, )?--([\w-]+)(?: (\w+))?\s{3,}(.*)$/.exec(line);
    if (m) out.set(m[1] as string, { type: m[2] ?? '', text: m[3] as string });
  }
  return out;
}

const REQUIRED = ['--name', 'testvmi', '--uid', '1234', '--namespace', 'default'];

describe("virt-launcher's flags", () => {
  test("every flag of KubeVirt's pflag set, with its type, default and usage", () => {
    const ours = usageByFlag();
    const defaults = parseFlags(launcherFlags, REQUIRED) as Record<string, unknown>;
    const pflagType = { bool: '', duration: 'duration', string: 'string', int: 'int', uint: 'int', int64: 'int' } as const;
    for (const flag of kubevirt.flags) {
      const usage = ours.get(flag.name);
      assert.ok(usage, `--${flag.name} is not a flag of ours`);
      assert.equal(usage.type, pflagType[flag.type], `--${flag.name}'s type`);
      assert.ok(usage.text.startsWith(flag.usage), `--${flag.name}'s usage: ${usage.text}`);
      // name, uid and namespace have no useful default: ours are required (KubeVirt's are "")
      if (['name', 'uid', 'namespace'].includes(flag.name)) {
        assert.match(usage.text, /\(required\)$/);
        continue;
      }
      const expected =
        flag.type === 'duration'
          ? parseGoDuration(flag.default)
          : flag.type === 'bool'
            ? flag.default === 'true'
            : flag.type === 'string'
              ? flag.default
              : Number(flag.default);
      assert.equal(defaults[flag.name], expected, `--${flag.name}'s default`);
    }
    const extra = [...ours.keys()].filter((name) => name !== 'help' && !kubevirt.flags.some((f) => f.name === name));
    assert.deepEqual(extra, ['keep-after-failure'], "only virt-launcher-monitor's flag beyond KubeVirt's launcher set");
  });

  test("virt-controller's argv for a default VMI, with every conditional flag, parses", () => {
    const argv = [
      '--qemu-timeout',
      '279s',
      '--name',
      'testvmi',
      '--uid',
      'a-b-c',
      '--namespace',
      'default',
      '--kubevirt-share-dir',
      '/var/run/kubevirt',
      '--ephemeral-disk-dir',
      '/var/run/kubevirt-ephemeral-disks',
      '--container-disk-dir',
      '/var/run/kubevirt/container-disks',
      '--grace-period-seconds',
      '45',
      '--hook-sidecars',
      '0',
      '--ovmf-path',
      '/usr/share/OVMF',
      '--disk-memory-limit',
      '2097152000',
      '--hypervisor',
      'kvm',
      '--run-as-nonroot',
      '--image-volume',
      '--upgrade-ordinal-ifaces',
      '--vgpu-dedicated-hook',
      '--vm-stats-collector',
      '--firmware-auto-selection',
      '--libvirt-log-filters',
      '1:qemu 3:*',
      '--allow-emulation',
      '--keep-after-failure',
      '--simulate-crash',
      '--allow-cross-arch-emulation',
    ];
    const f = parseFlags(launcherFlags, argv);
    assert.equal(f['qemu-timeout'], 279_000);
    assert.equal(f['grace-period-seconds'], 45);
    assert.equal(f['hook-sidecars'], 0);
    assert.equal(f['ovmf-path'], '/usr/share/OVMF');
    assert.equal(f['disk-memory-limit'], 2_097_152_000);
    assert.equal(f.hypervisor, 'kvm');
    assert.equal(f['libvirt-log-filters'], '1:qemu 3:*');
    for (const b of [
      'run-as-nonroot',
      'image-volume',
      'upgrade-ordinal-ifaces',
      'vgpu-dedicated-hook',
      'vm-stats-collector',
      'firmware-auto-selection',
      'allow-emulation',
      'keep-after-failure',
      'simulate-crash',
      'allow-cross-arch-emulation',
    ] as const) {
      assert.equal(f[b], true, `--${b}`);
    }
  });

  test('the flags that were ours alone are gone; a bad value names its flag', () => {
    for (const gone of ['--use-emulation', '--libvirt-config-dir=/etc/libvirt']) {
      assert.throws(
        () => parseFlags(launcherFlags, [...REQUIRED, gone]),
        (err: unknown) => err instanceof FlagError && err.exitCode === 2 && err.message === `unknown flag: ${gone.split('=')[0]}`,
      );
    }
    assert.throws(() => parseFlags(launcherFlags, [...REQUIRED, '--hook-sidecars', '-1']), /--hook-sidecars/);
    assert.throws(() => parseFlags(launcherFlags, [...REQUIRED, '--disk-memory-limit', 'lots']), /--disk-memory-limit: expected a number/);
  });

  test('what this launcher does not implement is named, one sentence per flag; the rest is not', () => {
    const base = parseFlags(launcherFlags, REQUIRED);
    assert.deepEqual(unsupportedFeatures(base), []);
    assert.deepEqual(
      unsupportedFeatures({ ...base, 'run-as-nonroot': true, 'vm-stats-collector': true, 'ovmf-path': '/x', 'hook-sidecars': 2 }),
      [],
    );
    assert.deepEqual(unsupportedFeatures({ ...base, 'hook-sidecars': 2, 'image-volume': true, hypervisor: 'hyperv-direct' }), [
      '--image-volume: ImageVolume disks are not supported by this virt-launcher',
      '--hypervisor hyperv-direct: only the kvm hypervisor is supported by this virt-launcher',
    ]);
  });

  test("the hypervisor's device: /dev/kvm for kvm (and any name but hyperv-direct), /dev/mshv for hyperv-direct", () => {
    assert.equal(hypervisorDevice('kvm'), '/dev/kvm');
    assert.equal(hypervisorDevice('something'), '/dev/kvm');
    assert.equal(hypervisorDevice('hyperv-direct'), '/dev/mshv');
  });
});

describe("virt-launcher's environment", () => {
  test('parsed: the variables virt-controller renders; an empty XDG directory is refused naming it', () => {
    const env = parseLauncherEnv({
      POD_NAME: 'virt-launcher-testvmi-abcde',
      LIBVIRT_DEBUG_LOGS: '1',
      PATH: '/bin',
      XDG_RUNTIME_DIR: '/var/run',
    });
    assert.deepEqual(env, { POD_NAME: 'virt-launcher-testvmi-abcde', LIBVIRT_DEBUG_LOGS: '1', XDG_RUNTIME_DIR: '/var/run' });
    assert.throws(() => parseLauncherEnv({ XDG_CONFIG_HOME: '' }), /invalid environment variable XDG_CONFIG_HOME/);
  });

  test('VIRT_LAUNCHER_LOG_VERBOSITY wins over -v when it is an integer; otherwise a warning and -v', () => {
    assert.deepEqual(effectiveVerbosity({ v: 2 }, {}), { verbosity: 2 });
    assert.deepEqual(effectiveVerbosity({ v: 2 }, { VIRT_LAUNCHER_LOG_VERBOSITY: '6' }), { verbosity: 6 });
    const bad = effectiveVerbosity({ v: 3 }, { VIRT_LAUNCHER_LOG_VERBOSITY: 'loud' });
    assert.equal(bad.verbosity, 3);
    assert.equal(bad.warning, 'failed to set log verbosity. The value of logVerbosity label should be an integer, got loud instead.');
  });

  test("libvirt's log filters: --libvirt-log-filters first, then the verbosity from 5 up, then LIBVIRT_DEBUG_LOGS", () => {
    const level4 = '3:remote 4:event 3:util.json 3:util.object 3:util.dbus 3:util.netlink 3:node_device 3:rpc 3:access';
    const level3 = `${level4} 3:util.threadjob 3:cpu.cpu`;
    const level2 = `${level3} 3:qemu.qemu_monitor`;
    const level1 = `${level2} 3:qemu.qemu_monitor_json 3:conf.domain_addr`;
    assert.equal(libvirtLogFilters('1:qemu', '9', true), '1:qemu');
    assert.equal(libvirtLogFilters('', undefined, false), undefined);
    assert.equal(libvirtLogFilters('', '4', false), undefined);
    assert.equal(libvirtLogFilters('', 'x', false), undefined);
    assert.equal(libvirtLogFilters('', '5', false), `${level1} 1:*`);
    assert.equal(libvirtLogFilters('', '6', false), `${level2} 1:*`);
    assert.equal(libvirtLogFilters('', '7', false), `${level3} 1:*`);
    assert.equal(libvirtLogFilters('', '8', false), `${level4} 1:*`);
    assert.equal(libvirtLogFilters('', '12', false), `${level4} 1:*`);
    assert.equal(libvirtLogFilters('', undefined, true), `${level4} 1:*`);
    assert.equal(libvirtLogFilters('', '2', true), `${level4} 1:*`);
  });

  test("setupLibvirt writes them where KubeVirt's launcher does: qemu.conf in /etc/libvirt, the daemon's in /var/run/libvirt", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kvts-libvirt-setup-'));
    try {
      const etcDir = path.join(dir, 'etc');
      const runtimeDir = path.join(dir, 'run');
      const plain = setupLibvirt({ etcDir, runtimeDir });
      assert.equal(plain.daemonConf, path.join(runtimeDir, 'libvirtd.conf'));
      assert.doesNotMatch(readFileSync(plain.daemonConf, 'utf8'), /log_filters/);
      assert.doesNotMatch(readFileSync(path.join(etcDir, 'qemu.conf'), 'utf8'), /shared_filesystems|virtiofsd_debug/);

      const debug = setupLibvirt({
        etcDir,
        runtimeDir,
        customLogFilters: '1:qemu 3:*',
        virtiofsdDebugLogs: true,
        sharedFilesystemPaths: '/var/run/kubevirt-private/vmi-disks/a:/mnt/b',
      });
      assert.match(readFileSync(debug.daemonConf, 'utf8'), /^log_filters="1:qemu 3:\*"$/m);
      const qemu = readFileSync(path.join(etcDir, 'qemu.conf'), 'utf8');
      assert.match(qemu, /^virtiofsd_debug = 1$/m);
      assert.match(qemu, /^shared_filesystems = \[ "\/var\/run\/kubevirt-private\/vmi-disks\/a", "\/mnt\/b" \]$/m);

      // non-root: nothing in /etc (read-only to uid 107); qemu.conf in libvirt's home, virtlogd's in the runtime dir
      const nonRootEtc = path.join(dir, 'etc-nonroot');
      const homeDir = path.join(dir, 'home');
      const nonRoot = setupLibvirt({ etcDir: nonRootEtc, runtimeDir, homeDir, nonRoot: true });
      assert.equal(existsSync(nonRootEtc), false, 'nothing written to /etc');
      assert.equal(nonRoot.virtlogdConf, path.join(runtimeDir, 'virtlogd.conf'));
      const sessionQemu = readFileSync(path.join(homeDir, 'qemu.conf'), 'utf8');
      assert.match(sessionQemu, /^stdio_handler = "logd"$/m);
      assert.doesNotMatch(sessionQemu, /^(user|group) =/m, 'a session daemon runs QEMU as its own user');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the environment virt-controller renders reaches qemu.conf and libvirtd.conf as KubeVirt reads it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kvts-libvirt-env-'));
    try {
      const qemuConfFor = (vars: Record<string, string>) => {
        const etcDir = path.join(dir, String(Math.random()).slice(2));
        const config = setupLibvirt({ etcDir, runtimeDir: etcDir, ...libvirtEnvOptions(parseLauncherEnv(vars)) });
        return { qemu: readFileSync(path.join(etcDir, 'qemu.conf'), 'utf8'), daemon: readFileSync(config.daemonConf, 'utf8') };
      };
      // template.go: VIRTIOFSD_DEBUG_LOGS=1 and LIBVIRT_DEBUG_LOGS=1 with the debug label; rendercontainer.go: SHARED_FILESYSTEM_PATHS
      const on = qemuConfFor({
        VIRTIOFSD_DEBUG_LOGS: '1',
        LIBVIRT_DEBUG_LOGS: '1',
        SHARED_FILESYSTEM_PATHS: '/var/run/kubevirt-private/vmi-disks/a:/mnt/b',
      });
      assert.match(on.qemu, /^virtiofsd_debug = 1$/m);
      assert.match(on.qemu, /^shared_filesystems = \[ "\/var\/run\/kubevirt-private\/vmi-disks\/a", "\/mnt\/b" \]$/m);
      assert.match(on.daemon, /^log_filters="/m, 'LIBVIRT_DEBUG_LOGS set: libvirt logs at debug level');
      // KubeVirt: virtiofsd debug only for exactly "1"; libvirt debug for the variable being set at all
      const other = qemuConfFor({ VIRTIOFSD_DEBUG_LOGS: 'true', LIBVIRT_DEBUG_LOGS: '' });
      assert.doesNotMatch(other.qemu, /virtiofsd_debug|shared_filesystems/);
      assert.match(other.daemon, /^log_filters="/m);
      const none = qemuConfFor({});
      assert.doesNotMatch(none.qemu, /virtiofsd_debug|shared_filesystems/);
      assert.doesNotMatch(none.daemon, /log_filters/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
