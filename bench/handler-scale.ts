// virt-handler at scale: one handler, N VMIs on its node in the test bed's kube-apiserver, each with a
// launcher pod (a pod sandbox) whose launcher is a fake speaking the real Cmd protocol on the real
// socket and the real Notify protocol through the pipe the handler plants. Grows N in steps; at each:
// bring-up time, domain event → VMI status latency at a steady event rate, the status-update throughput
// of a burst (one event for every VMI at once), and the handler's RSS and CPU. With --node the same on the
// real node (test/node): the handler is deploy/'s DaemonSet pod and each launcher pod a real pod kubelet ran.
//   node bench/handler-scale.ts [--quick] [--entry bundle|source] [--launchers 50,200,500] [--rate 20] [--seconds 20] [--profile DIR]
//   flock /tmp/kvts-heavy.lock node bench/handler-scale.ts --node [--quick] [--launchers 50,100]
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createCmdServer, listenUnix, notifyClient, type NotifyClient, type Server } from '@kubevirt-ts/proto';
import {
  ContainerDiskDir,
  EphemeralDiskDir,
  VirtPrivateDir,
  VirtShareDir,
  domainNotifyPipeSocketPath,
  errorMessage,
  launcherSocketPath,
  pathInProcRoot,
  newDomain,
  parseDomain,
  parseVMI,
  type Domain,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';
import { requiredGuestAgentCommands } from '@kubevirt-ts/handler';
import { convertVMIToDomainSpec } from '@kubevirt-ts/launcher';
import { startControlPlane } from '../test/control-plane/control-plane.ts';
import { freePort } from '../test/control-plane/daemon.ts';
import { createPodSandbox, podsBaseDir } from '../test/bed/pod-sandbox.ts';
import { testVMI } from '../test/bed/launcher.ts';
import { startHandler } from '../test/bed/handler.ts';
import { makeHandlerPki } from '../test/bed/handler-pki.ts';
import { handlerKubeconfig } from '../test/bed/handler-rbac.ts';
import { Cleanups } from '../test/demo/demo.ts';
import { benchFlags, daemonBundle, emit, log, machine, median, percentile, quickFlag, round, scratchDir } from './lib.ts';
import { cpuPercent, k8s, machineBusy, sampleProcess } from './handler-lib.ts';
import { createKubeVirtCR } from '../test/bed/kubevirt-cr.ts';
import { poll } from '../test/bed/poll.ts';
import { deployHandler, podLogs } from '../test/demo/node-stack.ts';
import { startRealNode, waitNodeReady } from '../test/node/real-node.ts';
import { podProcesses } from '../test/node/host.ts';
import { PAUSE_IMAGE } from '../test/node/containerd.ts';

const flags = benchFlags(
  z.object({
    quick: quickFlag,
    launchers: z
      .array(z.number().int().min(1))
      .optional()
      .describe('VMI counts to grow through (default 50,200,500; 50,100 with --node; 10 with --quick)'),
    rate: z.coerce.number().positive().optional().describe('domain events per second in the steady phase (default 20, 10 with --quick)'),
    seconds: z.coerce.number().positive().optional().describe('length of the steady phase at each count (default 20, 4 with --quick)'),
    entry: z
      .enum(['bundle', 'source'])
      .default('bundle')
      .describe('run the shipped bundle (dist/virt-handler.mjs, built fresh) or the TS source'),
    profile: z.string().optional().describe("write virt-handler's CPU profile, and a heap snapshot after each hold, into this directory"),
    node: z.coerce
      .boolean()
      .default(false)
      .describe("on the machine's real node: the handler image as its DaemonSet pod, each launcher pod a real pod (kubelet allows 110)"),
  }),
  'bench/handler-scale.ts',
);
if (flags.node && (flags.entry === 'source' || flags.profile)) {
  throw new Error('--node runs the handler image (the bundle) as a pod: --entry source and --profile are for the sandbox only');
}

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const CONCURRENCY = 8;
/** kubelet's maxPods (110) less room for the handler's pod */
const NODE_MAX_LAUNCHERS = 100;

/** The converter's context as a launcher pod has it (KubeVirt's fixed in-pod paths). */
const CONVERTER_CONTEXT = {
  allowEmulation: true,
  hypervisorDeviceAvailable: false,
  virtShareDir: VirtShareDir,
  privateDir: VirtPrivateDir,
  containerDiskDir: ContainerDiskDir,
  ephemeralDiskDir: EphemeralDiskDir,
};

const ok = { success: true, message: '' };

/** qemu-ga's answer as the launcher relays it: every command virt-handler requires. */
const GUEST_INFO = JSON.stringify({
  guestAgentVersion: '9.2.0',
  supportedCommands: requiredGuestAgentCommands.map((name) => ({ name, enabled: true })),
});

/**
 * A virt-launcher without libvirt: the Cmd server on the pod's launcher-sock, a domain made by the
 * real converter from the VMI the handler syncs, and its state changes sent as the launcher's
 * notifier sends them (one ordered stream, dialled on first use through the pipe in the pod).
 */
class FakeLauncher {
  readonly pod: LauncherPod;
  readonly name: string;
  #server: Server;
  #domain: Domain | undefined;
  #notify: NotifyClient | undefined;
  #sending: Promise<unknown> = Promise.resolve();
  /** Where HandleDomainEvent round trips go, ms (launcher → pipe → handler's notify server → answer). */
  readonly #notifyMs: { samples: number[] };

  private constructor(pod: LauncherPod, name: string, notifyMs: { samples: number[] }) {
    this.pod = pod;
    this.name = name;
    this.#notifyMs = notifyMs;
    this.#server = createCmdServer({
      Ping: () => ok,
      SyncVirtualMachine: (req) => {
        if (!this.#domain) this.#define(parseVMI(JSON.parse(req.vmi?.vmiJson.toString() ?? '{}')));
        return ok;
      },
      GetDomain: () => ({ response: ok, domain: this.#domain ? JSON.stringify(this.#domain) : '' }),
      // virt-handler asks on every status update while the agent is connected (AgentVersionNotSupported)
      GetGuestInfo: () => ({ response: ok, guestInfoResponse: GUEST_INFO }),
      PauseVirtualMachine: () => this.#setState('Paused', 'User'),
      UnpauseVirtualMachine: () => this.#setState('Running', 'Unknown'),
      ShutdownVirtualMachine: () => this.#setState('Shutoff', 'Shutdown'),
      KillVirtualMachine: () => this.#setState('Shutoff', 'Destroyed'),
      DeleteVirtualMachine: () => {
        if (this.#domain) this.#send('DELETED', this.#domain);
        this.#domain = undefined;
        return ok;
      },
    });
  }

  static async start(pod: LauncherPod, name: string, notifyMs: { samples: number[] }): Promise<FakeLauncher> {
    const launcher = new FakeLauncher(pod, name, notifyMs);
    await listenUnix(launcher.#server, pod.hostPath(launcherSocketPath()));
    return launcher;
  }

  get paused(): boolean {
    return this.#domain?.Status.Status === 'Paused';
  }

  /** The guest paused or resumed on its own (as a user in virsh would): one MODIFIED event. */
  toggle(): Promise<unknown> {
    return this.paused ? this.#setState('Running', 'Unknown') : this.#setState('Paused', 'User');
  }

  /** defineDomain + start: ADDED while shut off, then MODIFIED Running with the agent connected. */
  #define(vmi: VirtualMachineInstance): void {
    const domain = newDomain(vmi.metadata);
    domain.Spec = convertVMIToDomainSpec(vmi, CONVERTER_CONTEXT);
    domain.Status.Status = 'Shutoff';
    domain.Status.Reason = 'Unknown';
    this.#domain = parseDomain(domain);
    this.#send('ADDED', this.#domain);
    const agent = this.#domain.Spec.Devices.Channels?.find((c) => c.Target?.Name === 'org.qemu.guest_agent.0');
    if (agent?.Target) agent.Target.State = 'connected';
    Object.assign(this.#domain.Status.OSInfo, {
      Name: 'Alpine Linux',
      Id: 'alpine',
      PrettyName: 'Alpine Linux v3.21',
      Version: '3.21.0',
      VersionId: '3.21.0',
      KernelRelease: '6.12.1',
      Machine: 'x86_64',
    });
    void this.#setState('Running', 'Unknown');
  }

  #setState(status: string, reason: string): Promise<typeof ok> {
    if (!this.#domain) return Promise.resolve({ success: false, message: 'no domain' });
    this.#domain.Status.Status = status;
    this.#domain.Status.Reason = reason;
    return this.#send('MODIFIED', this.#domain).then(() => ok);
  }

  #send(eventType: 'ADDED' | 'MODIFIED' | 'DELETED', domain: Domain): Promise<unknown> {
    const domainJSON = Buffer.from(JSON.stringify(domain));
    this.#sending = this.#sending.then(async () => {
      this.#notify ??= await notifyClient(this.pod.hostPath(domainNotifyPipeSocketPath()));
      const t0 = performance.now();
      const res = await this.#notify.HandleDomainEvent({ eventType, domainJSON });
      this.#notifyMs.samples.push(performance.now() - t0);
      if (!res.success) throw new Error(`HandleDomainEvent ${eventType}: ${res.message}`);
    });
    this.#sending = this.#sending.catch((err: unknown) => log(`  ${this.name}: ${errorMessage(err)}`));
    return this.#sending;
  }

  close(): void {
    this.#notify?.close();
    this.#server.forceShutdown();
  }
}

/** What the bench's own watch of the VMIs last saw, and the change it waits for. */
interface Seen {
  phase: string;
  paused: boolean;
  pending?: { wantPaused: boolean; t0: number; samples: number[] };
}

interface Latency {
  events: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function latency(ms: readonly number[]): Latency {
  return { events: ms.length, p50Ms: round(percentile(ms, 50), 1), p99Ms: round(percentile(ms, 99), 1), maxMs: round(Math.max(...ms), 1) };
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !ok(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
  }
}

/** A launcher pod as the bench needs it: its uid (for the VMI's activePods) and its paths on the host. */
interface LauncherPod {
  readonly podUID: string;
  hostPath(inPod: string): string;
  destroy(): Promise<void>;
}

/** Where the handler runs and the launcher pods live. */
interface ScaleBed {
  kc: k8s.KubeConfig;
  /** the VMIs' namespace */
  namespace: string;
  nodeName: string;
  handlerPid: number;
  /** a heap snapshot of the handler (with --profile) */
  snapshot?: () => void;
  /** the handler's log tail, for a failure */
  handlerLogs(): string;
  newPod(name: string): Promise<LauncherPod>;
}

/** The test bed: kube-apiserver, a Node object, the handler process, pod sandboxes. */
async function sandboxBed(cleanups: Cleanups): Promise<ScaleBed> {
  const cp = await startControlPlane();
  cleanups.defer(() => cp.stop());
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespace = await cp.createNamespace('scale');
  // the cluster's KubeVirt CR: useEmulation (the launchers' pods have no /dev/kvm)
  await createKubeVirtCR(kc, namespace, {});
  const nodeName = `kvts-scale-${crypto.randomUUID().slice(0, 6)}`;
  await core.createNode({ body: { metadata: { name: nodeName } } });
  cleanups.defer(() => core.deleteNode({ name: nodeName }));
  const dir = scratchDir('kvts-bench-scale');
  const pki = await makeHandlerPki(path.join(dir, 'pki'));
  const env: Record<string, string> = {};
  if (flags.profile) {
    const out = path.resolve(flags.profile);
    mkdirSync(out, { recursive: true });
    env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${out} --diagnostic-dir=${out} --heapsnapshot-signal=SIGUSR2`;
  }
  const handler = await startHandler({
    ...(flags.entry === 'bundle' ? { entry: await daemonBundle('virt-handler') } : {}),
    nodeName,
    kubeconfigPath: await handlerKubeconfig(cp, path.join(dir, 'handler.kubeconfig')),
    shareDir: path.join(dir, 'share'),
    privateDir: path.join(dir, 'private'),
    podsBaseDir: podsBaseDir(),
    consoleServerPort: await freePort(),
    port: await freePort(),
    tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile, caFile: pki.ca.certFile },
    extraArgs: ['-v', '2'], // KubeVirt's default verbosity, not the test bed's 3
    env,
  });
  cleanups.defer(() => handler.stop());
  return {
    kc,
    namespace,
    nodeName,
    handlerPid: handler.process.pid as number,
    ...(flags.profile ? { snapshot: () => handler.process.kill('SIGUSR2') } : {}),
    handlerLogs: () => handler.logs().slice(-5000),
    newPod: () => createPodSandbox(),
  };
}

/**
 * The real node: kubelet + containerd, the handler image as deploy/'s DaemonSet pod (KubeVirt's verbosity),
 * and for each launcher a pod kubelet runs (the pause image with the `sockets` volume where a launcher
 * has it, host network: the fake launcher needs no pod IP). The fake serves on the socket through the
 * pause process's root, so the handler finds the pod's process as it finds a launcher's.
 */
async function nodeBed(cleanups: Cleanups): Promise<ScaleBed> {
  const starting = startRealNode();
  cleanups.defer(async () => (await starting.catch(() => undefined))?.stop());
  const node = await starting;
  await waitNodeReady(node);
  const { pod } = await deployHandler(node, path.join(scratchDir('kvts-bench-scale'), 'pki'), cleanups, (text) => log(`  ${text}`));
  const handler = podProcesses(pod.metadata?.uid ?? '').find((p) => p.exe === 'node' && p.cmdline.includes('virt-handler'));
  if (!handler) throw new Error(`no virt-handler process in pod ${pod.metadata?.name}`);
  const core = node.kc.makeApiClient(k8s.CoreV1Api);
  const namespace = 'scale';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const newPod = async (name: string): Promise<LauncherPod> => {
    const created = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: `virt-launcher-${name}` },
        spec: {
          nodeName: node.nodeName,
          hostNetwork: true,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: 'compute',
              image: PAUSE_IMAGE,
              imagePullPolicy: 'Never',
              // at /run: a launcher image's /var/run links there, and the handler looks there (pathInProcRoot)
              volumeMounts: [{ name: 'sockets', mountPath: path.dirname(launcherSocketPath()).replace(/^\/var\/run\//, '/run/') }],
            },
          ],
          volumes: [{ name: 'sockets', emptyDir: {} }],
        },
      },
    });
    const podName = created.metadata?.name ?? '';
    const uid = created.metadata?.uid ?? '';
    const destroy = async () => {
      await core.deleteNamespacedPod({ namespace, name: podName, gracePeriodSeconds: 0 }).catch(() => undefined);
      await poll(
        'the pod gone',
        async () =>
          (await core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${podName}` })).items.length === 0 || undefined,
        120_000,
      );
    };
    // the compute container's process: the one whose root has the sockets volume
    const pid = await poll(
      `pod ${podName} running`,
      async () => podProcesses(uid).find((p) => existsSync(pathInProcRoot(p.pid, path.dirname(launcherSocketPath()))))?.pid,
      120_000,
    ).catch(async (err: unknown) => {
      await destroy();
      throw err;
    });
    return { podUID: uid, hostPath: (inPod) => pathInProcRoot(pid, inPod), destroy };
  };
  return { kc: node.kc, namespace, nodeName: node.nodeName, handlerPid: handler.pid, newPod, handlerLogs: podLogs };
}

async function main(): Promise<void> {
  const counts = flags.launchers ?? (flags.quick ? [10] : flags.node ? [50, 100] : [50, 200, 500]);
  // kubelet runs at most 110 pods (its maxPods default); the handler's and the node's own need room
  if (flags.node && Math.max(...counts) > NODE_MAX_LAUNCHERS) throw new Error(`--node: at most ${NODE_MAX_LAUNCHERS} launchers`);
  const rate = flags.rate ?? (flags.quick ? 10 : 20);
  const steadySeconds = flags.seconds ?? (flags.quick ? 4 : 20);
  const idleSeconds = flags.quick ? 2 : 5;
  const t0 = Date.now();
  log(`handler-scale: ${counts.join(' → ')} VMIs on one virt-handler, ${rate} domain events/s for ${steadySeconds} s at each`);

  const cleanups = new Cleanups();
  let bed: ScaleBed | undefined;
  process.once('SIGINT', () => void cleanups.run().then(() => process.exit(130)));
  try {
    const started = await (flags.node ? nodeBed : sandboxBed)(cleanups);
    bed = started;
    const { kc, namespace, nodeName, handlerPid } = started;
    const api = kc.makeApiClient(k8s.CustomObjectsApi);

    const launchers: FakeLauncher[] = [];
    const notifyMs = { samples: [] as number[] };
    // after the handler has stopped (cleanups run last-first)
    cleanups.defer(() =>
      pool(launchers, 16, async (l) => {
        l.close();
        await l.pod.destroy();
      }),
    );
    const startedRss = sampleProcess(handlerPid).rssMiB;
    log(`  virt-handler ready (pid ${handlerPid}, ${startedRss.toFixed(0)} MiB RSS) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // the bench's view of every VMI, from its own watch
    const seen = new Map<string, Seen>();
    let lastChange = performance.now();
    const onVMI = (
      _type: string,
      obj: { metadata: { name: string }; status?: { phase?: string; conditions?: Array<{ type: string; status: string }> } },
    ) => {
      const now = performance.now();
      lastChange = now;
      const s = seen.get(obj.metadata.name) ?? { phase: '', paused: false };
      s.phase = obj.status?.phase ?? '';
      s.paused = (obj.status?.conditions ?? []).some((c) => c.type === 'Paused' && c.status === 'True');
      if (s.pending && s.pending.wantPaused === s.paused) {
        s.pending.samples.push(now - s.pending.t0);
        s.pending = undefined;
      }
      seen.set(obj.metadata.name, s);
    };
    // client-node ends a watch after 30 s without an event (pods on the real node take longer to come):
    // watch again, its initial ADDED events bring `seen` up to date
    let watching: AbortController | undefined;
    let stopped = false;
    const watchVMIs = async (): Promise<void> => {
      watching = await new k8s.Watch(kc).watch(
        `/apis/kubevirt.io/v1/namespaces/${namespace}/virtualmachineinstances`,
        {},
        onVMI,
        (err: unknown) => {
          if (stopped) return;
          if (err && !(err instanceof Error && err.name === 'TimeoutError')) log(`  VMI watch ended: ${String(err)}; watching again`);
          void sleep(200).then(watchVMIs);
        },
      );
    };
    await watchVMIs();
    cleanups.defer(async () => {
      stopped = true;
      watching?.abort();
    });

    const self0 = process.cpuUsage();
    const selfT0 = performance.now();

    /** One event for `l`, counted when the watch shows the VMI's Paused condition follow it. */
    const fire = (l: FakeLauncher, samples: number[]): void => {
      const s = seen.get(l.name);
      if (!s) return;
      s.pending = { wantPaused: !l.paused, t0: performance.now(), samples };
      void l.toggle();
    };
    const pendingCount = () => launchers.filter((l) => seen.get(l.name)?.pending).length;
    const quiet = async (ms: number, timeoutMs: number) => {
      lastChange = performance.now();
      await waitFor('VMI status quiet', () => performance.now() - lastChange > ms, timeoutMs);
    };

    const steps: Array<Record<string, unknown>> = [];
    for (const n of counts) {
      if (n <= launchers.length) continue;
      const added = n - launchers.length;
      log(`  ${n} VMIs: starting ${added} launcher pods and creating their VMIs…`);
      const tPods = performance.now();
      const fresh = await pool(
        Array.from({ length: added }, (_, i) => launchers.length + i),
        CONCURRENCY,
        async (i) => {
          const name = `vmi-${String(i).padStart(4, '0')}`;
          const pod = await started.newPod(name);
          const launcher = await FakeLauncher.start(pod, name, notifyMs).catch(async (err: unknown) => {
            await pod.destroy();
            throw err;
          });
          launchers.push(launcher);
          return launcher;
        },
      );
      const podsS = (performance.now() - tPods) / 1000;

      // virt-controller's part: Scheduled VMIs on this node, their launcher pods in activePods
      const tCreate = performance.now();
      await pool(fresh, CONCURRENCY, async (l) => {
        const vmi = testVMI({ name: l.name, namespace, uid: 'set-by-apiserver' });
        const { uid: _uid, ...metadata } = vmi.metadata;
        // a fake launcher boots nothing: no containerDisk or kernel-boot image for the handler to mount
        const spec = {
          ...vmi.spec,
          volumes: [],
          domain: { ...vmi.spec.domain, firmware: {}, devices: { ...vmi.spec.domain.devices, disks: [] } },
        };
        const body = {
          ...vmi,
          spec,
          metadata: { ...metadata, labels: { 'kubevirt.io/nodeName': nodeName } },
          status: { phase: 'Scheduled', nodeName, activePods: { [l.pod.podUID]: nodeName } },
        };
        await api.createNamespacedCustomObject({ ...VMI, namespace, body });
      });
      const createdS = (performance.now() - tCreate) / 1000;
      await waitFor(`${n} VMIs Running`, () => launchers.every((l) => seen.get(l.name)?.phase === 'Running'), 60_000 + n * 500);
      const runningS = (performance.now() - tCreate) / 1000;
      await quiet(1500, 60_000);
      log(
        `    pods ${podsS.toFixed(1)} s; VMIs created in ${createdS.toFixed(1)} s, all Running after ${runningS.toFixed(1)} s (${(added / runningS).toFixed(1)} VMIs/s)`,
      );

      // held: the handler with N domains and nothing happening but its watchdog and heartbeat
      const idle0 = sampleProcess(handlerPid);
      await sleep(idleSeconds * 1000);
      const idle1 = sampleProcess(handlerPid);
      if (started.snapshot) {
        started.snapshot(); // the snapshot stops the handler while it is written
        await sleep(1000);
        await quiet(1000, 120_000);
      }

      // steady: `rate` events/s, each to a VMI with no change in flight
      const steady: number[] = [];
      notifyMs.samples = [];
      const busy = machineBusy();
      const st0 = sampleProcess(handlerPid);
      // the bench's own event loop times every event and answer: its delays are in the figures
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      let sent = 0;
      let skipped = 0;
      const tSteady = performance.now();
      while (performance.now() - tSteady < steadySeconds * 1000) {
        const due = Math.floor(((performance.now() - tSteady) / 1000) * rate);
        for (; sent < due; sent++) {
          const free = launchers.filter((l) => !seen.get(l.name)?.pending);
          const l = free[Math.floor(Math.random() * free.length)];
          if (l) fire(l, steady);
          else skipped++;
        }
        await sleep(5);
      }
      const st1 = sampleProcess(handlerPid);
      const steadyBusy = busy();
      const steadyNotify = notifyMs.samples;
      notifyMs.samples = []; // the burst's round trips are not the steady phase's
      loop.disable();
      await waitFor('steady events seen', () => pendingCount() === 0, 30_000).catch(() => undefined);
      const steadyLost = pendingCount();
      for (const l of launchers) delete seen.get(l.name)?.pending;
      await quiet(1000, 30_000);

      // burst: one event for every VMI at once
      const burst: number[] = [];
      const b0 = sampleProcess(handlerPid);
      const tBurst = performance.now();
      for (const l of launchers) fire(l, burst);
      await waitFor('burst seen', () => pendingCount() === 0, 60_000 + n * 200).catch(() => undefined);
      const burstS = (performance.now() - tBurst) / 1000;
      const b1 = sampleProcess(handlerPid);
      const burstLost = pendingCount();
      for (const l of launchers) delete seen.get(l.name)?.pending;
      await quiet(1000, 30_000);
      const after = sampleProcess(handlerPid);

      const step = {
        vmis: n,
        bringUp: {
          podsS: round(podsS, 1),
          createS: round(createdS, 1),
          allRunningS: round(runningS, 1),
          vmisPerS: round(added / runningS, 1),
        },
        idle: { rssMiB: round(idle1.rssMiB, 1), cpuPercent: round(cpuPercent(idle0, idle1), 1) },
        steady: {
          rate,
          seconds: steadySeconds,
          ...latency(steady),
          skipped,
          lost: steadyLost,
          statusUpdatesPerS: round(steady.length / steadySeconds, 1),
          notifyRoundTrip: { p50Ms: round(median(steadyNotify), 1), p99Ms: round(percentile(steadyNotify, 99), 1) },
          benchLoopDelay: { p99Ms: round(loop.percentile(99) / 1e6, 1), maxMs: round(loop.max / 1e6, 1) },
          handlerCpuPercent: round(cpuPercent(st0, st1), 1),
          machineBusyPercent: round(steadyBusy, 1),
          rssMiB: round(st1.rssMiB, 1),
        },
        burst: {
          ...latency(burst),
          lost: burstLost,
          seconds: round(burstS, 2),
          statusUpdatesPerS: round(burst.length / burstS, 1),
          handlerCpuPercent: round(cpuPercent(b0, b1), 1),
        },
        rssMiB: round(after.rssMiB, 1),
        peakRssMiB: round(after.peakRssMiB, 1),
      };
      steps.push(step);
      log(
        `    held: ${step.idle.rssMiB} MiB RSS, ${step.idle.cpuPercent}% CPU idle; ` +
          `steady ${rate}/s: p50 ${step.steady.p50Ms} ms p99 ${step.steady.p99Ms} ms (${steady.length} events, ${skipped} skipped, ${steadyLost} lost; ` +
          `notify round trip p50 ${step.steady.notifyRoundTrip.p50Ms} ms p99 ${step.steady.notifyRoundTrip.p99Ms} ms; ` +
          `bench loop delay p99 ${step.steady.benchLoopDelay.p99Ms} ms), ` +
          `handler ${step.steady.handlerCpuPercent}% CPU, machine ${step.steady.machineBusyPercent}% busy`,
      );
      log(
        `    burst of ${n}: ${step.burst.statusUpdatesPerS} status updates/s, p50 ${step.burst.p50Ms} ms p99 ${step.burst.p99Ms} ms` +
          ` (${burstLost} lost), handler ${step.burst.handlerCpuPercent}% CPU; RSS ${step.rssMiB} MiB (peak ${step.peakRssMiB})`,
      );
    }

    const self = process.cpuUsage(self0);
    const benchCpuPercent = (100 * (self.user + self.system)) / 1000 / (performance.now() - selfT0);
    const at = (n: number) => steps.find((s) => s.vmis === n) as { steady: Latency; rssMiB: number; peakRssMiB: number } | undefined;
    const figures = {
      bench: 'handler-scale',
      quick: flags.quick,
      entry: flags.entry,
      bed: flags.node ? 'real node' : 'sandbox',
      handlerStartRssMiB: round(startedRss, 1),
      steps,
      benchCpuPercent: round(benchCpuPercent, 1),
      goals: {
        p99MsAt200: at(200)?.steady.p99Ms ?? null,
        p99GoalMs: 50,
        rssMiBAt500: at(500)?.rssMiB ?? null,
        rssGoalMiB: 150,
      },
      elapsedS: round((Date.now() - t0) / 1000, 1),
      machine: machine(),
    };
    await cleanups.run();
    emit(
      figures,
      `handler-scale: ${steps.map((s) => `${s.vmis} VMIs p99 ${(s.steady as Latency).p99Ms} ms, ${s.rssMiB} MiB`).join('; ')}` +
        ' (goals: p99 ≤ 50 ms at 200 VMIs, RSS ≤ 150 MiB at 500)',
    );
  } catch (err) {
    if (bed) log(`virt-handler's log:\n${bed.handlerLogs()}`);
    await cleanups.run();
    throw err;
  }
}

await main();
process.exit(0);
