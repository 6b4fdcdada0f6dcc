// The migration metrics (migrationdomainstats): which VMIs are polled, what a scrape shows, and when a
// VMI's series go. The launcher is a fake answering with job stats; the registry is prom-client's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { createHandlerMetrics, type MigrationJobInfo } from '../src/metrics.ts';
import { MigrationStatsHandler } from '../src/migration/stats.ts';

const logger = pino({ level: 'silent' });

const vmi = (migrationState?: object) =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'mig', namespace: 'ns', uid: 'u1' },
    spec: { domain: { devices: {} } },
    status: { phase: 'Running', nodeName: 'node01', ...(migrationState ? { migrationState } : {}) },
  });

const job = (processed: number): MigrationJobInfo => ({
  DataTotalSet: true,
  DataTotal: 1000,
  DataProcessedSet: true,
  DataProcessed: processed,
  DataRemainingSet: true,
  DataRemaining: 1000 - processed,
  MemoryBpsSet: true,
  MemoryBps: 50,
  MemDirtyRateSet: false,
  MemDirtyRate: 0,
});

/** A handler whose VMI cache is `current` and whose launcher answers with `answers` in turn. */
function fixture(answers: Array<MigrationJobInfo | undefined>) {
  let current: VirtualMachineInstance | undefined;
  let scrapes = 0;
  const handler = new MigrationStatsHandler({
    logger,
    pollMs: 20,
    currentVMI: () => current,
    scrape: async () => answers[Math.min(scrapes++, answers.length - 1)],
  });
  return {
    handler,
    set: (v: VirtualMachineInstance | undefined) => {
      current = v;
    },
    scrapes: () => scrapes,
  };
}

describe('migration metrics (migrationdomainstats)', () => {
  test('a VMI without a migration, or with a completed one, is not polled', async () => {
    const f = fixture([job(10)]);
    for (const v of [vmi(), vmi({ migrationUid: 'm', completed: true })]) {
      f.set(v);
      f.handler.handle(v);
    }
    await sleep(60);
    assert.equal(f.scrapes(), 0);
    assert.deepEqual(f.handler.collect(), []);
  });

  test('a migrating VMI is polled once however often it is seen; a scrape takes the readings; completed: the queue goes', async () => {
    const migrating = vmi({ migrationUid: 'm', startTimestamp: '2026-12-01T10:00:00Z' });
    const f = fixture([undefined, job(100), job(400)]);
    f.set(migrating);
    f.handler.handle(migrating);
    f.handler.handle(migrating);
    await sleep(90);
    const first = f.handler.collect();
    // the first answer had no job stats yet (the monitor had not run): nothing for it
    assert.ok(first.length >= 1, `readings: ${first.length}`);
    assert.deepEqual(first[0]?.job, job(100));
    assert.ok(f.scrapes() >= 2 && f.scrapes() <= 7, `one poller (${f.scrapes()} scrapes in 90 ms at 20 ms)`);
    f.set(vmi({ migrationUid: 'm', completed: true }));
    f.handler.collect(); // sees it finished: the queue goes
    const scrapes = f.scrapes();
    await sleep(60);
    assert.equal(f.scrapes(), scrapes, 'no polling after the migration completed');
    assert.deepEqual(f.handler.collect(), []);
    f.handler.stop();
  });

  test('the series: KubeVirt names, the VMI labels with its node, counters and gauges from the Set values only', async () => {
    const metrics = createHandlerMetrics({ nodeName: 'handler-node' });
    metrics.recordMigrationStats(vmi(), { ...job(300), MemoryBpsSet: false });
    const text = await metrics.registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('kubevirt_vmi_migration_'));
    const labels = '{node="node01",namespace="ns",name="mig"}';
    assert.deepEqual(lines.sort(), [
      `kubevirt_vmi_migration_data_bytes_total${labels} 1000`,
      `kubevirt_vmi_migration_data_processed_bytes${labels} 300`,
      `kubevirt_vmi_migration_data_remaining_bytes${labels} 700`,
    ]);
    assert.match(text, /# TYPE kubevirt_vmi_migration_data_bytes_total counter/);
    assert.match(text, /# TYPE kubevirt_vmi_migration_data_remaining_bytes gauge/);
    // a later reading replaces the counter's total; a reset drops every series
    metrics.recordMigrationStats(vmi(), job(500));
    const later = await metrics.registry.metrics();
    assert.match(later, /kubevirt_vmi_migration_data_bytes_total\{[^}]*\} 1000\n/, 'the total, not the sum of two readings');
    assert.match(later, /kubevirt_vmi_migration_data_processed_bytes\{[^}]*\} 500\n/);
    metrics.resetMigrationStats();
    assert.equal((await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('kubevirt_vmi_migration_')).length, 0);
  });
});
