// spec.accessCredentials propagated by the guest agent, on real parts: a launcher in a pod sandbox
// with its own libvirtd and the test guest, the secrets where virt-controller mounts them
// (/var/run/kubevirt-private/secret/<name>-access-cred, laid out by the kubelet's atomic writer).
// What reached the guest is read in the guest itself (agent guest-exec through the Exec RPC); the
// result the handler turns into AccessCredentialsSynchronized is read from the launcher's domain events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { vmiNameToDomainName } from '@kubevirt-ts/shared';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { asRequest, startLauncher, testVMI, type RunningLauncher, stopLauncherTest } from '../../../test/bed/launcher.ts';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import { NotifyRecorder, type RecordedDomainEvent } from '../../../test/bed/notify-recorder.ts';
import { SecretVolume, accessCredentialSecretPath } from '../../../test/bed/secret-volume.ts';

type AccessCredentialResult = { Succeeded: boolean; Message: string } | null | undefined;
const resultOf = (e: RecordedDomainEvent): AccessCredentialResult =>
  (e.domain.Spec as unknown as { Metadata?: { KubeVirt?: { AccessCredential?: AccessCredentialResult } } }).Metadata?.KubeVirt
    ?.AccessCredential;

const KEY_1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvts0000000000000000000000000000000000000001 one@kvts';
const KEY_2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvts0000000000000000000000000000000000000002 two@kvts';
const KEY_3 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvts0000000000000000000000000000000000000003 three@kvts';

describe('accessCredentials by the guest agent on a real launcher, libvirtd and guest', { timeout: 600_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let keys: SecretVolume;
  let passwords: SecretVolume;
  const uid = randomUUID();
  const domainName = vmiNameToDomainName('default', 'credvmi');
  const logs = () => launcher.logs();
  const vmi = testVMI({ name: 'credvmi', uid });
  Object.assign(vmi.spec, {
    accessCredentials: [
      {
        sshPublicKey: {
          source: { secret: { secretName: 'my-keys' } },
          propagationMethod: { qemuGuestAgent: { users: ['testuser'] } },
        },
      },
      { userPassword: { source: { secret: { secretName: 'my-passwords' } }, propagationMethod: { qemuGuestAgent: {} } } },
    ],
  });

  /** A shell command in the guest (guest-exec): its exit code and stdout. */
  const guest = async (script: string): Promise<{ exitCode: number; stdOut: string }> => {
    const r = await client.Exec({ domainName, Command: '/bin/sh', Args: ['-c', script], timeoutSeconds: 20 });
    assert.equal(r.response?.success, true, r.response?.message);
    return { exitCode: r.exitCode, stdOut: r.stdOut };
  };
  const authorizedKeys = async () => (await guest('cat /home/testuser/.ssh/authorized_keys')).stdOut;
  /** testuser's /etc/shadow hash is PASSWORD's: the hash made again with its salt is the same. */
  const passwordIs = async (password: string): Promise<boolean> => {
    const script = `h=$(grep '^testuser:' /etc/shadow | cut -d: -f2); s=$(echo "$h" | cut -d'$' -f3)
      [ -n "$s" ] && [ "$(printf '%s\\n' "$1" | mkpasswd -m sha512 -S "$s")" = "$h" ]`;
    const r = await client.Exec({ domainName, Command: '/bin/sh', Args: ['-c', script, 'sh', password], timeoutSeconds: 20 });
    return r.exitCode === 0;
  };
  /** The launcher's next result after event `from`: a domain event carrying it. */
  const nextResult = async (match: (r: NonNullable<AccessCredentialResult>) => boolean, from: number, what: string) => {
    const e = await recorder
      .waitFor(
        (ev) => {
          const r = resultOf(ev);
          return r != null && match(r);
        },
        120_000,
        from,
      )
      .catch((err: unknown) => {
        const seen = recorder.events.slice(from).map((ev) => JSON.stringify(resultOf(ev) ?? null));
        throw new Error(`${what}: ${String(err)}\nresults seen: ${[...new Set(seen)].join(', ')}\n${logs().slice(-6000)}`);
      });
    return resultOf(e)!;
  };

  before(async () => {
    sandbox = await createPodSandbox();
    keys = new SecretVolume(accessCredentialSecretPath(sandbox.volumePath('private'), 'my-keys'));
    passwords = new SecretVolume(accessCredentialSecretPath(sandbox.volumePath('private'), 'my-passwords'));
    keys.write({ key1: `${KEY_1}\n`, key2: `\n  ${KEY_2}  \n` });
    passwords.write({ testuser: 'first secret\n' });
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
    const r = await client.SyncVirtualMachine(asRequest(vmi));
    assert.deepEqual(r, { success: true, message: '' }, logs());
  });

  after(() => stopLauncherTest({ client, launcher, recorder, sandbox }));

  test("the keys become testuser's authorized_keys and the password testuser's; the result is Succeeded", async () => {
    const result = await nextResult((r) => r.Succeeded, 0, 'access credentials synchronized');
    assert.deepEqual(result, { Succeeded: true, Message: '' });
    assert.deepEqual((await authorizedKeys()).trim().split('\n'), [KEY_1, KEY_2]);
    // qemu-ga made ~/.ssh for the user: theirs, private
    const perms = await guest('stat -c "%u:%g %a" /home/testuser/.ssh /home/testuser/.ssh/authorized_keys');
    assert.deepEqual(perms.stdOut.trim().split('\n'), ['1000:1000 700', '1000:1000 600']);
    assert.equal(await passwordIs('first secret'), true, "testuser's password is the secret's");
    assert.equal(await passwordIs('something else'), false, 'and no other');
  });

  test('changing the secrets updates the guest', async () => {
    keys.write({ key1: `${KEY_3}\n` });
    passwords.write({ testuser: 'second secret' });
    await poll(
      'the new key and password reached the guest',
      async () => ((await authorizedKeys()).trim() === KEY_3 && (await passwordIs('second secret')) ? true : undefined),
      120_000,
      logs,
    );
    assert.equal(await passwordIs('first secret'), false, 'the old password is gone');
  });

  test("a password for a user the guest does not have: KubeVirt's failure, then Succeeded once fixed", async () => {
    const from = recorder.events.length;
    passwords.write({ testuser: 'second secret', nosuchuser: 'whatever' });
    const failed = await nextResult((r) => !r.Succeeded, from, 'the failure reported');
    assert.match(
      failed.Message,
      /^Error encountered setting password for user \[nosuchuser\]: virError\(Code=\d+, Domain=\d+, Message='.+'\)$/,
    );
    assert.match(failed.Message, /guest-set-user-password|set user password/, 'the agent command that failed is named');
    const fixedFrom = recorder.events.length;
    passwords.write({ testuser: 'second secret' });
    assert.deepEqual(await nextResult((r) => r.Succeeded, fixedFrom, 'recovered'), { Succeeded: true, Message: '' });
  });

  test('a secret that is not mounted: its read error is the result', async () => {
    const from = recorder.events.length;
    rmSync(passwords.dir, { recursive: true });
    const failed = await nextResult((r) => !r.Succeeded, from, 'the missing secret reported');
    assert.equal(
      failed.Message,
      `error occurred while reading the list of secrets files from the base directory /var/run/kubevirt-private/secret/my-passwords-access-cred: open /var/run/kubevirt-private/secret/my-passwords-access-cred: no such file or directory`,
    );
  });
});

describe('SSH keys through an agent without guest-ssh-add-authorized-keys (the deprecated flow)', { timeout: 600_000 }, () => {
  let sandbox: PodSandbox;
  let recorder: NotifyRecorder;
  let launcher: RunningLauncher;
  let client: CmdClient;
  let keys: SecretVolume;
  const uid = randomUUID();
  const domainName = vmiNameToDomainName('default', 'oldagentvmi');
  const logs = () => launcher.logs();
  // qemu-ga refuses the command libvirt's AuthorizedSSHKeysSet runs, as an agent older than 5.2 lacks it
  const vmi = testVMI({ name: 'oldagentvmi', uid, kernelArgs: 'kvts.qga-block=guest-ssh-add-authorized-keys' });
  Object.assign(vmi.spec, {
    accessCredentials: [
      { sshPublicKey: { source: { secret: { secretName: 'old-keys' } }, propagationMethod: { qemuGuestAgent: { users: ['testuser'] } } } },
    ],
  });
  const guest = async (script: string): Promise<string> => {
    const r = await client.Exec({ domainName, Command: '/bin/sh', Args: ['-c', script], timeoutSeconds: 20 });
    assert.equal(r.exitCode, 0, `${script}: ${r.stdOut}`);
    return r.stdOut;
  };
  const DEPRECATED =
    'Used deprecated method to set SSH keys. It will be removed in a future release. Update qemu guest agent to 5.2 or newer to keep SSH key injection working.';

  before(async () => {
    sandbox = await createPodSandbox();
    keys = new SecretVolume(accessCredentialSecretPath(sandbox.volumePath('private'), 'old-keys'));
    keys.write({ a: `${KEY_1}\n${KEY_2}\n` });
    recorder = await NotifyRecorder.listen(sandbox.hostPath('/var/run/kubevirt/domain-notify-pipe.sock'));
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m']);
    client = await cmdClient(launcher.cmdSocket);
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' }, logs());
  });

  after(() => stopLauncherTest({ client, launcher, recorder, sandbox }));

  test('the file is written through guest-exec and guest-file-*: Succeeded, with the Warning event once', async () => {
    await recorder
      .waitFor((e) => resultOf(e)?.Succeeded === true, 120_000)
      .catch((err: unknown) => {
        throw new Error(`${String(err)}\n${logs().slice(-6000)}`);
      });
    // this agent really has guest-ssh-add-authorized-keys disabled
    const info = JSON.parse(await virsh(sandbox, ['qemu-agent-command', domainName, '{"execute":"guest-info"}'])) as {
      return: { supported_commands: Array<{ name: string; enabled: boolean }> };
    };
    assert.equal(info.return.supported_commands.find((c) => c.name === 'guest-ssh-add-authorized-keys')?.enabled, false);
    assert.equal(await guest('cat /home/testuser/.ssh/authorized_keys'), `${KEY_1}\n${KEY_2}`, "strings.Join's file: no final newline");
    assert.deepEqual((await guest('stat -c "%u:%g %a" /home/testuser/.ssh /home/testuser/.ssh/authorized_keys')).trim().split('\n'), [
      '1000:1000 700',
      '1000:1000 600',
    ]);
    assert.deepEqual(
      recorder.k8sEvents.filter((e) => e.reason === 'AccessCredentialsSyncSuccess').map((e) => [e.type, e.message]),
      [['Warning', DEPRECATED]],
    );
    // a change goes the same way; the event is not sent again while the flow keeps succeeding
    keys.write({ a: KEY_3 });
    await poll(
      'the new key written by the deprecated flow',
      async () => ((await guest('cat /home/testuser/.ssh/authorized_keys')) === KEY_3 ? true : undefined),
      60_000,
      logs,
    );
    assert.equal(recorder.k8sEvents.filter((e) => e.reason === 'AccessCredentialsSyncSuccess').length, 1);
  });
});
