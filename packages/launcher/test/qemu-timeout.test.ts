// KubeVirt's waitForDomainUUID: a launcher whose domain never appears within --qemu-timeout exits
// non-zero with a clear log line, and leaves nothing behind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createPodSandbox, type PodSandbox } from '../../../test/bed/pod-sandbox.ts';
import { startLauncher } from '../../../test/bed/launcher.ts';

let sandbox: PodSandbox | undefined;
after(async () => sandbox?.destroy());

test('no domain within --qemu-timeout → exit 1, "timed out waiting for domain to be defined", socket removed', {
  timeout: 90_000,
}, async () => {
  sandbox = await createPodSandbox();
  const started = Date.now();
  const launcher = await startLauncher(sandbox, { metadata: { name: 'never-synced', namespace: 'default', uid: randomUUID() } }, [
    '--qemu-timeout',
    '6s',
  ]);
  const code = await launcher.exited;
  const took = Date.now() - started;
  assert.equal(code, 1, launcher.logs().slice(-3000));
  assert.match(launcher.logs(), /timed out waiting for domain to be defined within 6s/);
  // not before the timeout; the log line above says it was the timeout that ended it
  assert.ok(took >= 6_000, `exited after ${took} ms`);
  assert.equal(existsSync(launcher.cmdSocket), false, 'cmd socket removed on exit');
});
