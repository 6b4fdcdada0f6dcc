// KubeVirt's AgentPoller (virtwrap/agent-poller/agent_poller.go, the guest-agent-command version):
// while the guest agent is connected, groups of agent commands run on their own periods through
// libvirt's qemuAgentCommand, and each parsed reply goes into the AsyncAgentStore. A command that
// fails is skipped until its next round; a reply that does not parse is logged and ignored.
import type { Logger } from 'pino';
import { DomainQemuAgentCommandTimeout, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { AgentCommand, agentParsers, type AgentData } from './agent/parser.ts';
import { AsyncAgentStore, type AgentUpdateListener } from './agent/store.ts';

/** Periods of the command groups, in milliseconds. */
export interface AgentPollIntervals {
  /** interfaces, OS info, timezone, hostname (`--qemu-agent-sys-interval`) */
  sysMs: number;
  /** filesystems (`--qemu-agent-file-interval`) */
  fileMs: number;
  /** users (`--qemu-agent-user-interval`) */
  userMs: number;
  /** agent version and commands (`--qemu-agent-version-interval`) */
  versionMs: number;
  /** fsfreeze status (`--qemu-fsfreeze-status-interval`) */
  fsFreezeStatusMs: number;
  /**
   * A group starts at this period (or its own, if shorter) and doubles it every round up to its own
   * period, so a freshly booted guest is seen soon (pollInitialInterval).
   */
  initialMs: number;
}

/** virt-launcher's flag defaults, and agent_poller.go's pollInitialInterval. */
export const DEFAULT_AGENT_POLL_INTERVALS: Readonly<AgentPollIntervals> = {
  sysMs: 120_000,
  fileMs: 300_000,
  userMs: 10_000,
  versionMs: 300_000,
  fsFreezeStatusMs: 5_000,
  initialMs: 10_000,
};

/** PollerWorker: commands run one after another, every `periodMs`. */
interface PollerWorker {
  commands: readonly AgentCommand[];
  periodMs: number;
}

export interface AgentPollerOptions {
  conn: Connection;
  /** Shared with the DomainManager; a new one when absent. */
  store?: AsyncAgentStore;
  logger: Logger;
  intervals?: Partial<AgentPollIntervals>;
}

/** One run of the workers, from start() to stop(). */
interface Run {
  domainName: string;
  timers: Set<NodeJS.Timeout>;
  stopped: boolean;
}

export class AgentPoller {
  readonly #conn: Connection;
  readonly #store: AsyncAgentStore;
  readonly #log: Logger;
  readonly #initialMs: number;
  readonly #workers: readonly PollerWorker[];
  #run: Run | undefined;

  constructor(opts: AgentPollerOptions) {
    const i = { ...DEFAULT_AGENT_POLL_INTERVALS, ...opts.intervals };
    this.#conn = opts.conn;
    this.#store = opts.store ?? new AsyncAgentStore();
    this.#log = opts.logger;
    this.#initialMs = i.initialMs;
    // CreatePoller's groups, in its order.
    this.#workers = [
      { commands: [AgentCommand.GET_AGENT], periodMs: i.versionMs },
      {
        commands: [AgentCommand.GET_INTERFACES, AgentCommand.GET_OSINFO, AgentCommand.GET_TIMEZONE, AgentCommand.GET_HOSTNAME],
        periodMs: i.sysMs,
      },
      { commands: [AgentCommand.GET_FILESYSTEM], periodMs: i.fileMs },
      { commands: [AgentCommand.GET_USERS], periodMs: i.userMs },
      { commands: [AgentCommand.GET_FSFREEZE_STATUS], periodMs: i.fsFreezeStatusMs },
    ];
  }

  /** Where the replies go: what GetGuestInfo, GetUsers, GetFilesystems and GetDomain read. */
  get store(): AsyncAgentStore {
    return this.#store;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  /** Listens to the store's updates (each is a reason to send the domain again). */
  onUpdate(listener: AgentUpdateListener): () => void {
    return this.#store.onUpdate(listener);
  }

  /**
   * The agent connected: every group runs at once, then on its period. A poller already running
   * keeps running (KubeVirt's Start is idempotent).
   */
  start(domain: string | VirDomain): void {
    if (this.#run) return;
    const run: Run = { domainName: typeof domain === 'string' ? domain : domain.name, timers: new Set(), stopped: false };
    this.#run = run;
    this.#store.setConnected(true);
    for (const worker of this.#workers) {
      this.#log.info(`Starting agent poller with commands: [${worker.commands.join(' ')}]`);
      void this.#poll(run, worker);
    }
  }

  /** The agent disconnected: no more rounds; what the store holds stays. */
  stop(): void {
    const run = this.#run;
    if (!run) return;
    run.stopped = true;
    for (const timer of run.timers) clearTimeout(timer);
    run.timers.clear();
    this.#run = undefined;
    this.#store.setConnected(false);
  }

  async #poll(run: Run, worker: PollerWorker): Promise<void> {
    let intervalMs = Math.min(this.#initialMs, worker.periodMs);
    while (!run.stopped) {
      await this.#execute(run, worker.commands);
      if (run.stopped) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          run.timers.delete(timer);
          resolve();
        }, intervalMs);
        run.timers.add(timer);
        // stop() clears the timer; the pending promise is simply dropped with the run.
      });
      intervalMs = Math.min(intervalMs * 2, worker.periodMs);
    }
  }

  /** executeAgentCommands: each command in turn; failures are not vital and skip to the next. */
  async #execute(run: Run, commands: readonly AgentCommand[]): Promise<void> {
    let dom: VirDomain;
    try {
      dom = await this.#conn.domainLookupByName(run.domainName);
    } catch (err) {
      this.#log.debug({ reason: err }, `agent poller: domain ${run.domainName} not found`);
      return;
    }
    for (const command of commands) {
      if (run.stopped) return;
      let reply: string | null;
      try {
        reply = await this.#conn.domainQemuAgentCommand(dom, JSON.stringify({ execute: command }), DomainQemuAgentCommandTimeout.DEFAULT);
      } catch (err) {
        this.#log.debug({ reason: err }, `agent command ${command} failed`);
        continue;
      }
      if (run.stopped) return;
      this.#storeReply(command, reply ?? '');
    }
  }

  #storeReply<C extends AgentCommand>(command: C, reply: string): void {
    let value: AgentData[C];
    try {
      value = agentParsers[command](reply);
    } catch (err) {
      this.#log.error({ reason: err }, `Cannot parse guest agent reply to ${command}`);
      return;
    }
    try {
      this.#store.store(command, value);
    } catch (err) {
      this.#log.error({ reason: err }, `agent store listener failed on ${command}`);
    }
  }
}
