// Live migration between two launchers, on real parts: each in its own pod sandbox with its own
// libvirtd and QEMU, and virt-handler's migration proxy between them over TLS (KubeVirt's
// certificate checks, certificates of a test CA). The test plays the rest of both handlers
// (SyncMigrationTarget on the target, MigrateVirtualMachine on the source): libvirt's peer
// connection and QEMU's streams (memory, and the NBD stream of the block migration) leave the source
// pod through the proxy's unix sockets in its `migrationproxy` directory and reach the target pod's
// libvirt socket (`virtqemud-sock`) and QEMU's listeners. Proved in the guest (what it wrote to its
// memory and its disk before is there after, on the target's console) and in what each launcher
// reports (the migration's metadata, the domains' states).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { serialConsoleSocketPath } from '@kubevirt-ts/shared';
import { bootGuest, type BootedGuest } from './bed/booted-guest.ts';
import type { PodSandbox } from './bed/pod-sandbox.ts';
import { asRequest, stopLauncherTest } from './bed/launcher.ts';
import { poll } from './bed/poll.ts';
import { SerialConsole } from './bed/serial.ts';
import { GUEST_PROMPT } from './bed/guest.ts';
import {
  DISK_MARKER_OFFSET,
  domainOf,
  launchOptions,
  migratingVMI,
  migrationOf,
  migrationOptions,
  migrationEnded,
  migrationProxies,
  migrationVMI,
  startTargetPod,
  wireMigrationProxies,
  type MigrationPod,
} from './bed/migration.ts';

for (const nonRoot of [false, true]) {
  describe(`live migration between two ${nonRoot ? 'non-root launchers (session libvirt, uid 107)' : 'launchers'}, through virt-handler's migration proxy over TLS`, {
    timeout: 900_000,
  }, () => {
    const uid = randomUUID();
    const migrating = (migration: string) => migratingVMI(uid, migration, nonRoot);
    let source: BootedGuest;
    /** A migration's target pod: a new one each migration, as virt-controller creates one each time. */
    let target: MigrationPod | undefined;
    /** The two handlers' proxy managers. */
    let proxies: Awaited<ReturnType<typeof migrationProxies>>;
    const logs = () => `source:\n${source.launcher.logs().slice(-8000)}\ntarget:\n${target?.launcher.logs().slice(-8000) ?? ''}`;
    const stopTarget = async () => {
      if (target) await stopLauncherTest(target);
      target = undefined;
    };

    /** virt-controller's target pod, and both handlers' proxies to it from `sourcePod`. */
    const newTarget = async (sourcePod: PodSandbox = source.sandbox) => {
      await stopTarget();
      target = await startTargetPod(uid, nonRoot);
      await wireMigrationProxies(uid, proxies, sourcePod, target.sandbox);
      return target;
    };

    before(async () => {
      proxies = await migrationProxies({ tls: true });
      source = await bootGuest(migrationVMI(uid, nonRoot), undefined, launchOptions(nonRoot));
    });

    after(async () => {
      proxies?.source.stopSourceListener(uid);
      proxies?.target.stopTargetListener(uid);
      await stopTarget();
      await source?.stop();
      if (proxies) rmSync(proxies.dir, { recursive: true, force: true });
    });

    test('MigrateVirtualMachine refuses options that do not parse, in-band, and keeps serving', async () => {
      const res = await source.client.MigrateVirtualMachine({
        ...asRequest(migrating(randomUUID())),
        options: Buffer.from('{"ProgressTimeout":"soon"}'),
      });
      assert.equal(res.success, false);
      assert.match(res.message, /^no valid migration options object present in command server request: ProgressTimeout: /);
      const none = await source.client.MigrateVirtualMachine({ ...asRequest(migrating(randomUUID())) });
      assert.deepEqual(none, { success: false, message: 'migration options object not present in command server request' });
      assert.equal(migrationOf(await domainOf(source.client)), undefined, 'no migration was started');
    });

    test("SignalTargetPodCleanup ends a target pod's launcher waiting for a migration that will not come, only in its own pod", async () => {
      const vmi = migrating(randomUUID());
      const { client, launcher } = await newTarget();
      assert.deepEqual(await client.SyncMigrationTarget(asRequest(vmi)), { success: true, message: '' }, logs());
      const elsewhere = { ...vmi, status: { ...vmi.status, migrationState: { ...vmi.status.migrationState, targetPod: 'another-pod' } } };
      assert.deepEqual(await client.SignalTargetPodCleanup(asRequest(elsewhere)), { success: true, message: '' });
      assert.equal(await Promise.race([launcher.exited, sleep(3_000, 'running')]), 'running', 'another pod was signalled');
      assert.deepEqual(await client.SignalTargetPodCleanup(asRequest(vmi)), { success: true, message: '' });
      assert.equal(await Promise.race([launcher.exited, sleep(30_000, 'running')]), 1, logs());
      assert.match(launcher.logs(), /received early exit signal/);
    });

    test('a migration held to 1 MiB/s is cancelled: abortStatus Succeeded, the guest runs on at the source', async () => {
      const migration = randomUUID();
      const vmi = migrating(migration);
      const { client: targetClient, launcher: targetLauncher } = await newTarget();
      assert.deepEqual(await targetClient.SyncMigrationTarget(asRequest(vmi)), { success: true, message: '' }, logs());
      assert.deepEqual(
        await source.client.MigrateVirtualMachine({ ...asRequest(vmi), options: migrationOptions({ Bandwidth: '1Mi' }) }),
        { success: true, message: '' },
        logs(),
      );
      await poll(
        'the migration is running',
        async () => (source.launcher.logs().includes('Migration info:') ? true : undefined),
        60_000,
        logs,
      );
      assert.deepEqual(await source.client.CancelVirtualMachineMigration(asRequest(vmi)), { success: true, message: '' });
      const ended = await migrationEnded(source.client, 60_000, logs);
      assert.equal(ended.UID, migration);
      assert.equal(ended.Failed, true);
      assert.equal(ended.AbortStatus, 'Succeeded');
      assert.equal(ended.FailureReason, 'Live migration has been aborted');
      assert.equal((await domainOf(source.client))?.Status.Status, 'Running');
      assert.match(await source.serial.run('echo still-$((40+2))'), /still-42/);
      // a second cancel has nothing to abort
      assert.deepEqual(await source.client.CancelVirtualMachineMigration(asRequest(vmi)), { success: true, message: '' });
      assert.equal(migrationOf(await domainOf(source.client))?.AbortStatus, 'Succeeded');
      // the incoming QEMU is gone with the aborted migration, and so is the target pod's launcher
      const code = await Promise.race([targetLauncher.exited, sleep(60_000, 'still running')]);
      assert.equal(code, 0, logs());
    });

    test('a migration moves the running guest to the target: its memory, console and domain', async () => {
      const marker = `kvts-${randomUUID().slice(0, 8)}`;
      const diskMarker = `disk-${randomUUID().slice(0, 8)}`;
      await source.serial.run(`echo ${marker} > /migration-marker`);
      // on the disk's last MiB, past the file system the guest mounted: only the block copy carries it
      await source.serial.run(`echo ${diskMarker} | dd of=/dev/vda bs=1 seek=${DISK_MARKER_OFFSET} conv=notrunc && sync`);
      const migration = randomUUID();
      const vmi = migrating(migration);
      const t = await newTarget();
      const targetClient = t.client;
      assert.deepEqual(await targetClient.SyncMigrationTarget(asRequest(vmi)), { success: true, message: '' }, logs());
      assert.deepEqual(
        await source.client.MigrateVirtualMachine({ ...asRequest(vmi), options: migrationOptions() }),
        { success: true, message: '' },
        logs(),
      );
      // asked again while it runs: nothing new starts
      assert.deepEqual(await source.client.MigrateVirtualMachine({ ...asRequest(vmi), options: migrationOptions() }), {
        success: true,
        message: '',
      });

      const atSource = await migrationEnded(source.client, 240_000, logs);
      assert.equal(atSource.UID, migration);
      assert.equal(atSource.Failed, false, `the migration failed: ${atSource.FailureReason}`);
      assert.equal(atSource.Mode, 'PreCopy');
      await poll(
        'the source domain is shut off, migrated',
        async () => {
          const d = await domainOf(source.client);
          return d?.Status.Status === 'Shutoff' && d.Status.Reason === 'Migrated' ? true : undefined;
        },
        30_000,
        logs,
      );

      const atTarget = await poll(
        'the target runs the domain and ends its record',
        async () => {
          const d = await domainOf(targetClient);
          const m = migrationOf(d);
          return d?.Status.Status === 'Running' && m?.EndTimestamp ? m : undefined;
        },
        60_000,
        logs,
      );
      assert.equal(atTarget.UID, migration);
      assert.equal(atTarget.Failed, false);

      // the same migration cannot run twice
      const again = await source.client.MigrateVirtualMachine({ ...asRequest(vmi), options: migrationOptions() });
      assert.equal(again.success, false);
      assert.match(
        again.message,
        new RegExp(`^migration job ${migration} already executed, finished at .*, failed: false, abortStatus: $`),
      );

      assert.deepEqual(await targetClient.FinalizeVirtualMachineMigration(asRequest(vmi)), { success: true, message: '' }, logs());
      t.serial = await SerialConsole.open(t.sandbox.hostPath(serialConsoleSocketPath(uid, 0, '/var/run/kubevirt-private')));
      await t.serial.waitForPrompt(GUEST_PROMPT, 30_000);
      assert.match(await t.serial.run('cat /migration-marker'), new RegExp(marker));
      // read from the target's disk, not from the page cache that came with the memory
      await t.serial.run('echo 3 > /proc/sys/vm/drop_caches');
      assert.match(
        await t.serial.run(`dd if=/dev/vda bs=1 skip=${DISK_MARKER_OFFSET} count=${diskMarker.length} 2>/dev/null`),
        new RegExp(diskMarker),
      );
    });

    test('a paused guest migrates paused, back out of the pod it moved to; unpaused on the new target, it answers', async () => {
      // the guest runs in the last migration's target pod: the source of this one
      assert.ok(target, 'the last migration left the guest in its target pod');
      const from = target;
      target = undefined;
      try {
        const vmi = migrating(randomUUID());
        assert.deepEqual(await from.client.PauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
        const to = await newTarget(from.sandbox);
        assert.deepEqual(await to.client.SyncMigrationTarget(asRequest(vmi)), { success: true, message: '' }, logs());
        assert.deepEqual(await from.client.MigrateVirtualMachine({ ...asRequest(vmi), options: migrationOptions() }), {
          success: true,
          message: '',
        });
        const ended = await migrationEnded(from.client, 240_000, () => `${logs()}\nold source:\n${from.launcher.logs().slice(-6000)}`);
        assert.equal(ended.Failed, false, ended.FailureReason);
        // libvirt's VIR_MIGRATE_PAUSED: the domain arrives paused, and the target's record still ends
        const arrived = await poll(
          'the target holds the paused domain and ends its record',
          async () => {
            const d = await domainOf(to.client);
            return d?.Status.Status === 'Paused' && migrationOf(d)?.EndTimestamp ? d : undefined;
          },
          60_000,
          logs,
        );
        assert.equal(arrived.Status.Reason, 'User');
        assert.deepEqual(await to.client.UnpauseVirtualMachine(asRequest(vmi)), { success: true, message: '' });
        to.serial = await SerialConsole.open(to.sandbox.hostPath(serialConsoleSocketPath(uid, 0, '/var/run/kubevirt-private')));
        await to.serial.waitForPrompt(GUEST_PROMPT, 30_000);
        assert.match(await to.serial.run('cat /migration-marker'), /kvts-/);
      } finally {
        await stopLauncherTest(from);
      }
    });

    const postCopyPossible = !nonRoot || readFileSync('/proc/sys/vm/unprivileged_userfaultfd', 'utf8').trim() === '1';
    test(`past its completion time, with workload disruption allowed, the migration switches to post-copy and completes${
      postCopyPossible ? '' : ' (here: fails at once, QEMU as uid 107 has no userfaultfd)'
    }`, async () => {
      assert.ok(target, 'the last migration left the guest in its target pod');
      const from = target;
      target = undefined;
      try {
        const vmi = migrating(randomUUID());
        const to = await newTarget(from.sandbox);
        assert.deepEqual(await to.client.SyncMigrationTarget(asRequest(vmi)), { success: true, message: '' }, logs());
        // 1 s per GB for a guest under 1 GB: the monitor acts after a second; 2 MiB/s keeps pre-copy from finishing first
        const options = migrationOptions({
          Bandwidth: '2Mi',
          CompletionTimeoutPerGiB: 1,
          AllowPostCopy: true,
          AllowWorkloadDisruption: true,
        });
        assert.deepEqual(await from.client.MigrateVirtualMachine({ ...asRequest(vmi), options }), { success: true, message: '' });
        const ended = await migrationEnded(from.client, 240_000, () => `${logs()}\nold source:\n${from.launcher.logs().slice(-6000)}`);
        if (!postCopyPossible) {
          // QEMU as uid 107 gets no userfaultfd (vm.unprivileged_userfaultfd 0): libvirt refuses the
          // post-copy capability, the migration fails at once and the guest runs on where it was
          assert.equal(ended.Failed, true);
          assert.match(ended.FailureReason, /Postcopy is not supported/);
          assert.equal((await domainOf(from.client))?.Status.Status, 'Running');
          assert.ok(from.serial, 'the console of the pod the guest runs in');
          assert.match(await from.serial.run('cat /migration-marker'), /kvts-/);
          return;
        }
        assert.equal(ended.Failed, false, ended.FailureReason);
        assert.equal(ended.Mode, 'PostCopy');
        assert.match(from.launcher.logs(), /Starting post copy mode for migration/);
        await poll(
          'the target runs the domain',
          async () => ((await domainOf(to.client))?.Status.Status === 'Running' ? true : undefined),
          60_000,
          logs,
        );
        to.serial = await SerialConsole.open(to.sandbox.hostPath(serialConsoleSocketPath(uid, 0, '/var/run/kubevirt-private')));
        await to.serial.waitForPrompt(GUEST_PROMPT, 30_000);
        assert.match(await to.serial.run('cat /migration-marker'), /kvts-/);
      } finally {
        await stopLauncherTest(from);
      }
    });
  });
}
