import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { exitOnFlagError, FlagError, flagUsage, formatGoDuration, goDuration, parseFlags, parseGoDuration } from '../src/flags.ts';
import { ValidationError } from '../src/validation.ts';

// A slice of virt-launcher's flags.
const launcherFlags = z.object({
  qemuTimeout: z.prefault(goDuration(), '4m').describe('Amount of time to wait for qemu'),
  name: z.string().describe('Name of the VirtualMachineInstance'),
  namespace: z.string().default('default').describe('Namespace of the VirtualMachineInstance'),
  kubevirtShareDir: z.string().default('/var/run/kubevirt').describe('Shared directory between virt-handler and virt-launcher'),
  gracePeriodSeconds: z.int().nonnegative().default(30).describe('Grace period to observe before sending SIGTERM to vm process'),
  keepAfterFailure: z.boolean().default(false).describe('virt-launcher will be kept alive after failure'),
  v: z.int().min(0).max(9).default(2).describe('log level for V logs'),
  libvirtLogFilters: z.array(z.string()).optional().describe('libvirt log filters'),
  'hook-sidecars': z.int().default(0).describe('Number of requested hook sidecars'),
});

function errorOf(fn: () => unknown): FlagError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FlagError, String(err));
    return err;
  }
  assert.fail('expected a FlagError');
}

describe('parseFlags: good input', () => {
  test('--name value, --name=value, Go-style -v 3 and booleans', () => {
    const flags = parseFlags(launcherFlags, [
      '--name',
      'testvmi',
      '--qemu-timeout=5m',
      '-v',
      '3',
      '--keep-after-failure',
      '--grace-period-seconds',
      '45',
    ]);
    assert.deepEqual(flags, {
      qemuTimeout: 300_000,
      name: 'testvmi',
      namespace: 'default',
      kubevirtShareDir: '/var/run/kubevirt',
      gracePeriodSeconds: 45,
      keepAfterFailure: true,
      v: 3,
      'hook-sidecars': 0,
    });
  });

  test('single-dash long flags, -v=4, -v5 and --flag=false as pflag reads them', () => {
    assert.equal(parseFlags(launcherFlags, ['-name', 'a', '-v=4']).v, 4);
    assert.equal(parseFlags(launcherFlags, ['--name=a', '-v5']).v, 5);
    assert.equal(parseFlags(launcherFlags, ['-name=a', '-keep-after-failure=false']).keepAfterFailure, false);
    assert.equal(parseFlags(launcherFlags, ['--name=a', '--keep-after-failure=T']).keepAfterFailure, true);
  });

  test('a value may start with a dash, as pflag takes the next argument whole', () => {
    assert.equal(parseFlags(launcherFlags, ['--name', '-odd-name']).name, '-odd-name');
  });

  test('Go durations become milliseconds; the default is given in Go spelling', () => {
    assert.equal(parseFlags(launcherFlags, ['--name=a']).qemuTimeout, 240_000);
    assert.equal(parseFlags(launcherFlags, ['--name=a', '--qemu-timeout', '1h30m']).qemuTimeout, 5_400_000);
    assert.equal(parseFlags(launcherFlags, ['--name=a', '--qemu-timeout', '30s']).qemuTimeout, 30_000);
    assert.equal(parseFlags(launcherFlags, ['--name=a', '--qemu-timeout', '250ms']).qemuTimeout, 250);
  });

  test('repeated and comma-separated list flags accumulate', () => {
    const flags = parseFlags(launcherFlags, ['--name=a', '--libvirt-log-filters', '1:qemu,3:util', '--libvirt-log-filters=2:rpc']);
    assert.deepEqual(flags.libvirtLogFilters, ['1:qemu', '3:util', '2:rpc']);
  });

  test('environment fills what the command line leaves out; the command line wins', () => {
    const env = { VIRT_LAUNCHER_NAME: 'from-env', VIRT_LAUNCHER_QEMU_TIMEOUT: '10s', VIRT_LAUNCHER_V: '6' };
    const flags = parseFlags(launcherFlags, ['-v', '3'], { env, envPrefix: 'VIRT_LAUNCHER_' });
    assert.equal(flags.name, 'from-env');
    assert.equal(flags.qemuTimeout, 10_000);
    assert.equal(flags.v, 3);
  });
});

describe('parseFlags: bad input is one clear line', () => {
  const cases: [string, string[], string][] = [
    [
      'bad duration',
      ['--name=a', '--qemu-timeout', 'abc'],
      'invalid value "abc" for flag --qemu-timeout: expected a duration like 5m or 30s',
    ],
    [
      'duration without unit',
      ['--name=a', '--qemu-timeout=5'],
      'invalid value "5" for flag --qemu-timeout: expected a duration like 5m or 30s',
    ],
    ['not a number', ['--name=a', '-v', 'x'], 'invalid value "x" for flag --v: expected a number'],
    [
      'not an integer',
      ['--name=a', '--grace-period-seconds', '1.5'],
      'invalid value "1.5" for flag --grace-period-seconds: expected an integer',
    ],
    ['out of range', ['--name=a', '-v', '12'], 'invalid value "12" for flag --v: must be at most 9'],
    [
      'bad boolean',
      ['--name=a', '--keep-after-failure=maybe'],
      'invalid value "maybe" for flag --keep-after-failure: expected true or false',
    ],
    ['unknown flag', ['--name=a', '--bogus'], 'unknown flag: --bogus'],
    ['unknown single-dash flag', ['--name=a', '-x'], 'unknown flag: -x'],
    ['missing argument', ['--name'], 'flag needs an argument: --name'],
    ['missing required flag', [], 'missing required flag --name'],
    ['positional argument', ['--name=a', 'extra'], 'unexpected argument "extra"'],
  ];
  for (const [what, argv, message] of cases) {
    test(what, () => {
      const err = errorOf(() => parseFlags(launcherFlags, argv));
      assert.equal(err.message, message);
      assert.equal(err.exitCode, 2);
      assert.equal(err.message.includes('\n'), false);
    });
  }

  test('a bad value from the environment names the variable', () => {
    const err = errorOf(() =>
      parseFlags(launcherFlags, ['--name=a'], { env: { VIRT_LAUNCHER_QEMU_TIMEOUT: 'soon' }, envPrefix: 'VIRT_LAUNCHER_' }),
    );
    assert.equal(
      err.message,
      'invalid value "soon" for flag --qemu-timeout (from $VIRT_LAUNCHER_QEMU_TIMEOUT): expected a duration like 5m or 30s',
    );
    assert.equal(err.flag, '--qemu-timeout');
  });

  test("FlagError is the flags layer's ValidationError", () => {
    assert.ok(errorOf(() => parseFlags(launcherFlags, [])) instanceof ValidationError);
  });
});

describe('--help', () => {
  test('usage is generated from the schema descriptions, pflag style', () => {
    const usage = flagUsage(launcherFlags, { program: 'virt-launcher' });
    const lines = usage.split('\n');
    assert.equal(lines[0], 'Usage of virt-launcher:');
    assert.match(usage, /^ {6}--qemu-timeout duration +Amount of time to wait for qemu \(default 4m0s\)$/m);
    assert.match(usage, /^ {6}--name string +Name of the VirtualMachineInstance \(required\)$/m);
    assert.match(usage, /^ {6}--kubevirt-share-dir string +.* \(default "\/var\/run\/kubevirt"\)$/m);
    assert.match(usage, /^ {2}-v, --v int +log level for V logs \(default 2\)$/m);
    assert.match(usage, /^ {6}--keep-after-failure +virt-launcher will be kept alive after failure$/m);
    assert.match(usage, /^ {6}--libvirt-log-filters strings +libvirt log filters$/m);
  });

  test('--help throws the usage with exit code 0; env names are listed', () => {
    const err = errorOf(() => parseFlags(launcherFlags, ['--help'], { env: {}, envPrefix: 'VIRT_LAUNCHER_' }));
    assert.equal(err.exitCode, 0);
    assert.match(err.message, /--qemu-timeout duration .*\[\$VIRT_LAUNCHER_QEMU_TIMEOUT\]$/m);
  });
});

describe('enum flags', () => {
  const flags = z.object({ migrationMode: z.enum(['PreCopy', 'PostCopy']).default('PreCopy').describe('migration mode') });

  test('take one of their choices, and say which on a bad one', () => {
    assert.equal(parseFlags(flags, ['--migration-mode', 'PostCopy']).migrationMode, 'PostCopy');
    assert.equal(
      errorOf(() => parseFlags(flags, ['--migration-mode=Fast'])).message,
      'invalid value "Fast" for flag --migration-mode: expected one of "PreCopy", "PostCopy"',
    );
  });

  test('list their choices in the usage', () => {
    assert.match(flagUsage(flags), /--migration-mode string +migration mode \(one of PreCopy, PostCopy\) \(default "PreCopy"\)$/m);
  });
});

describe('exitOnFlagError', () => {
  function fakeIO() {
    const written: string[] = [];
    const codes: number[] = [];
    const io = {
      write: (line: string) => void written.push(line),
      exit: (code: number): never => {
        codes.push(code);
        throw new Error('exited');
      },
    };
    return { io, written, codes };
  }

  test('prints the one line to stderr and exits 2', () => {
    const { io, written, codes } = fakeIO();
    assert.throws(() => exitOnFlagError(() => parseFlags(launcherFlags, ['--name=a', '-v', 'x']), io), /exited/);
    assert.deepEqual(written, ['invalid value "x" for flag --v: expected a number\n']);
    assert.deepEqual(codes, [2]);
  });

  test('--help exits 0; good flags pass straight through', () => {
    const { io, codes } = fakeIO();
    assert.throws(() => exitOnFlagError(() => parseFlags(launcherFlags, ['-h']), io), /exited/);
    assert.deepEqual(codes, [0]);
    assert.equal(exitOnFlagError(() => parseFlags(launcherFlags, ['--name=a']), io).name, 'a');
  });

  test('other errors are not swallowed', () => {
    const { io } = fakeIO();
    assert.throws(
      () =>
        exitOnFlagError(() => {
          throw new TypeError('boom');
        }, io),
      TypeError,
    );
  });
});

describe('Go durations', () => {
  test('parse like time.ParseDuration', () => {
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('300ms'), 300);
    assert.equal(parseGoDuration('1.5s'), 1500);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('2h45m30.5s'), 9_930_500);
    assert.equal(parseGoDuration('-2m'), -120_000);
    assert.equal(parseGoDuration('1500us'), 1.5);
    assert.equal(parseGoDuration('1500µs'), 1.5);
    for (const bad of ['', '5', 'm', '1x', '1h 30m', '.s', 'abc']) assert.equal(parseGoDuration(bad), undefined, bad);
  });

  test('format like Duration.String', () => {
    assert.equal(formatGoDuration(0), '0s');
    assert.equal(formatGoDuration(240_000), '4m0s');
    assert.equal(formatGoDuration(5_400_000), '1h30m0s');
    assert.equal(formatGoDuration(1500), '1.5s');
    assert.equal(formatGoDuration(300), '300ms');
    assert.equal(formatGoDuration(3_600_000), '1h0m0s');
  });
});
