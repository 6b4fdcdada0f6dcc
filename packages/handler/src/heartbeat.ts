// virt-handler's node heartbeat (pkg/virt-handler/heartbeat) and markNodeAsUnschedulable (cmd/virt-handler):
// strategic-merge patches on the handler's own Node. virt-controller reads `kubevirt.io/schedulable` to place
// VMIs and the `kubevirt.io/heartbeat` annotation to notice a dead handler.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { k8sTime, withReason, type Logger } from '@kubevirt-ts/shared';

export const NodeSchedulableLabel = 'kubevirt.io/schedulable';
export const VirtHandlerHeartbeatAnnotation = 'kubevirt.io/heartbeat';
/** v1.DeprecatedCPUManager */
export const CPUManagerLabel = 'cpumanager';
/** v1.CPUManager */
export const KubeVirtCPUManagerLabel = 'kubevirt.io/cpumanager';

/** cmd/virt-handler's heartBeatInterval. */
export const HeartBeatInterval = 60_000;
/** wait.JitterUntil's factor: each period is interval × (1 + rand × 1.2). */
export const HeartBeatJitterFactor = 1.2;
/** How long the first beats wait for the device plugins (waitForDevicePlugins: every 1 s for up to 10 s). */
export const DevicePluginPollInterval = 1000;
export const DevicePluginWaitTimeout = 10_000;

/**
 * Where the kubelet's CPU manager keeps its state: `<kubelet-root>/cpu_manager_state`, and OpenShift 3's
 * path on the host (NewHeartBeat's cpuManagerPaths, a workaround for kubernetes#66525).
 */
export function cpuManagerPaths(kubeletRoot: string, hostRootMount = '/proc/1/root'): string[] {
  return [
    path.join(kubeletRoot, 'cpu_manager_state'),
    path.join(hostRootMount, 'var/lib/origin/openshift.local.volumes/cpu_manager_state'),
  ];
}

/** isCPUManagerEnabled: the first state file found says policyName "static". */
export function isCPUManagerEnabled(paths: readonly string[], logger: Logger, host: string): boolean {
  const file = paths.find((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
  try {
    if (file === undefined) throw new Error('no cpumanager policy file found');
    const state: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const enabled = typeof state === 'object' && state !== null && (state as Record<string, unknown>)['policyName'] === 'static';
    logger.trace(enabled ? 'Node has CPU Manager running' : 'Node has CPU Manager not runnning');
    return enabled;
  } catch (err) {
    withReason(logger, err).error(`failed to set a cpu manager label on host ${host}`);
    return false;
  }
}

export interface HeartbeatOptions {
  kc: KubeConfig;
  /** The Node's name (--hostname-override). */
  host: string;
  logger: Logger;
  intervalMs?: number;
  jitterFactor?: number;
  /**
   * Whether the node may take VMIs (KubeVirt: the device plugins are initialised); asked on every beat, which
   * labels the node schedulable=true only while it holds.
   */
  isReady?: () => boolean;
  /** The CPUManager feature gate (clusterConfig.CPUManagerEnabled); off: both cpumanager labels false. */
  cpuManagerFeatureEnabled?: () => boolean;
  /** cpuManagerPaths(kubeletRoot) */
  cpuManagerPaths?: readonly string[];
  devicePluginPollMs?: number;
  devicePluginWaitMs?: number;
}

type Patch = { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } };

export class Heartbeat {
  readonly #host: string;
  readonly #logger: Logger;
  readonly #api: CoreV1Api;
  readonly #intervalMs: number;
  readonly #jitterFactor: number;
  readonly #isReady: () => boolean;
  readonly #cpuManagerFeatureEnabled: () => boolean;
  readonly #cpuManagerPaths: readonly string[];
  readonly #devicePluginPollMs: number;
  readonly #devicePluginWaitMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(opts: HeartbeatOptions) {
    this.#host = opts.host;
    this.#logger = opts.logger;
    this.#api = opts.kc.makeApiClient(CoreV1Api);
    this.#intervalMs = opts.intervalMs ?? HeartBeatInterval;
    this.#jitterFactor = opts.jitterFactor ?? HeartBeatJitterFactor;
    this.#isReady = opts.isReady ?? (() => true);
    this.#cpuManagerFeatureEnabled = opts.cpuManagerFeatureEnabled ?? (() => false);
    this.#cpuManagerPaths = opts.cpuManagerPaths ?? [];
    this.#devicePluginPollMs = opts.devicePluginPollMs ?? DevicePluginPollInterval;
    this.#devicePluginWaitMs = opts.devicePluginWaitMs ?? DevicePluginWaitTimeout;
  }

  #cpuManagerLabels(): Record<string, string> {
    const enabled = String(this.#cpuManagerFeatureEnabled() && isCPUManagerEnabled(this.#cpuManagerPaths, this.#logger, this.#host));
    return { [CPUManagerLabel]: enabled, [KubeVirtCPUManagerLabel]: enabled };
  }

  /** `kubevirt.io/schedulable=false`, once; KubeVirt does it at start-up and on SIGTERM. Never throws. */
  async markNodeAsUnschedulable(): Promise<void> {
    try {
      await this.#patchNode({ metadata: { labels: { [NodeSchedulableLabel]: 'false' } } });
    } catch (err) {
      withReason(this.#logger, err).error('Unable to mark node as unschedulable');
    }
  }

  /**
   * HeartBeat.Run: beats now; gives the device plugins up to 10 s to register and beats as soon as they are
   * (so the node turns schedulable without waiting a whole interval); then every interval (with jitter) until stop().
   */
  run(): void {
    if (this.#running) return;
    this.#running = true;
    this.#inFlight = this.beat()
      .then(() => this.#waitForDevicePlugins())
      .then(() => (this.#running ? this.beat() : undefined))
      .then(() => this.#schedule());
  }

  async #waitForDevicePlugins(): Promise<void> {
    const deadline = Date.now() + this.#devicePluginWaitMs;
    while (this.#running && !this.#isReady() && Date.now() < deadline) await sleep(this.#devicePluginPollMs);
  }

  /** One heartbeat now (what the loop does): schedulable as isReady() says, and the heartbeat. Never throws. */
  async beat(): Promise<void> {
    const schedulable = this.#isReady() ? 'true' : 'false';
    try {
      await this.#patchNode({
        metadata: {
          labels: { [NodeSchedulableLabel]: schedulable, ...this.#cpuManagerLabels() },
          annotations: { [VirtHandlerHeartbeatAnnotation]: k8sTime() },
        },
      });
      this.#logger.debug({ schedulable }, 'Heartbeat sent');
    } catch (err) {
      withReason(this.#logger, err).error(`Can't patch node ${this.#host}`);
    }
  }

  /** Ends the loop and labels the node unschedulable (labelNodeUnschedulable, with retry.DefaultBackoff). */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#inFlight;
    // retry.DefaultBackoff: 4 tries, 10 ms × 5ⁿ with 10 % jitter.
    let delay = 10;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#patchNode({
          metadata: {
            labels: { [NodeSchedulableLabel]: 'false', ...this.#cpuManagerLabels() },
            annotations: { [VirtHandlerHeartbeatAnnotation]: k8sTime() },
          },
        });
        return;
      } catch (err) {
        withReason(this.#logger, err).error(`Can't patch node ${this.#host}`);
        if (attempt >= 4) break;
        await sleep(delay * (1 + Math.random() * 0.1));
        delay *= 5;
      }
    }
    this.#logger.warn(`Failed to set node ${this.#host} unschedulable`);
  }

  // wait.JitterUntil with sliding=true: the next period starts after the beat has finished.
  #schedule(): void {
    if (!this.#running) return;
    const delay = this.#intervalMs * (1 + Math.random() * this.#jitterFactor);
    this.#timer = setTimeout(() => {
      this.#inFlight = this.beat().then(() => this.#schedule());
    }, delay);
    // The handler's servers keep the process alive, not its heartbeat.
    this.#timer.unref();
  }

  #patchNode(body: Patch) {
    return this.#api.patchNode({ name: this.#host, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
  }
}
