// An EventRecorder as client-go's tools/record gives KubeVirt (record.NewBroadcaster + StartRecordingToSink):
// core/v1 Events with source {component, host}, written asynchronously from a bounded queue, correlated the way
// client-go's EventCorrelator does it: a repeat of the same event PATCHes count/lastTimestamp/message of the one
// already written, ten different messages for the same object/type/reason within ten minutes are combined, and
// a per-object token bucket drops floods. Recording never throws to the caller; failures are logged.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1ObjectReference,
} from '@kubernetes/client-node';
import { k8sTime, withReason, type Logger } from '@kubevirt-ts/shared';

export const EventTypeNormal = 'Normal';
export const EventTypeWarning = 'Warning';
export type EventType = typeof EventTypeNormal | typeof EventTypeWarning;

/** What an event is about: any API object (a VMI from the informer, a Node, …). */
export interface EventSubject {
  kind?: string | undefined;
  apiVersion?: string | undefined;
  metadata?:
    | {
        name?: string | undefined;
        namespace?: string | undefined;
        uid?: string | undefined;
        resourceVersion?: string | undefined;
      }
    | undefined;
}

export interface EventRecorderOptions {
  kc: KubeConfig;
  /** EventSource.Host: the node name. */
  host: string;
  component?: string;
  logger: Logger;
  /** watch.NewLongQueueBroadcaster's queue length; events beyond it are dropped (logged). */
  maxQueuedEvents?: number;
  /** recordToSink's maxTriesPerEvent and the sleep between tries (the first one randomised). */
  maxTries?: number;
  retryDelayMs?: number;
}

// client-go's EventCorrelator defaults
const maxLruCacheEntries = 4096;
const aggregateMaxEvents = 10;
const aggregateIntervalMs = 600_000;
const spamBurst = 25;
const spamQPS = 1 / 300;

class LRU<V> {
  readonly #max: number;
  readonly #entries = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }
}

interface Observation {
  name: string;
  count: number;
  firstTimestamp: Date;
  resourceVersion: string;
}

interface QueuedEvent {
  ref: V1ObjectReference;
  namespace: string;
  type: EventType;
  reason: string;
  message: string;
  at: Date;
}

/** metav1.Time keeps whole seconds. */
const wholeSeconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

let nameSequence = 0n;
/** `<object name>.<UnixNano as hex>`; the sequence keeps names unique within a millisecond. */
function eventName(objectName: string, at: Date): string {
  nameSequence = (nameSequence + 1n) % 1_000_000n;
  return `${objectName}.${(BigInt(at.getTime()) * 1_000_000n + nameSequence).toString(16)}`;
}

export class EventRecorder {
  readonly #logger: Logger;
  readonly #component: string;
  readonly #host: string;
  readonly #maxQueued: number;
  readonly #maxTries: number;
  readonly #retryDelayMs: number;
  readonly #api: CoreV1Api;
  readonly #queue: QueuedEvent[] = [];
  #draining: Promise<void> | undefined;
  #stopped = false;
  readonly #aggregates = new LRU<{ messages: Set<string>; last: number }>(maxLruCacheEntries);
  readonly #observations = new LRU<Observation>(maxLruCacheEntries);
  readonly #buckets = new LRU<{ tokens: number; at: number }>(maxLruCacheEntries);

  constructor(opts: EventRecorderOptions) {
    this.#logger = opts.logger;
    this.#component = opts.component ?? 'virt-handler';
    this.#host = opts.host;
    this.#maxQueued = opts.maxQueuedEvents ?? 1000;
    this.#maxTries = opts.maxTries ?? 12;
    this.#retryDelayMs = opts.retryDelayMs ?? 10_000;
    this.#api = opts.kc.makeApiClient(CoreV1Api);
  }

  /** Queues an event about `obj`; returns at once and never throws. */
  event(obj: EventSubject, type: EventType, reason: string, message: string): void {
    if (this.#stopped) return;
    const meta = obj.metadata ?? {};
    if (!obj.kind || !obj.apiVersion || !meta.name) {
      this.#logger.error(
        { eventType: type, eventReason: reason },
        `Could not construct reference to ${obj.kind ?? 'an object'} ${meta.name ?? ''}: kind, apiVersion and name are required. Will not report event`,
      );
      return;
    }
    if (type !== EventTypeNormal && type !== EventTypeWarning) {
      this.#logger.error(`Unsupported event type: '${String(type)}'`);
      return;
    }
    if (this.#queue.length >= this.#maxQueued) {
      this.#logger.error(
        { eventReason: reason },
        `Unable to record event: too many queued events, dropped event about ${obj.kind} ${meta.name}`,
      );
      return;
    }
    const ref: V1ObjectReference = { kind: obj.kind, apiVersion: obj.apiVersion, name: meta.name };
    if (meta.namespace) ref.namespace = meta.namespace;
    if (meta.uid) ref.uid = meta.uid;
    if (meta.resourceVersion) ref.resourceVersion = meta.resourceVersion;
    this.#queue.push({ ref, namespace: meta.namespace || 'default', type, reason, message, at: new Date() });
    this.#kick();
  }

  /** Resolves once every queued event has been written (or given up on). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Drops what is queued and accepts nothing more. */
  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
  }

  // One writer, in order, as client-go's broadcaster watcher goroutine.
  #kick(): void {
    if (this.#draining || this.#stopped) return;
    this.#draining = (async () => {
      try {
        for (let next = this.#queue.shift(); next && !this.#stopped; next = this.#queue.shift()) {
          try {
            await this.#write(next);
          } catch (err) {
            withReason(this.#logger, err).error('event recording failed');
          }
        }
      } finally {
        this.#draining = undefined;
        // An event queued while the loop was finishing.
        if (this.#queue.length > 0) this.#kick();
      }
    })();
  }

  #objectKey(ref: V1ObjectReference): string {
    return [this.#component, this.#host, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion].join('\u0000');
  }

  #spamFilterAccepts(ref: V1ObjectReference, now: number): boolean {
    const key = this.#objectKey(ref);
    const bucket = this.#buckets.get(key) ?? { tokens: spamBurst, at: now };
    bucket.tokens = Math.min(spamBurst, bucket.tokens + ((now - bucket.at) / 1000) * spamQPS);
    bucket.at = now;
    const accepted = bucket.tokens >= 1;
    if (accepted) bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    return accepted;
  }

  /** EventCorrelator.EventCorrelate, then recordToSink's tries. */
  async #write(e: QueuedEvent): Promise<void> {
    const now = e.at.getTime();
    // EventAggregator: similar events (same object, type, reason) with many different messages become one.
    const aggregateKey = [this.#objectKey(e.ref), e.type, e.reason].join('\u0000');
    let aggregate = this.#aggregates.get(aggregateKey);
    if (!aggregate || now - aggregate.last > aggregateIntervalMs) aggregate = { messages: new Set(), last: now };
    aggregate.messages.add(e.message);
    aggregate.last = now;
    this.#aggregates.set(aggregateKey, aggregate);
    let key = `${aggregateKey}\u0000${e.message}`;
    let message = e.message;
    if (aggregate.messages.size >= aggregateMaxEvents) {
      aggregate.messages.delete(aggregate.messages.values().next().value as string);
      key = aggregateKey;
      message = `(combined from similar events): ${e.message}`;
    }

    // eventLogger: a repeat of an event already written is a patch of that event.
    const last = this.#observations.get(key);
    const at = wholeSeconds(e.at);
    const observation: Observation = last
      ? { ...last, count: last.count + 1 }
      : { name: eventName(e.ref.name ?? '', e.at), count: 1, firstTimestamp: at, resourceVersion: '' };
    this.#observations.set(key, observation);

    if (!this.#spamFilterAccepts(e.ref, now)) {
      this.#logger.debug({ eventReason: e.reason }, `dropping event about ${e.ref.kind} ${e.namespace}/${e.ref.name}: too many events`);
      return;
    }

    const event: CoreV1Event = {
      metadata: { name: observation.name, namespace: e.namespace },
      involvedObject: e.ref,
      reason: e.reason,
      message,
      type: e.type,
      source: { component: this.#component, host: this.#host },
      firstTimestamp: observation.firstTimestamp,
      lastTimestamp: at,
      count: observation.count,
      reportingComponent: this.#component,
      reportingInstance: this.#host,
    };

    for (let tries = 1; ; tries++) {
      if (await this.#recordEvent(event, observation.count > 1, key)) return;
      if (tries >= this.#maxTries) {
        this.#logger.error(`Unable to write event '${e.reason}' about ${e.ref.kind} ${e.namespace}/${e.ref.name} (retry limit exceeded!)`);
        return;
      }
      if (this.#stopped) return;
      // The first sleep randomised, so that handlers do not all retry at once when the apiserver comes back.
      await sleep(tries === 1 ? this.#retryDelayMs * Math.random() : this.#retryDelayMs);
    }
  }

  /** client-go's recordEvent: true when written or not worth retrying. */
  async #recordEvent(event: CoreV1Event, update: boolean, key: string): Promise<boolean> {
    const name = event.metadata.name ?? '';
    const namespace = event.metadata.namespace ?? '';
    let written: CoreV1Event | undefined;
    let error: unknown;
    if (update) {
      try {
        written = await this.#api.patchNamespacedEvent(
          { name, namespace, body: { count: event.count, lastTimestamp: k8sTime(event.lastTimestamp), message: event.message } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
        );
      } catch (err) {
        error = err;
      }
    }
    // A patch fails with 404 once the event has expired (the apiserver's event TTL): write it anew.
    if (!update || (error instanceof ApiException && error.code === 404)) {
      error = undefined;
      try {
        written = await this.#api.createNamespacedEvent({ namespace, body: event });
      } catch (err) {
        error = err;
      }
    }
    if (written) {
      const seen = this.#observations.get(key);
      if (seen && seen.name === written.metadata.name) {
        seen.resourceVersion = written.metadata.resourceVersion ?? '';
        seen.count = Math.max(seen.count, written.count ?? 0);
      }
      return true;
    }
    const about = `about ${event.involvedObject.kind} ${namespace}/${event.involvedObject.name}`;
    if (error instanceof ApiException) {
      // The apiserver rejected it: retrying will not help.
      if (error.code === 409) this.#logger.debug(`Server rejected event '${event.reason}' ${about}: already exists`);
      else withReason(this.#logger, error).error(`Server rejected event '${event.reason}' ${about} (will not retry!)`);
      return true;
    }
    withReason(this.#logger, error).error(`Unable to write event '${event.reason}' ${about} (may retry after sleeping)`);
    return false;
  }
}
