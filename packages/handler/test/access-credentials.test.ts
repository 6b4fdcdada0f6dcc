// AccessCredentialsSynchronized end to end: a real kube-apiserver, virt-handler as a process, a real
// non-root launcher in a pod sandbox with the secrets mounted where virt-controller mounts them, and the test
// guest. The launcher pushes the credentials through the guest agent; the handler turns its result into
// the VMI's condition and events, as KubeVirt's updateAccessCredentialConditions does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { poll } from '../../../test/bed/poll.ts';
import { startHandlerNode, type HandlerNode, type VMIObject } from '../../../test/bed/handler-node.ts';
import { SecretVolume, accessCredentialSecretPath } from '../../../test/bed/secret-volume.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKvts0000000000000000000000000000000000000001 one@kvts';
type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string | null };

describe('AccessCredentialsSynchronized through virt-handler', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let passwords: SecretVolume;
  const logs = () => node.handler.logs().slice(-4000);
  const condition = (v: VMIObject) =>
    (v.status as { conditions?: Condition[] } | undefined)?.conditions?.find((c) => c.type === 'AccessCredentialsSynchronized');
  const events = async () =>
    (await node.core.listNamespacedEvent({ namespace: node.namespace, fieldSelector: 'involvedObject.name=credvmi' })).items;

  before(async () => {
    node = await startHandlerNode({ namespace: 'access-creds', nodePrefix: 'kvts-cred' });
  });

  after(async () => {
    await node?.stop();
  });

  test('the credentials reach the guest → True, with the AccessCredentialsSyncSuccess event', async () => {
    // KubeVirt's default launcher: non-root (uid 107, libvirt's session daemon)
    await node.startVM('credvmi', {
      nonRoot: true,
      accessCredentials: [
        { sshPublicKey: { source: { secret: { secretName: 'keys' } }, propagationMethod: { qemuGuestAgent: { users: ['testuser'] } } } },
        { userPassword: { source: { secret: { secretName: 'passwords' } }, propagationMethod: { qemuGuestAgent: {} } } },
      ],
      preparePod: (sandbox) => {
        new SecretVolume(accessCredentialSecretPath(sandbox.volumePath('private'), 'keys')).write({ key: KEY });
        passwords = new SecretVolume(accessCredentialSecretPath(sandbox.volumePath('private'), 'passwords'));
        passwords.write({ testuser: 'a password' });
      },
    });
    const synced = await poll(
      'AccessCredentialsSynchronized True',
      async () => {
        const c = condition(await node.getVMI('credvmi'));
        return c?.status === 'True' ? c : undefined;
      },
      180_000,
      logs,
    );
    assert.equal(synced.reason, undefined, 'KubeVirt sets no reason');
    assert.equal(synced.message, undefined);
    assert.ok(synced.lastTransitionTime, 'transition time set');
    const success = await poll(
      'AccessCredentialsSyncSuccess event',
      async () => (await events()).find((e) => e.reason === 'AccessCredentialsSyncSuccess'),
      30_000,
      logs,
    );
    assert.deepEqual(
      [success.type, success.message, success.source?.component],
      ['Normal', 'Access credentials sync successful.', 'virt-handler'],
    );
  });

  test("a password for a user the guest lacks → False with the launcher's message and a Warning event", async () => {
    passwords.write({ testuser: 'a password', nosuchuser: 'x' });
    const failed = await poll(
      'AccessCredentialsSynchronized False',
      async () => {
        const c = condition(await node.getVMI('credvmi'));
        return c?.status === 'False' ? c : undefined;
      },
      120_000,
      logs,
    );
    assert.match(
      failed.message ?? '',
      /^Error encountered setting password for user \[nosuchuser\]: virError\(Code=\d+, Domain=\d+, Message='.+'\)$/,
    );
    const warning = await poll(
      'AccessCredentialsSyncFailed event',
      async () => (await events()).find((e) => e.reason === 'AccessCredentialsSyncFailed'),
      30_000,
      logs,
    );
    assert.deepEqual([warning.type, warning.message], ['Warning', `Access credentials sync failed: ${failed.message}`]);
    // only one condition of the type, whatever the history
    const all = ((await node.getVMI('credvmi')).status as { conditions?: Condition[] }).conditions ?? [];
    assert.equal(all.filter((c) => c.type === 'AccessCredentialsSynchronized').length, 1);

    passwords.write({ testuser: 'a password' });
    await poll(
      'AccessCredentialsSynchronized True again',
      async () => (condition(await node.getVMI('credvmi'))?.status === 'True' ? true : undefined),
      120_000,
      logs,
    );
  });
});
