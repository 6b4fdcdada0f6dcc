// virt-probe's command line as virt-controller renders it into the VMI's probes (rendercontainer.go
// wrapExecProbeWithVirtProbe, template.go wrapGuestAgentPingWithVirtProbe): pflag's camelCase flag names,
// the guest command's arguments after `--`. (Its calls against a real launcher: compute-container.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError } from '@kubevirt-ts/shared';
import { parseProbeArgs } from '../src/virt-probe.ts';

test('an exec probe: --domainName, --timeoutSeconds, --command, and the arguments after --', () => {
  const { flags, args } = parseProbeArgs([
    '--domainName',
    'default_testvmi',
    '--timeoutSeconds',
    '3',
    '--command',
    'cat',
    '--',
    '/tmp/ready',
    '-n',
  ]);
  assert.deepEqual(
    [flags.domainName, flags.timeoutSeconds, flags.command, flags.guestAgentPing, flags.socket],
    ['default_testvmi', 3, 'cat', false, '/var/run/kubevirt/sockets/launcher-sock'],
  );
  assert.deepEqual(args, ['/tmp/ready', '-n']);
});

test("a guest-agent ping probe; defaults as KubeVirt's (timeoutSeconds 1)", () => {
  const { flags, args } = parseProbeArgs(['--domainName', 'ns_vm', '--guestAgentPing']);
  assert.deepEqual([flags.guestAgentPing, flags.timeoutSeconds, flags.command, flags.memProfile], [true, 1, '', '']);
  assert.deepEqual(args, []);
});

test("the kebab-case spelling is not virt-probe's; a non-integer timeout is refused", () => {
  assert.throws(
    () => parseProbeArgs(['--domain-name', 'x']),
    (err: unknown) => err instanceof FlagError && /unknown flag: --domain-name/.test(err.message),
  );
  assert.throws(
    () => parseProbeArgs(['--timeoutSeconds', '1.5']),
    (err: unknown) => err instanceof FlagError && /--timeoutSeconds/.test(err.message),
  );
});
