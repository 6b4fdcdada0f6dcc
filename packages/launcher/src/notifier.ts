// KubeVirt's notify client (pkg/virt-launcher/notify-client/client.go, the Notifier): domain events and
// k8s events go to virt-handler's Notify service through the pipe socket the handler plants in our
// share dir, after NotifyInfo version negotiation on every (re)connect.
//
// KubeVirt sends each event synchronously and gives up after 20 s. Here events wait in one ordered
// queue instead, so a handler that is away for longer still gets the latest state once it is back:
// - retries run like KubeVirt's poll (every 1 s, 5 s per send) for 20 s, then back off up to a cap
//   and keep going; the connection is dropped and re-dialled on UNAVAILABLE, DEADLINE_EXCEEDED,
//   ABORTED and non-gRPC errors, other gRPC codes fail the event at once (as in KubeVirt);
// - an answer `success=false` with a message is a rejection: retried for 20 s, then the event is
//   dropped (KubeVirt fails it at once; a handler whose informer lags answers "VMI not found");
// - the newest state wins: a queued MODIFIED of a domain is dropped when the next event of the same
//   domain arrives (that one goes to the back of the queue, so nothing is ever sent out of order);
//   ADDED, DELETED, MODIFIED-with-deletionTimestamp (the final deletion) and stopped states (Shutoff,
//   Crashed: they decide the VMI's final phase) are never coalesced away;
// - the queue is bounded; on overflow the oldest k8s event goes first, then the oldest domain event
//   that is not its domain's latest; every drop is logged.
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { isServiceError, notifyClient, status, type NotifyClient, type notifyv1 } from '@kubevirt-ts/proto';
import {
  errorMessage,
  KubeVirtGroupVersion,
  VirtualMachineInstanceKind,
  domainNotifyPipeSocketPath,
  domainNotifySocketPath,
  domainToJSON,
  type Domain,
} from '@kubevirt-ts/shared';

/** k8s watch.EventType values the launcher sends for a domain. */
export type DomainEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** k8s core/v1 EventTypeNormal / EventTypeWarning. */
export type K8sEventType = 'Normal' | 'Warning';

/** What reference.GetReference takes from the VMI. */
export interface VMIReference {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string;
}

/** How a queued event ended. */
export type NotifyResult =
  /** the handler accepted it */
  | 'delivered'
  /** a newer MODIFIED of the same domain replaced it before it was sent */
  | 'superseded'
  /** the queue overflowed */
  | 'dropped'
  /** the handler rejected it for longer than the retry budget, or answered a non-retryable gRPC code */
  | 'failed'
  /** the notifier was closed before it was sent */
  | 'closed';

export interface NotifyRetryOptions {
  /** Pause between attempts while within totalMs (KubeVirt's poll interval). */
  intervalMs: number;
  /** Deadline of one send (KubeVirt's sendTimeout). */
  sendTimeoutMs: number;
  /** KubeVirt gives up here; we switch to doubling pauses, and drop an event still rejected. */
  totalMs: number;
  /** Longest pause between attempts after totalMs. */
  maxIntervalMs: number;
}

export const DEFAULT_NOTIFY_RETRY: Readonly<NotifyRetryOptions> = {
  intervalMs: 1_000,
  sendTimeoutMs: 5_000,
  totalMs: 20_000,
  maxIntervalMs: 5_000,
};

export const DEFAULT_NOTIFY_QUEUE_LENGTH = 128;

export interface NotifierOptions {
  /** The launcher's `--kubevirt-share-dir`. */
  virtShareDir: string;
  logger: Logger;
  retry?: Partial<NotifyRetryOptions>;
  maxQueueLength?: number;
}

interface QueuedEvent {
  rpc: 'HandleDomainEvent' | 'HandleK8sEvent';
  request: notifyv1.DomainEventRequest | notifyv1.K8sEventRequest;
  /** `<namespace>/<name>` of a domain event */
  domainKey?: string;
  /** a MODIFIED that a later MODIFIED of the same domain may replace */
  coalescible: boolean;
  what: string;
  /** When the handler first rejected it (success=false). */
  rejectedSince?: number;
  settle: (result: NotifyResult) => void;
}

type Attempt = { outcome: 'delivered' } | { outcome: 'retry' } | { outcome: 'failed'; reason: string };

/** The k8s Event KubeVirt's SendK8sEvent marshals: the zero-valued keys Go emits, in Go's order. */
export function k8sEventJSON(vmi: VMIReference, type: K8sEventType, reason: string, message: string): string {
  const event = {
    metadata: { creationTimestamp: null },
    involvedObject: {
      kind: VirtualMachineInstanceKind,
      ...(vmi.namespace ? { namespace: vmi.namespace } : {}),
      ...(vmi.name ? { name: vmi.name } : {}),
      ...(vmi.uid ? { uid: vmi.uid } : {}),
      apiVersion: KubeVirtGroupVersion,
      ...(vmi.resourceVersion ? { resourceVersion: vmi.resourceVersion } : {}),
    },
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    source: {},
    firstTimestamp: null,
    lastTimestamp: null,
    type,
    eventTime: null,
    reportingComponent: '',
    reportingInstance: '',
  };
  return JSON.stringify(event);
}

export class Notifier {
  readonly #pipeSocketPath: string;
  readonly #legacySocketPath: string;
  readonly #log: Logger;
  readonly #retry: NotifyRetryOptions;
  readonly #maxQueueLength: number;

  readonly #queue: QueuedEvent[] = [];
  #inFlight: QueuedEvent | undefined;
  #client: NotifyClient | undefined;
  #pumping = false;
  #closed = false;
  /** Wakes the pump from its pause between attempts (close). */
  #wake: (() => void) | undefined;
  /** Start of the current run of failed attempts, and the pause after the last one. */
  #failingSince: number | undefined;
  #pauseMs: number;
  #warnedUnreachable = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(opts: NotifierOptions) {
    this.#pipeSocketPath = domainNotifyPipeSocketPath(opts.virtShareDir);
    this.#legacySocketPath = domainNotifySocketPath(opts.virtShareDir);
    this.#log = opts.logger;
    this.#retry = { ...DEFAULT_NOTIFY_RETRY, ...opts.retry };
    this.#maxQueueLength = opts.maxQueueLength ?? DEFAULT_NOTIFY_QUEUE_LENGTH;
    this.#pauseMs = this.#retry.intervalMs;
  }

  /** Events waiting to be delivered, the one being sent included. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Queues the domain's current state (serialised now, so later changes to `domain` do not leak
   * in). Resolves when the event's fate is known; never rejects, so callers may ignore it.
   */
  sendDomainEvent(eventType: DomainEventType, domain: Domain): Promise<NotifyResult> {
    const meta = domain.ObjectMeta;
    const domainKey = `${meta.namespace ?? ''}/${meta.name ?? ''}`;
    const deletion = eventType === 'DELETED' || (meta.deletionTimestamp ?? null) !== null;
    // how the guest stopped (Shutoff/Shutdown vs Crashed) decides the VMI's final phase: keep it
    const stopped = domain.Status.Status === 'Shutoff' || domain.Status.Status === 'Crashed';
    return this.#enqueue({
      rpc: 'HandleDomainEvent',
      request: { domainJSON: Buffer.from(domainToJSON(domain)), statusJSON: Buffer.alloc(0), eventType },
      domainKey,
      coalescible: eventType === 'MODIFIED' && !deletion && !stopped,
      what: `${eventType}${deletion && eventType !== 'DELETED' ? ' (deleted)' : ''} domain ${domainKey}`,
    });
  }

  /** Queues a k8s Event about the VMI (SendK8sEvent); resolves like sendDomainEvent. */
  sendK8sEvent(vmi: VMIReference, type: K8sEventType, reason: string, message: string): Promise<NotifyResult> {
    return this.#enqueue({
      rpc: 'HandleK8sEvent',
      request: { eventJSON: Buffer.from(k8sEventJSON(vmi, type, reason, message)) },
      coalescible: false,
      what: `${type} k8s event ${reason} for ${vmi.namespace}/${vmi.name}`,
    });
  }

  /** Resolves true once the queue is empty, false if `timeoutMs` passes first or the notifier closes. */
  flush(timeoutMs = Infinity): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (drained: boolean) => {
        this.#idleWaiters.delete(onIdle);
        if (timer) clearTimeout(timer);
        resolve(drained);
      };
      const onIdle = () => done(!this.#closed && this.#queue.length === 0);
      this.#idleWaiters.add(onIdle);
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => done(false), timeoutMs);
    });
  }

  /** Drops the connection; events still queued resolve 'closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disconnect();
    for (const event of this.#queue.splice(0)) {
      if (event !== this.#inFlight) event.settle('closed');
    }
    this.#wake?.();
    this.#notifyIdle();
  }

  #enqueue(event: Omit<QueuedEvent, 'settle'>): Promise<NotifyResult> {
    if (this.#closed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const queued: QueuedEvent = { ...event, settle: resolve };
      if (queued.domainKey !== undefined) this.#coalesce(queued.domainKey);
      this.#queue.push(queued);
      this.#trim();
      void this.#pump();
    });
  }

  /** Removes the domain's newest queued event if it is a plain MODIFIED: the new state supersedes it. */
  #coalesce(domainKey: string): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const queued = this.#queue[i]!;
      if (queued.domainKey !== domainKey) continue;
      if (queued.coalescible && queued !== this.#inFlight) {
        this.#queue.splice(i, 1);
        this.#log.debug(`notify: ${queued.what} superseded by a newer state`);
        queued.settle('superseded');
      }
      return;
    }
  }

  #trim(): void {
    while (this.#queue.length > this.#maxQueueLength) {
      const victim = this.#overflowVictim();
      if (victim === undefined) return;
      const [dropped] = this.#queue.splice(victim, 1);
      this.#log.warn(`notify queue full (${this.#maxQueueLength}): dropping ${dropped!.what}`);
      dropped!.settle('dropped');
    }
  }

  #overflowVictim(): number | undefined {
    const candidates = this.#queue.map((e, i) => ({ e, i })).filter(({ e }) => e !== this.#inFlight);
    const k8s = candidates.find(({ e }) => e.rpc === 'HandleK8sEvent');
    if (k8s) return k8s.i;
    const superseded = candidates.find(({ e, i }) => this.#queue.slice(i + 1).some((later) => later.domainKey === e.domainKey));
    return (superseded ?? candidates[0])?.i;
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#closed && this.#queue.length > 0) {
        const event = this.#queue[0]!;
        this.#inFlight = event;
        const attempt = await this.#attempt(event);
        this.#inFlight = undefined;
        if (this.#closed) {
          event.settle(attempt.outcome === 'delivered' ? 'delivered' : 'closed');
          return;
        }
        if (attempt.outcome === 'retry') {
          await this.#pause();
          continue;
        }
        this.#queue.splice(this.#queue.indexOf(event), 1);
        if (attempt.outcome === 'delivered') {
          this.#recovered();
          event.settle('delivered');
        } else {
          this.#log.error({ reason: attempt.reason }, `notify: giving up on ${event.what}`);
          event.settle('failed');
        }
      }
    } finally {
      this.#pumping = false;
      this.#notifyIdle();
    }
  }

  /** One try of KubeVirt's poll body: connect if needed, send, classify the outcome. */
  async #attempt(event: QueuedEvent): Promise<Attempt> {
    let client: NotifyClient;
    try {
      client = await this.#connect();
    } catch (err) {
      this.#log.error({ reason: err }, 'Failed to connect to notify server');
      return this.#failed();
    }
    let response: notifyv1.Response__Output;
    try {
      const options = { timeoutMs: this.#retry.sendTimeoutMs };
      response =
        event.rpc === 'HandleDomainEvent'
          ? await client.HandleDomainEvent(event.request as notifyv1.DomainEventRequest, options)
          : await client.HandleK8sEvent(event.request as notifyv1.K8sEventRequest, options);
    } catch (err) {
      if (isTransient(err)) {
        this.#log.error({ reason: err }, `failed to notify ${event.what}. closing connection.`);
        this.#disconnect();
        return this.#failed();
      }
      const code = isServiceError(err) ? status[err.code] : 'error';
      return { outcome: 'failed', reason: `failed to notify ${event.what} with ${code}: ${errorMessage(err)}` };
    }
    // A success=false with an empty message counts as success: old servers always set a message.
    if (!response.success && response.message !== '') {
      const now = Date.now();
      event.rejectedSince ??= now;
      if (now - event.rejectedSince >= this.#retry.totalMs) {
        return { outcome: 'failed', reason: `handler rejected ${event.what}: ${response.message}` };
      }
      this.#log.error(`failed to notify ${event.what}: ${response.message}`);
      return this.#failed();
    }
    return { outcome: 'delivered' };
  }

  /** detectSocketPath: the legacy socket when it exists (a VMI from before the pipe), else the pipe. */
  #socketPath(): string {
    return existsSync(this.#legacySocketPath) ? this.#legacySocketPath : this.#pipeSocketPath;
  }

  async #connect(): Promise<NotifyClient> {
    if (this.#client) return this.#client;
    const socketPath = this.#socketPath();
    // Dialling a missing socket would only time out; the handler has not planted it (yet).
    if (!existsSync(socketPath)) throw new Error(`notify socket ${socketPath} does not exist`);
    const client = await notifyClient(socketPath);
    if (this.#closed) {
      client.close();
      throw new Error('notifier closed');
    }
    this.#client = client;
    this.#log.info(`Successfully connected to domain notify socket at ${socketPath}`);
    return client;
  }

  #disconnect(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  /** Counts a failed attempt and picks the next pause. */
  #failed(): Attempt {
    const now = Date.now();
    this.#failingSince ??= now;
    if (now - this.#failingSince < this.#retry.totalMs) {
      this.#pauseMs = this.#retry.intervalMs;
    } else {
      if (!this.#warnedUnreachable) {
        this.#warnedUnreachable = true;
        this.#log.warn(
          `notify server unreachable for ${Math.round((now - this.#failingSince) / 1000)} s, ${this.#queue.length} event(s) queued; retrying every ${this.#retry.maxIntervalMs / 1000} s at most`,
        );
      }
      this.#pauseMs = Math.min(this.#pauseMs * 2, this.#retry.maxIntervalMs);
    }
    return { outcome: 'retry' };
  }

  #recovered(): void {
    if (this.#warnedUnreachable && this.#failingSince !== undefined) {
      this.#log.info(`notify server reachable again after ${Math.round((Date.now() - this.#failingSince) / 1000)} s`);
    }
    this.#failingSince = undefined;
    this.#warnedUnreachable = false;
    this.#pauseMs = this.#retry.intervalMs;
  }

  #pause(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#pauseMs);
      this.#wake = done;
    });
  }

  #notifyIdle(): void {
    if (this.#pumping && !this.#closed) return;
    for (const waiter of [...this.#idleWaiters]) waiter();
  }
}

/** isTransientError: connection trouble worth a reconnect; any non-gRPC error counts. */
function isTransient(err: unknown): boolean {
  if (!isServiceError(err)) return true;
  return err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED || err.code === status.ABORTED;
}
