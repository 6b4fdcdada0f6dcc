// KubeVirt's DomainWatcher (pkg/virt-handler/cache) and notify server (pkg/virt-handler/notify-server):
// the handler's cache of every launcher's domain, fed by the launchers' notify events, by listing the
// ghost-recorded launchers at start and on every resync, and by the watchdog that turns a launcher
// that stopped answering into a deleted domain.
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import { connectionInjector, createNotifyServer, listenUnix, stopServer, type Server } from '@kubevirt-ts/proto';
import { errorMessage, k8sTime, newDomain, parseDomain, parseWith, withReason, type Domain, type Logger } from '@kubevirt-ts/shared';
import * as z from 'zod/mini';
import type { LauncherClients } from './launcher-clients.ts';

export interface DomainWatcherEvents {
  /** A domain appeared or changed (key `namespace/name`). */
  update: [key: string, domain: Domain];
  /** The domain is gone (deletionTimestamp, DELETED, or its launcher stopped answering). */
  delete: [key: string, domain: Domain];
}

/** What a launcher sends in HandleK8sEvent (a core/v1 Event; we read what the recorder needs). */
const k8sEventSchema = z.looseObject({
  type: z.string().check(z.minLength(1)),
  reason: z.string().check(z.minLength(1)),
  message: z._default(z.string(), ''),
  involvedObject: z.looseObject({
    kind: z.optional(z.string()),
    name: z.string().check(z.minLength(1)),
    namespace: z.string().check(z.minLength(1)),
    uid: z.string().check(z.minLength(1)),
  }),
});
export type K8sEvent = z.infer<typeof k8sEventSchema>;

/** The metav1.Status an ERROR domain event carries in statusJSON (the fields worth logging). */
const statusSchema = z.looseObject({ message: z.optional(z.string()), reason: z.optional(z.string()) });

export interface DomainWatcherOptions {
  logger: Logger;
  notifySocket: string;
  launchers: LauncherClients;
  /** Launchers silent for this long are taken for dead (`--watchdog-timeout`). */
  watchdogTimeoutMs: number;
  /** `--domain-resync-period-seconds`. */
  resyncPeriodMs: number;
  /** Records a launcher's k8s Event on its VMI; throws (an in-band error) when that VMI is unknown. */
  recordK8sEvent(event: K8sEvent): void;
}

/** Longest pause between two liveness dials of one watchdog round. */
const STALE_SOCKET_DIAL_SPACING_MS = 20;

const keyOf = (d: Domain) => `${d.ObjectMeta.namespace}/${d.ObjectMeta.name}`;

export class DomainWatcher extends EventEmitter<DomainWatcherEvents> {
  readonly #o: DomainWatcherOptions;
  readonly #domains = new Map<string, Domain>();
  /** Socket → when it first failed a ping. */
  readonly #unresponsiveSince = new Map<string, number>();
  #server: Server | undefined;
  #injector: ReturnType<typeof connectionInjector> | undefined;
  #timers: NodeJS.Timeout[] = [];
  /** A watchdog round is running: the next tick leaves it alone. */
  #checking = false;

  constructor(opts: DomainWatcherOptions) {
    super();
    this.#o = opts;
  }

  get(key: string): Domain | undefined {
    return this.#domains.get(key);
  }

  list(): Domain[] {
    return [...this.#domains.values()];
  }

  /** domainStore.Delete: a domain that is not this node's (a failed migration's target) is forgotten. */
  delete(key: string): void {
    const domain = this.#domains.get(key);
    if (domain) this.#gone(domain);
  }

  /** Serves the notify socket, lists the known launchers' domains, then starts the watchdog and resync. */
  async start(): Promise<void> {
    this.#server = createNotifyServer({
      HandleDomainEvent: (req) =>
        req.eventType === 'ERROR' ? this.#handleErrorEvent(req.statusJSON) : this.#handleDomainEvent(req.eventType, req.domainJSON),
      HandleK8sEvent: (req) => this.#handleK8sEvent(req.eventJSON),
    });
    this.#injector = connectionInjector(this.#server);
    await listenUnix(this.#server, this.#o.notifySocket, { mode: 0o700 });
    await this.resync();
    const watchdogTick = Math.min(10_000, Math.max(250, this.#o.watchdogTimeoutMs / 3));
    this.#timers.push(setInterval(() => void this.#handleStaleSockets(watchdogTick), watchdogTick));
    this.#timers.push(setInterval(() => void this.resync(), this.#o.resyncPeriodMs));
  }

  /** A connection a launcher made to its notify pipe: served as one to the notify socket. */
  serveNotifyConnection(connection: Duplex): void {
    if (this.#injector) this.#injector.injectConnection(connection);
    else connection.destroy(); // not serving (yet, or any more): the launcher's notifier retries
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#injector = undefined;
    if (this.#server) await stopServer(this.#server);
  }

  /** listAllKnownDomains: GetDomain from every ghost-recorded launcher. */
  async resync(): Promise<void> {
    await Promise.all(
      this.#o.launchers.ghostRecords().map(async (record) => {
        if (this.#o.launchers.isUnresponsive(record.socketFile)) return;
        try {
          const client = await this.#o.launchers.client(record.uid);
          const res = await client.GetDomain({});
          if (!res.response?.success) throw new Error(res.response?.message || 'GetDomain failed');
          if (res.domain) this.#apply('MODIFIED', parseDomain(res.domain));
          else this.#gone(newDomain(record));
        } catch (err) {
          this.#o.launchers.resetClient(record.uid);
          withReason(this.#o.logger, err).warn(`resync: launcher of ${record.namespace}/${record.name} did not answer`);
        }
      }),
    );
  }

  #handleDomainEvent(eventType: string, domainJSON: Buffer) {
    let domain: Domain;
    try {
      domain = parseDomain(domainJSON);
    } catch (err) {
      const message = `Failed to unmarshal domain json object: ${errorMessage(err)}`;
      this.#o.logger.error({ reason: message }, 'rejected a domain event');
      return { success: false, message };
    }
    if (eventType !== 'ADDED' && eventType !== 'MODIFIED' && eventType !== 'DELETED') {
      const message = `unknown domain event type ${JSON.stringify(eventType.slice(0, 64))}`;
      this.#o.logger.error({ reason: message }, 'rejected a domain event');
      return { success: false, message };
    }
    this.#o.logger.debug(
      { name: domain.ObjectMeta.name, namespace: domain.ObjectMeta.namespace },
      `Received Domain Event of type ${eventType}`,
    );
    this.#apply(eventType, domain);
    return { success: true, message: '' };
  }

  /** KubeVirt's watch.Error: a metav1.Status from the launcher, logged; no domain changes. */
  #handleErrorEvent(statusJSON: Buffer) {
    let status: z.infer<typeof statusSchema> = {};
    try {
      if (statusJSON.length > 0) status = parseWith(statusSchema, statusJSON, 'status');
    } catch (err) {
      const message = `Failed to unmarshal status json object: ${errorMessage(err)}`;
      this.#o.logger.error({ reason: message }, 'rejected a domain event');
      return { success: false, message };
    }
    this.#o.logger.error({ reason: status.reason }, `Domain error event with message: ${status.message ?? ''}`);
    return { success: true, message: '' };
  }

  #handleK8sEvent(eventJSON: Buffer) {
    let event: K8sEvent;
    try {
      event = parseWith(k8sEventSchema, eventJSON, 'k8s event');
    } catch (err) {
      const message = `Failed to unmarshal k8s event json object: ${errorMessage(err)}`;
      this.#o.logger.error({ reason: message }, 'rejected a k8s event');
      return { success: false, message };
    }
    try {
      this.#o.recordK8sEvent(event);
      return { success: true, message: '' };
    } catch (err) {
      const message = errorMessage(err);
      this.#o.logger.warn(
        { name: event.involvedObject.name, namespace: event.involvedObject.namespace, uid: event.involvedObject.uid, reason: message },
        'k8s event not recorded',
      );
      return { success: false, message };
    }
  }

  #apply(eventType: 'ADDED' | 'MODIFIED' | 'DELETED', domain: Domain): void {
    // KubeVirt signals a deleted domain with a deletionTimestamp rather than a DELETED event
    if (eventType === 'DELETED' || domain.ObjectMeta.deletionTimestamp) {
      this.#gone(domain);
      return;
    }
    const key = keyOf(domain);
    this.#domains.set(key, domain);
    this.emit('update', key, domain);
  }

  #gone(domain: Domain): void {
    const key = keyOf(domain);
    const had = this.#domains.delete(key);
    if (had || domain.ObjectMeta.deletionTimestamp) this.emit('delete', key, domain);
  }

  /**
   * handleStaleSocketConnections: a launcher whose socket accepts no connection for longer than the
   * watchdog timeout is marked unresponsive and its domain reported deleted (a dial, as KubeVirt: cheap
   * enough for every launcher on the node at every tick).
   */
  async #handleStaleSockets(tickMs: number): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    const now = Date.now();
    const records = this.#o.launchers.ghostRecords();
    // KubeVirt dials one socket after the other from a goroutine of its own; here every dial shares the
    // event loop, so the round is spread over at most half a tick (500 dials at once held up domain
    // events for ~100 ms, and every launcher's answer with them).
    const spacing = Math.min(STALE_SOCKET_DIAL_SPACING_MS, tickMs / 2 / Math.max(1, records.length));
    const alive = await Promise.all(
      records.map(async (record, i) => {
        if (i > 0) await sleep(i * spacing, undefined, { ref: false });
        if (!this.#injector) return true; // stopped meanwhile
        return !this.#o.launchers.isUnresponsive(record.socketFile) && (await this.#o.launchers.isAlive(record.socketFile));
      }),
    ).finally(() => (this.#checking = false));
    if (!this.#injector) return;
    for (const [i, record] of records.entries()) {
      if (alive[i]) {
        this.#unresponsiveSince.delete(record.socketFile);
        continue;
      }
      const since = this.#unresponsiveSince.get(record.socketFile) ?? now;
      this.#unresponsiveSince.set(record.socketFile, since);
      if (now - since < this.#o.watchdogTimeoutMs) continue;
      const key = `${record.namespace}/${record.name}`;
      if (!this.#domains.has(key)) continue;
      this.#o.logger.warn(
        { name: record.name, namespace: record.namespace, uid: record.uid },
        `launcher socket ${record.socketFile} unresponsive for ${Math.round((now - since) / 1000)}s: domain considered gone`,
      );
      this.#o.launchers.markUnresponsive(record.socketFile);
      const domain = this.#domains.get(key) ?? newDomain(record);
      this.#gone({ ...domain, ObjectMeta: { ...domain.ObjectMeta, deletionTimestamp: k8sTime() } });
    }
  }
}
