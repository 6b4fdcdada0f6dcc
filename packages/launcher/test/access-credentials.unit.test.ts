// The AccessCredentialManager's pure decisions, table by table: which secrets are watched, what one
// round reads from the mounted secrets (laid out as the kubelet's atomic writer does), the passwd
// parse of the deprecated flow and the error texts that reach the VMI's condition.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorDomain, LibvirtError } from '@kubevirt-ts/libvirt';
import { parseVMI } from '@kubevirt-ts/shared';
import pino from 'pino';
import {
  AccessCredentialManager,
  SecretSourceDir,
  authorizedKeysOf,
  errorText,
  parseAccessCredentials,
  parsePasswdEntry,
  readAccessCredentials,
  secretDirs,
  type AccessCredential,
} from '../src/access-credentials.ts';

const ssh = (secretName: string | undefined, users: string[], method: 'qemuGuestAgent' | 'noCloud' | 'configDrive' = 'qemuGuestAgent') => ({
  sshPublicKey: {
    source: secretName === undefined ? {} : { secret: { secretName } },
    propagationMethod: method === 'qemuGuestAgent' ? { qemuGuestAgent: { users } } : { [method]: {} },
  },
});
const password = (secretName: string | undefined) => ({
  userPassword: { source: secretName === undefined ? {} : { secret: { secretName } }, propagationMethod: { qemuGuestAgent: {} } },
});
const vmiWith = (accessCredentials: unknown) =>
  parseVMI({ metadata: { name: 'v', namespace: 'ns', uid: 'u' }, spec: { domain: { devices: {} }, accessCredentials } });

describe('the secrets watched (getSecretDirs)', () => {
  const cases: Array<[string, object[], string[]]> = [
    ['no credentials', [], []],
    ['an SSH key by the agent', [ssh('keys', ['root'])], [`${SecretSourceDir}/keys-access-cred`]],
    ['a password by the agent', [password('pw')], [`${SecretSourceDir}/pw-access-cred`]],
    ['an SSH key by noCloud: cloud-init, not the agent', [ssh('keys', [], 'noCloud')], []],
    ['an SSH key by configDrive', [ssh('keys', [], 'configDrive')], []],
    ['no secret source', [ssh(undefined, ['root']), password(undefined)], []],
    ['both, in order', [password('pw'), ssh('keys', ['a'])], [`${SecretSourceDir}/pw-access-cred`, `${SecretSourceDir}/keys-access-cred`]],
  ];
  for (const [what, creds, want] of cases) {
    test(what, () => assert.deepEqual(secretDirs(parseAccessCredentials(vmiWith(creds)), SecretSourceDir), want));
  }
  test('the compute container path is rendervolumes.go’s', () => assert.equal(SecretSourceDir, '/var/run/kubevirt-private/secret'));
  test('a malformed credential is refused, naming the field', () => {
    assert.throws(
      () => parseAccessCredentials(vmiWith([{ sshPublicKey: { source: {}, propagationMethod: { qemuGuestAgent: { users: 'root' } } } }])),
      /invalid spec\.accessCredentials\[0\.sshPublicKey\.propagationMethod\.qemuGuestAgent\.users\]/,
    );
  });
});

/** A secret volume as the kubelet writes it: ..<ts>/ with the files, ..data → it, KEY → ..data/KEY. */
function secretVolume(base: string, secretName: string, data: Record<string, string>): void {
  const dir = path.join(base, `${secretName}-access-cred`);
  const ts = path.join(dir, '..2026_01_01_00_00_00.000000001');
  mkdirSync(ts, { recursive: true });
  for (const [k, v] of Object.entries(data)) {
    writeFileSync(path.join(ts, k), v);
    symlinkSync(path.join('..data', k), path.join(dir, k));
  }
  symlinkSync(path.basename(ts), path.join(dir, '..data'));
}

describe('one round reads the mounted secrets (accessCredentialsInfo)', () => {
  const withBase = (fn: (base: string) => void) => () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'kvts-ac-'));
    try {
      fn(base);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  };
  const creds = (list: object[]): AccessCredential[] => parseAccessCredentials(vmiWith(list));

  test(
    'keys: every non-blank line of every key, trimmed; users share secrets in the credentials’ order',
    withBase((base) => {
      secretVolume(base, 'a', { key1: 'ssh-ed25519 AAAA1 one\n\n  ssh-rsa BBBB2 two  \n', key2: 'ssh-ed25519 CCCC3 three' });
      secretVolume(base, 'b', { k: 'ssh-ed25519 DDDD4 four\n' });
      const { info, errors } = readAccessCredentials(creds([ssh('a', ['root', 'testuser']), ssh('b', ['testuser'])]), base);
      assert.deepEqual(errors, []);
      assert.deepEqual(authorizedKeysOf(info, 'root'), ['ssh-ed25519 AAAA1 one', 'ssh-rsa BBBB2 two', 'ssh-ed25519 CCCC3 three']);
      assert.deepEqual(authorizedKeysOf(info, 'testuser'), [
        'ssh-ed25519 AAAA1 one',
        'ssh-rsa BBBB2 two',
        'ssh-ed25519 CCCC3 three',
        'ssh-ed25519 DDDD4 four',
      ]);
      assert.deepEqual(authorizedKeysOf(info, 'nobody'), []);
    }),
  );

  test(
    'passwords: the file names the user, a blank password is skipped',
    withBase((base) => {
      secretVolume(base, 'pw', { testuser: ' s3cret \n', root: '   ', other: 'x' });
      const { info, errors } = readAccessCredentials(creds([password('pw')]), base);
      assert.deepEqual(errors, []);
      assert.deepEqual([...info.userPasswordMap].sort(), [
        ['other', 'x'],
        ['testuser', 's3cret'],
      ]);
    }),
  );

  test(
    'an empty key secret: its users get an empty authorized_keys',
    withBase((base) => {
      secretVolume(base, 'empty', { key: '\n' });
      const { info, errors } = readAccessCredentials(creds([ssh('empty', ['testuser'])]), base);
      assert.deepEqual(errors, []);
      assert.deepEqual([...info.userSSHMap.keys()], ['testuser']);
      assert.deepEqual(authorizedKeysOf(info, 'testuser'), []);
    }),
  );

  test(
    'a secret not mounted: KubeVirt’s error for it, the others still read',
    withBase((base) => {
      secretVolume(base, 'pw', { testuser: 'pw' });
      const { info, errors } = readAccessCredentials(creds([ssh('gone', ['root']), password('pw')]), base);
      assert.equal(errors.length, 1);
      assert.match(
        errors[0]!,
        new RegExp(
          `^error occurred while reading the list of secrets files from the base directory ${base}/gone-access-cred: open ${base}/gone-access-cred: no such file or directory$`,
        ),
      );
      assert.deepEqual([...info.userSSHMap.keys()], ['root']);
      assert.equal(info.userPasswordMap.get('testuser'), 'pw');
    }),
  );
});

describe('the deprecated flow’s passwd entry (agentGetUserInfo)', () => {
  const cases: Array<[string, { home: string; uid: string; gid: string } | RegExp]> = [
    ['testuser:x:1000:1000:test user:/home/testuser:/bin/sh\n', { home: '/home/testuser', uid: '1000', gid: '1000' }],
    ['root:x:0:0::/root', { home: '/root', uid: '0', gid: '0' }],
    ['', /^unable to detect home directory of user u$/],
    ['u:x:1:1', /^unable to detect home directory of user u$/],
  ];
  for (const [line, want] of cases) {
    test(JSON.stringify(line), () => {
      if (want instanceof RegExp) assert.throws(() => parsePasswdEntry('u', line), { message: want });
      else assert.deepEqual(parsePasswdEntry('u', line), want);
    });
  }
});

describe('error texts in the condition’s message', () => {
  test('a libvirt error reads as libvirt-go prints it', () => {
    const err = new LibvirtError({
      code: 1,
      domain: ErrorDomain.QEMU,
      message: 'internal error: child process has failed to set user password',
    });
    assert.equal(
      errorText(err),
      `virError(Code=1, Domain=${ErrorDomain.QEMU}, Message='internal error: child process has failed to set user password')`,
    );
  });
  test('any other error: its message', () => assert.equal(errorText(new Error('boom')), 'boom'));
});

describe('starting the propagation (HandleQemuAgentAccessCredentials)', () => {
  const manager = (secretBaseDir: string) =>
    new AccessCredentialManager({
      conn: {} as never,
      logger: pino({ level: 'silent' }),
      report: () => assert.fail('no round runs in these tests'),
      sendWarning: () => undefined,
      secretBaseDir,
    });
  test('a secret directory that is not mounted fails the start with the bare errno, as fsnotify does', () => {
    const m = manager(path.join(os.tmpdir(), 'kvts-no-such-dir'));
    assert.throws(() => m.handleQemuAgentAccessCredentials(vmiWith([password('pw')])), { message: 'no such file or directory' });
    assert.equal(m.started, false);
  });
  test('no credential by the agent: nothing is watched', () => {
    const m = manager('/nonexistent');
    m.handleQemuAgentAccessCredentials(vmiWith([ssh('k', [], 'noCloud')]));
    assert.equal(m.started, false);
  });
  test('watching once: a second start changes nothing; stop ends it', async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'kvts-ac-'));
    try {
      secretVolume(base, 'pw', { u: 'p' });
      const m = manager(base);
      const vmi = vmiWith([password('pw')]);
      m.handleQemuAgentAccessCredentials(vmi);
      assert.equal(m.started, true);
      m.handleQemuAgentAccessCredentials(vmi);
      await m.stop();
      assert.equal(m.started, false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
