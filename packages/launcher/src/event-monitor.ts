// KubeVirt's domain notifier loop (notify-client StartDomainNotifier + eventCallback): every libvirt
// event and every guest-agent update becomes the domain's current state, sent to the handler in order.
import { EventEmitter, once } from 'node:events';
import type { Logger } from 'pino';
import type { Connection, Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { k8sTime, type Domain } from '@kubevirt-ts/shared';
import type { DomainManager } from './domain-manager.ts';
import type { Notifier } from './notifier.ts';
import type { AgentPoller } from './agent-poller.ts';

export interface DomainEventMonitorOptions {
  conn: Connection;
  domainManager: DomainManager;
  notifier: Notifier;
  agentPoller: AgentPoller;
  logger: Logger;
}

export interface DomainEventMonitorEvents {
  /** The first ADDED event: the domain exists (waitForDomainUUID). */
  added: [Domain];
  /** A stopped state (Shutoff or Crashed) was handed to the notifier. */
  stopped: [Domain];
  /** The first deletion: the domain is gone (waitForFinalNotify). */
  deleted: [Domain];
}

type LibvirtLifecycle = { event: string; detail: string };

export class DomainEventMonitor extends EventEmitter<DomainEventMonitorEvents> {
  readonly #o: DomainEventMonitorOptions;
  /** Events are handled one at a time, in arrival order. */
  #queue: Promise<void> = Promise.resolve();
  /** The queued callback that has not started yet. */
  #waiting: { domain: VirDomain; added: boolean } | undefined;
  /** The domain the newest libvirt event named. */
  #domain: VirDomain | undefined;
  #sentAdded = false;
  #sentDeleted = false;
  #lastSent: Domain | undefined;

  constructor(opts: DomainEventMonitorOptions) {
    super();
    this.#o = opts;
  }

  start(): void {
    const { conn, agentPoller, logger } = this.#o;
    conn.on('lifecycle', (e) => {
      logger.info(`DomainLifecycle event ${e.event} with detail ${e.detail} received`);
      this.#enqueue(e.domain, { event: e.event, detail: e.detail });
      // only a target sees these after a migration: it ended once libvirt's incoming job is over
      if ((e.event === 'RESUMED' && e.detail === 'MIGRATED') || (e.event === 'SUSPENDED' && e.detail === 'PAUSED')) {
        this.#o.domainManager.incomingMigrationSettled(e.domain);
      }
    });
    conn.on('deviceAdded', (e) => this.#enqueue(e.domain));
    conn.on('deviceRemoved', (e) => this.#enqueue(e.domain));
    // the guest plugged or unplugged virtio-mem memory: <currentMemory> changed
    conn.on('memoryDeviceSizeChange', (e) => {
      logger.info('Domain Memory Device size-change event received');
      this.#enqueue(e.domain);
    });
    conn.on('reboot', (e) => this.#enqueue(e.domain));
    conn.on('agentLifecycle', (e) => {
      logger.info(`GuestAgentLifecycle event state ${e.state} with reason ${e.reason} received`);
      this.#enqueue(e.domain);
      if (e.state === 'CONNECTED') agentPoller.start(e.domain.name);
      else agentPoller.stop();
    });
    // A reconnected libvirt may have missed events: report the current state.
    conn.on('reconnect', () => {
      logger.info('libvirt connection re-established');
      if (this.#domain) this.#enqueue(this.#domain);
    });
    agentPoller.onUpdate(() => {
      if (this.#domain) this.#enqueue(this.#domain);
    });
    // metadata changed at run time (access credentials): only after a libvirt event named the domain
    this.#o.domainManager.onMetadataChange(() => {
      if (this.#domain) this.#enqueue(this.#domain);
    });
    // a CD-ROM's medium changed: no libvirt event tells of it
    this.#o.domainManager.onMediaChange(() => {
      if (this.#domain) this.#enqueue(this.#domain);
    });
  }

  #enqueue(domain: VirDomain, lifecycle?: LibvirtLifecycle): void {
    this.#domain = domain;
    const added =
      (lifecycle?.event === 'DEFINED' && lifecycle.detail === 'ADDED') ||
      (lifecycle?.event === 'STARTED' && lifecycle.detail === 'MIGRATED');
    // Each callback reports the domain as it is when it runs, so events arriving while one is waiting
    // add nothing but their ADDED: a domain start fires four or five, and each fetch and parse of the
    // XML competes with QEMU's start for the CPU.
    const waiting = this.#waiting;
    if (waiting?.domain.name === domain.name) {
      waiting.domain = domain;
      waiting.added ||= added;
      return;
    }
    const job = { domain, added };
    this.#waiting = job;
    this.#queue = this.#queue
      .then(() => {
        if (this.#waiting === job) this.#waiting = undefined;
        return this.#callback(job.domain, job.added);
      })
      .catch((err: unknown) => this.#o.logger.error({ reason: err }, 'Could not send domain notify event.'));
  }

  async #callback(dom: VirDomain, added: boolean): Promise<void> {
    const { domainManager, notifier, logger } = this.#o;
    const domain = await domainManager.domainObject(dom);
    logger.info(`kubevirt domain status: ${domain.Status.Status}:${domain.Status.Reason}`);

    if (domain.Status.Reason === 'NonExistent') {
      domain.ObjectMeta.deletionTimestamp = k8sTime();
      void notifier.sendDomainEvent('MODIFIED', domain);
      // libvirt sends no agent-disconnect when a domain goes away
      this.#o.agentPoller.stop();
      if (!this.#sentDeleted) {
        this.#sentDeleted = true;
        this.emit('deleted', domain);
      }
      return;
    }
    if (added) {
      void notifier.sendDomainEvent('ADDED', domain);
      if (!this.#sentAdded) {
        this.#sentAdded = true;
        this.emit('added', domain);
      }
    }
    void notifier.sendDomainEvent('MODIFIED', domain);
    this.#lastSent = domain;
    if (isStopped(domain)) this.emit('stopped', domain);
  }

  /**
   * Resolves true once the newest state sent is a stopped one (Shutoff, Crashed), false after
   * `timeoutMs`. Only meaningful once QEMU is gone: a domain just defined is Shutoff too.
   */
  async waitForStopped(timeoutMs: number): Promise<boolean> {
    if (this.#lastSent && isStopped(this.#lastSent)) return true;
    const signal = AbortSignal.timeout(timeoutMs);
    return once(this, 'stopped', { signal }).then(
      () => true,
      () => false,
    );
  }

  /** Resolves once every event received so far has been handed to the notifier. */
  drain(): Promise<void> {
    return this.#queue;
  }
}

const isStopped = (domain: Domain) => domain.Status.Status === 'Shutoff' || domain.Status.Status === 'Crashed';
