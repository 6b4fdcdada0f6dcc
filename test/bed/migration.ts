// Live migration in the test bed: the VMI as the handlers send it while virt-controller migrates
// it, KubeVirt's default migration options, a target pod with its launcher, both handlers' migration
// proxies between two pods, and the migration record each launcher reports.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { MigrationProxyManager, type MigrationTLS } from '@kubevirt-ts/handler';
import {
  createLogger,
  LibvirtBlockMigrationPort,
  LibvirtDirectMigrationPort,
  migrationProxyKey,
  migrationSourceUnixFile,
  parseDomain,
  VirtShareDir,
  type Domain,
} from '@kubevirt-ts/shared';
import { makeHandlerPki } from './handler-pki.ts';
import { createPodSandbox, type PodSandbox } from './pod-sandbox.ts';
import { NONROOT_ENV, NONROOT_UID, startLauncher, testVMI, type RunningLauncher } from './launcher.ts';
import { poll } from './poll.ts';
import type { SerialConsole } from './serial.ts';

export const TARGET_POD = 'virt-launcher-migvmi-target';
/** 7 MiB into the test guest's 8 MiB data disk. */
export const DISK_MARKER_OFFSET = 7 * 1024 * 1024;

/**
 * The test guest: its containerDisk is local to each pod, so the migration is a block migration (as
 * virt-handler decides for such a VMI) that copies the disk's overlay beside the memory.
 */
export function migrationVMI(uid: string, nonRoot: boolean) {
  const vmi = testVMI({ name: 'migvmi', uid });
  // virt-api's mark of a non-root VMI: its libvirt is a session daemon of uid 107
  return nonRoot ? { ...vmi, status: { ...vmi.status, runtimeUser: NONROOT_UID } } : vmi;
}

/** The VMI as each handler sends it while virt-controller migrates it (migration `migrationUID`). */
export function migratingVMI(uid: string, migrationUID: string, nonRoot: boolean) {
  const vmi = migrationVMI(uid, nonRoot);
  return {
    ...vmi,
    status: {
      ...(nonRoot ? { runtimeUser: NONROOT_UID } : {}),
      phase: 'Running',
      migrationTransport: 'Unix',
      migrationMethod: 'BlockMigration',
      migrationState: { migrationUid: migrationUID, sourceNode: 'node-a', targetNode: 'node-b', targetPod: TARGET_POD },
    },
  };
}

/**
 * The options virt-handler sends with KubeVirt's default MigrationConfiguration (virt-config: no
 * bandwidth limit, 150 s, 150 s per GiB, 900 ms downtime), every Go field as json.Marshal writes
 * it; 8 parallel (multifd) connections, as it asks for a VMI without CPU limits or dedicated CPUs.
 */
export function migrationOptions(extra: Record<string, unknown> = {}) {
  return Buffer.from(
    JSON.stringify({
      Bandwidth: '0',
      ProgressTimeout: 150,
      CompletionTimeoutPerGiB: 150,
      MaxDowntimeMs: 900,
      UnsafeMigration: false,
      AllowAutoConverge: false,
      AllowPostCopy: false,
      ParallelMigrationThreads: 8,
      AllowWorkloadDisruption: false,
      StallDetectorOptions: null,
      Compression: null,
      DowntimeTuning: null,
      ...extra,
    }),
  );
}

/** The domain the launcher reports, parsed as virt-handler parses it. */
export async function domainOf(client: CmdClient): Promise<Domain | undefined> {
  const res = await client.GetDomain({});
  if (!res.response?.success) throw new Error(`GetDomain: ${res.response?.message ?? 'no response'}`);
  return res.domain === '' ? undefined : parseDomain(JSON.parse(res.domain));
}

/** The domain's migration record (metadataCache.Migration), when it has one. */
export const migrationOf = (d: Domain | undefined) => d?.Spec.Metadata.KubeVirt.Migration ?? undefined;
export type Migration = NonNullable<ReturnType<typeof migrationOf>>;

/** A pod the VMI's launcher runs in. */
export interface MigrationPod {
  sandbox: PodSandbox;
  launcher: RunningLauncher;
  client: CmdClient;
  serial?: SerialConsole;
}

/** How virt-controller renders the compute container: non-root (uid 107), or root. */
export function launchOptions(nonRoot: boolean) {
  return nonRoot
    ? { extraArgs: ['--run-as-nonroot'], options: { nonRootUser: NONROOT_UID, env: NONROOT_ENV } }
    : { extraArgs: [] as string[], options: {} };
}

/** virt-controller's target pod: the launcher in it waiting for its domain. */
export async function startTargetPod(uid: string, nonRoot: boolean): Promise<MigrationPod> {
  const sandbox = await createPodSandbox();
  const launch = launchOptions(nonRoot);
  try {
    const launcher = await startLauncher(sandbox, migrationVMI(uid, nonRoot), ['--qemu-timeout', '10m', ...launch.extraArgs], {
      ...launch.options,
      env: { ...(nonRoot ? NONROOT_ENV : {}), POD_NAME: TARGET_POD },
    });
    return { sandbox, launcher, client: await cmdClient(launcher.cmdSocket) };
  } catch (err) {
    await sandbox.destroy();
    throw err;
  }
}

/** Both handlers' migration proxy managers, with certificates of a test CA (undefined tls: DisableTLS). */
export async function migrationProxies(o: {
  tls: boolean;
}): Promise<{ source: MigrationProxyManager; target: MigrationProxyManager; dir: string }> {
  const dir = mkdtempSync('/tmp/kvts-mig-pki-');
  let tls: MigrationTLS | undefined;
  if (o.tls) {
    const pki = await makeHandlerPki(path.join(dir, 'pki'));
    tls = {
      server: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, cnTypes: ['virt-handler', 'migration'] },
      client: { cert: pki.client.cert, key: pki.client.key, ca: pki.ca.cert },
    };
  }
  // the proxies' warnings (refused certificates, failed legs) only: the rest would flood the test's output
  const logger = createLogger({ component: 'virt-handler', verbosity: 2 });
  logger.level = 'warn';
  return {
    source: new MigrationProxyManager({ tls: () => tls, logger }),
    target: new MigrationProxyManager({ tls: () => tls, logger }),
    dir,
  };
}

/**
 * handleTargetMigrationProxy then handleSourceMigrationProxy: the target pod's libvirt and QEMU
 * sockets behind the target's listeners, the ports they got as sockets in the source pod.
 */
export async function wireMigrationProxies(
  uid: string,
  proxies: { source: MigrationProxyManager; target: MigrationProxyManager },
  sourcePod: PodSandbox,
  targetPod: PodSandbox,
): Promise<void> {
  const inTarget = (key: string) => migrationSourceUnixFile(targetPod.hostPath(VirtShareDir), key);
  await proxies.target.startTargetListener(uid, [
    targetPod.hostPath('/var/run/libvirt/virtqemud-sock'),
    ...[LibvirtDirectMigrationPort, LibvirtBlockMigrationPort].map((port) => inTarget(migrationProxyKey(uid, port))),
  ]);
  await proxies.source.startSourceListener(uid, '127.0.0.1', proxies.target.getTargetListenerPorts(uid), sourcePod.hostPath(VirtShareDir));
}

/** The migration record once the launcher reports the migration ended. */
export function migrationEnded(client: CmdClient, timeoutMs: number, logs?: () => string): Promise<Migration> {
  return poll(
    'the launcher reports the migration ended',
    async () => {
      const m = migrationOf(await domainOf(client));
      return m?.EndTimestamp ? m : undefined;
    },
    timeoutMs,
    logs,
  );
}
