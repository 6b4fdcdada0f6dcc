// KubeVirt's seccomp profile as virt-handler installs it for the kubelet (the kubelet and containerd
// applying it to a launcher pod are proved on the real node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { installPolicy, kubevirtProfile, shouldInstallKubevirtSeccompProfile } from '../src/seccomp/seccomp.ts';

const silent = pino({ level: 'silent' });

test('the profile is the default with userfaultfd moved from its errno rule to an allow rule of its own', () => {
  const base = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['bdflush', 'userfaultfd', 'vm86'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['userfaultfd'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  };
  const profile = kubevirtProfile(base);
  assert.deepEqual(profile.syscalls, [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['bdflush', 'vm86'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    // only the first rule naming it is changed, as KubeVirt's loop stops there
    { names: ['userfaultfd'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    { names: ['userfaultfd'], action: 'SCMP_ACT_ALLOW', args: [] },
  ]);
  assert.deepEqual(base.syscalls[1]?.names, ['bdflush', 'userfaultfd', 'vm86'], 'the base profile is left as it was');
  // a rule that already allows it is not touched
  const allowing = kubevirtProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['userfaultfd'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(allowing.syscalls.length, 2);
  assert.deepEqual(allowing.syscalls[0]?.names, ['userfaultfd']);
});

test('the vendored default denies userfaultfd and the installed profile allows it', () => {
  const profile = kubevirtProfile();
  assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
  const rulesFor = (name: string) => profile.syscalls.filter((r) => r.names.includes(name)).map((r) => r.action);
  assert.deepEqual(rulesFor('userfaultfd'), ['SCMP_ACT_ALLOW']);
  assert.ok(rulesFor('read').includes('SCMP_ACT_ALLOW'));
  assert.ok(
    rulesFor('kexec_load').every((a) => a !== 'SCMP_ACT_ALLOW'),
    'what the default denies stays denied',
  );
});

test('InstallPolicy writes <kubelet-root>/seccomp/kubevirt/kubevirt.json once and rewrites it only when it differs', () => {
  const root = mkdtempSync('/tmp/kvts-seccomp-');
  try {
    const file = path.join(root, 'seccomp', 'kubevirt', 'kubevirt.json');
    installPolicy(root);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), kubevirtProfile());
    assert.equal(statSync(path.join(root, 'seccomp', 'kubevirt')).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o700);

    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(file, past, past);
    installPolicy(root);
    assert.equal(statSync(file).mtime.getTime(), past.getTime(), 'the same bytes are not written again');

    writeFileSync(file, '{}');
    installPolicy(root);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), kubevirtProfile(), 'a changed profile is put back');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the feature gate decides; a failure is logged, never thrown', () => {
  const root = mkdtempSync('/tmp/kvts-seccomp-');
  try {
    shouldInstallKubevirtSeccompProfile(false, root, silent);
    assert.throws(() => statSync(path.join(root, 'seccomp')), { code: 'ENOENT' });
    shouldInstallKubevirtSeccompProfile(true, root, silent);
    assert.ok(statSync(path.join(root, 'seccomp', 'kubevirt', 'kubevirt.json')).isFile());

    const notADir = path.join(root, 'file');
    writeFileSync(notADir, '');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    assert.doesNotThrow(() => shouldInstallKubevirtSeccompProfile(true, notADir, logger));
    assert.match(lines.join(''), /Failed to install Kubevirt Seccomp profile, failed to install default seccomp profile: ENOTDIR/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
