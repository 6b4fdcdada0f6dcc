// virt-handler's node heartbeat (pkg/virt-handler/heartbeat) and markNodeAsUnschedulable (cmd/virt-handler):
// strategic-merge patches on the handler's own Node. virt-controller reads `kubevirt.io/schedulable` to place
// VMIs and the `kubevirt.io/heartbeat` annotation to notice a dead handler.
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { k8sTime, withReason, type Logger } from '@kubevirt-ts/shared';

export const NodeSchedulableLabel = 'kubevirt.io/schedulable';
export const VirtHandlerHeartbeatAnnotation = 'kubevirt.io/heartbeat';
export const CPUManagerLabel = 'cpumanager';
export const KSMEnabledLabel = 'kubevirt.io/ksm-enabled';
export const KSMHandlerManagedAnnotation = 'kubevirt.io/ksm-handler-managed';

/** cmd/virt-handler's heartBeatInterval. */
export const HeartBeatInterval = 60_000;
/** wait.JitterUntil's factor: each period is interval × (1 + rand × 1.2). */
export const HeartBeatJitterFactor = 1.2;

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
}

type Patch = { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } };

export class Heartbeat {
  readonly #host: string;
  readonly #logger: Logger;
  readonly #api: CoreV1Api;
  readonly #intervalMs: number;
  readonly #jitterFactor: number;
  readonly #isReady: () => boolean;
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
  }

  /** `kubevirt.io/schedulable=false`, once; KubeVirt does it at start-up and on SIGTERM. Never throws. */
  async markNodeAsUnschedulable(): Promise<void> {
    try {
      await this.#patchNode({ metadata: { labels: { [NodeSchedulableLabel]: 'false' } } });
    } catch (err) {
      withReason(this.#logger, err).error('Unable to mark node as unschedulable');
    }
  }

  /** HeartBeat.Run: beats now, then every interval (with jitter) until stop(). */
  run(): void {
    if (this.#running) return;
    this.#running = true;
    this.#inFlight = this.beat().then(() => this.#schedule());
  }

  /** One heartbeat now (what the loop does): schedulable as isReady() says, and the heartbeat. Never throws. */
  async beat(): Promise<void> {
    const schedulable = this.#isReady() ? 'true' : 'false';
    try {
      await this.#patchNode({
        metadata: {
          labels: { [NodeSchedulableLabel]: schedulable, [CPUManagerLabel]: 'false', [KSMEnabledLabel]: 'false' },
          annotations: { [VirtHandlerHeartbeatAnnotation]: k8sTime(), [KSMHandlerManagedAnnotation]: 'false' },
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
            labels: { [NodeSchedulableLabel]: 'false', [CPUManagerLabel]: 'false' },
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
