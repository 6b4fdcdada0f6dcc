// A libvirt connection: opens a transport, authenticates, negotiates keepalive, keeps the domain
// event registrations, and reconnects (re-registering them) when the daemon goes away. Every
// procedure in procedures.ts is a method of the same name; call() is the one way in.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthType, ConnectFlags, DrvFeature, Program } from './constants.ts';
import { abortedError, connectionLostError, LibvirtError, protocolError, timeoutError } from './errors.ts';
import { decodeDomainEvent, domainEvents, type DomainEventName, type DomainEventPayloads } from './events.ts';
import { procedures, type ProcedureArgs, type ProcedureName, type ProcedureResult } from './procedures.ts';
import { Transport, type CallOptions, type KeepaliveOptions, type Packet } from './transport.ts';
import { XdrReader, XdrWriter } from './xdr.ts';

export type { CallOptions, KeepaliveOptions } from './transport.ts';

export interface ReconnectOptions {
  /** First delay after a lost connection; doubles per failed attempt. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface ConnectOptions {
  /** Default `qemu:///system`. */
  uri?: string;
  /** The daemon's socket, or candidates tried in order. Default: derived from the URI. */
  socketPath?: string | readonly string[];
  /** Default per-call timeout; 0 disables it. Default 30 s. */
  timeoutMs?: number;
  /** Keepalive; `false` disables it. Default libvirt's own: every 5 s, dead after 5 missed. */
  keepalive?: KeepaliveOptions | false;
  /** Reconnect after the daemon goes away (and re-register events). Default true. */
  reconnect?: boolean | ReconnectOptions;
  /** Domain events to register with the daemon right away (see subscribe()). */
  events?: readonly DomainEventName[];
  /** Open a read-only connection (VIR_CONNECT_RO). */
  readOnly?: boolean;
  /** Time to wait for the socket connection itself. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface ConnectionCloseEvent {
  error: LibvirtError;
  /** Whether a reconnect will be attempted. */
  willReconnect: boolean;
}

export type ConnectionEvents = { [K in DomainEventName]: [DomainEventPayloads[K]] } & {
  /** The connection to the daemon was lost (or closed by close()). */
  close: [ConnectionCloseEvent];
  /** A new connection is up and every subscribed event is registered again. */
  reconnect: [];
};

type ProcedureMethods = {
  [K in ProcedureName]: (...args: [...ProcedureArgs<K>, CallOptions?]) => Promise<ProcedureResult<K>>;
};

const EMPTY = Buffer.alloc(0);
const DEFAULT_KEEPALIVE: KeepaliveOptions = { intervalMs: 5000, count: 5 };

/** Sockets to try for a URI: the modular daemon's first, then the monolithic libvirtd's. */
export function defaultSocketPaths(uri: string, readOnly = false): string[] {
  const suffix = readOnly ? '-ro' : '';
  if (/^qemu(\+unix)?:\/\/\/session/.test(uri)) {
    const runtime = process.env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`;
    return [`${runtime}/libvirt/virtqemud-sock`, `${runtime}/libvirt/libvirt-sock`];
  }
  return [`/var/run/libvirt/virtqemud-sock${suffix}`, `/var/run/libvirt/libvirt-sock${suffix}`];
}

export async function connect(opts: ConnectOptions = {}): Promise<Connection> {
  const conn = new Connection(opts);
  await conn.open();
  return conn;
}

export interface Connection extends ProcedureMethods {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the procedure methods are installed on the prototype from the procedure table
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly uri: string;
  readonly #socketPaths: readonly string[] | undefined;
  readonly #timeoutMs: number;
  readonly #keepalive: KeepaliveOptions | false;
  readonly #reconnect: Required<ReconnectOptions> | false;
  readonly #readOnly: boolean;
  readonly #connectTimeoutMs: number;
  /** Events the caller subscribed to, re-registered on every new transport. */
  readonly #subscribed = new Set<DomainEventName>();
  /** callbackID the current transport's daemon gave each registered event. */
  #callbackIds = new Map<DomainEventName, number>();
  #transport: Transport | undefined;
  #reconnecting: Promise<Transport> | undefined;
  #closed = false;
  /** Aborted by close(): cuts a reconnect back-off short. */
  readonly #closing = new AbortController();

  static {
    for (const name of Object.keys(procedures) as ProcedureName[]) {
      Object.defineProperty(Connection.prototype, name, {
        configurable: true,
        writable: true,
        value(this: Connection, ...args: unknown[]) {
          return this.#invoke(name, args);
        },
      });
    }
  }

  constructor(opts: ConnectOptions = {}) {
    super();
    this.uri = opts.uri ?? 'qemu:///system';
    this.#socketPaths = typeof opts.socketPath === 'string' ? [opts.socketPath] : opts.socketPath;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#keepalive = opts.keepalive === undefined ? DEFAULT_KEEPALIVE : opts.keepalive;
    const rc = opts.reconnect ?? true;
    this.#reconnect = rc === false ? false : { initialDelayMs: 100, maxDelayMs: 5000, ...(rc === true ? {} : rc) };
    this.#readOnly = opts.readOnly ?? false;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    for (const e of opts.events ?? []) this.#subscribed.add(e);
  }

  /** Opens the first connection; connect() calls it. */
  async open(): Promise<void> {
    if (this.#transport) return;
    this.#transport = await this.#establish();
  }

  get connected(): boolean {
    return this.#transport !== undefined && !this.#transport.closed;
  }

  /** The socket path of the current connection. */
  get socketPath(): string | undefined {
    return this.#transport?.socketPath;
  }

  /**
   * Calls a procedure by name with its arguments, optionally followed by CallOptions. Waits for a
   * reconnect in progress (within the call's timeout); fails at once when there is none.
   */
  call<K extends ProcedureName>(name: K, ...args: [...ProcedureArgs<K>, CallOptions?]): Promise<ProcedureResult<K>> {
    return this.#invoke(name, args) as Promise<ProcedureResult<K>>;
  }

  /** Registers domain events with the daemon (kept across reconnects). Listen with on(name, fn). */
  async subscribe(...names: DomainEventName[]): Promise<void> {
    for (const name of names) {
      if (this.#subscribed.has(name) && this.#callbackIds.has(name)) continue;
      this.#subscribed.add(name);
      const transport = await this.#ready(Date.now() + this.#timeoutMs, undefined);
      // A reconnect that finished meanwhile registered it already.
      if (!this.#callbackIds.has(name)) await this.#register(transport, name);
    }
  }

  async unsubscribe(...names: DomainEventName[]): Promise<void> {
    for (const name of names) {
      this.#subscribed.delete(name);
      const id = this.#callbackIds.get(name);
      this.#callbackIds.delete(name);
      if (id !== undefined && this.connected) await this.connectDomainEventCallbackDeregisterAny(id);
    }
  }

  /** Closes the connection (CONNECT_CLOSE, then the socket) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    const t = this.#transport;
    if (t && !t.closed) {
      await this.#rawCall(t, 'connectClose', [], { timeoutMs: 2000 }).catch(() => undefined);
      t.destroy(connectionLostError('connection closed by client'), true);
    }
  }

  // --- internals ---------------------------------------------------------------------------------

  async #invoke(name: ProcedureName, args: unknown[]): Promise<unknown> {
    const p = procedures[name];
    let opts: CallOptions = {};
    if (args.length > p.arity) {
      const last = args[args.length - 1];
      if (last !== undefined && (typeof last !== 'object' || last === null)) {
        throw protocolError(`${name}: expected CallOptions as argument ${args.length}`);
      }
      opts = (last ?? {}) as CallOptions;
      args = args.slice(0, p.arity);
    }
    const timeoutMs = opts.timeoutMs ?? this.#timeoutMs;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    const transport = await this.#ready(deadline, opts.signal);
    return this.#rawCall(transport, name, args, {
      timeoutMs: Number.isFinite(deadline) ? Math.max(1, deadline - Date.now()) : 0,
      signal: opts.signal,
    });
  }

  async #rawCall(transport: Transport, name: ProcedureName, args: unknown[], opts: CallOptions): Promise<unknown> {
    const p = procedures[name];
    const w = new XdrWriter();
    (p.encode as (w: XdrWriter, ...a: unknown[]) => void)(w, ...args);
    const { body, stream } = p.readStream
      ? await transport.callReadStream(p.program, p.proc, w.finish(), opts)
      : { body: await transport.call(p.program, p.proc, w.finish(), opts), stream: EMPTY };
    const r = new XdrReader(body);
    let result: unknown;
    try {
      result = p.decode(r, stream);
      r.done();
    } catch (err) {
      throw protocolError(`${name}: cannot decode reply: ${(err as Error).message}`, err);
    }
    return result;
  }

  /** The live transport, or the one a reconnect in progress will produce. */
  async #ready(deadline: number, signal: AbortSignal | undefined): Promise<Transport> {
    const t = this.#transport;
    if (t && !t.closed) return t;
    if (this.#closed) throw connectionLostError('connection closed by client');
    const pending = this.#reconnecting;
    if (!pending) throw connectionLostError('not connected to libvirt');
    const waits: Promise<Transport>[] = [pending];
    const cleanups: Array<() => void> = [];
    if (Number.isFinite(deadline)) {
      waits.push(
        new Promise((_, reject) => {
          const timer = setTimeout(
            () => reject(timeoutError('timed out waiting for the libvirt connection to come back')),
            Math.max(0, deadline - Date.now()),
          );
          cleanups.push(() => clearTimeout(timer));
        }),
      );
    }
    if (signal) {
      waits.push(
        new Promise((_, reject) => {
          const onAbort = () => reject(abortedError('aborted while waiting for the libvirt connection', signal.reason));
          if (signal.aborted) onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          cleanups.push(() => signal.removeEventListener('abort', onAbort));
        }),
      );
    }
    try {
      return await Promise.race(waits);
    } finally {
      for (const c of cleanups) c();
    }
  }

  /** Connects, authenticates, opens the URI, negotiates keepalive and registers subscribed events. */
  async #establish(): Promise<Transport> {
    const candidates = this.#socketPaths ?? defaultSocketPaths(this.uri, this.#readOnly);
    let lastError: unknown;
    let transport: Transport | undefined;
    for (const path of candidates) {
      // A missing default socket is expected (only one daemon flavour runs); skip it quietly.
      if (this.#socketPaths === undefined && candidates.length > 1 && !existsSync(path)) continue;
      try {
        transport = await Transport.connect(path, this.#connectTimeoutMs);
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (!transport) {
      throw lastError ?? connectionLostError(`no libvirt socket found (tried ${candidates.join(', ')})`);
    }
    const opts: CallOptions = { timeoutMs: this.#timeoutMs };
    try {
      const auth = (await this.#rawCall(transport, 'authList', [], opts)) as number[];
      if (!auth.includes(AuthType.NONE)) {
        if (!auth.includes(AuthType.POLKIT)) {
          throw protocolError(`unsupported libvirt auth types ${JSON.stringify(auth)} (only none and polkit)`);
        }
        await this.#rawCall(transport, 'authPolkit', [], opts);
      }
      await this.#rawCall(transport, 'connectOpen', [this.uri, this.#readOnly ? ConnectFlags.RO : 0], opts);
      if (this.#keepalive) {
        // Also turns on the daemon's own pings to us (and its reaping of silent clients).
        const ok = await this.#rawCall(transport, 'connectSupportsFeature', [DrvFeature.PROGRAM_KEEPALIVE], opts);
        if (ok === true) transport.startKeepalive(this.#keepalive);
      }
      this.#callbackIds = new Map();
      transport.on('message', (p) => this.#onMessage(p));
      for (const name of this.#subscribed) await this.#register(transport, name);
    } catch (err) {
      transport.destroy(err instanceof LibvirtError ? err : undefined, true);
      throw err;
    }
    transport.once('close', (ev) => this.#onTransportClose(transport, ev.error));
    return transport;
  }

  async #register(transport: Transport, name: DomainEventName): Promise<void> {
    const id = (await this.#rawCall(transport, 'connectDomainEventCallbackRegisterAny', [domainEvents[name].eventId, null], {
      timeoutMs: this.#timeoutMs,
    })) as number;
    this.#callbackIds.set(name, id);
  }

  #onMessage(p: Packet): void {
    if (p.header.program !== Program.REMOTE) return;
    let ev;
    try {
      ev = decodeDomainEvent(p.header.procedure, new XdrReader(p.body));
    } catch {
      // A body we cannot decode is a newer daemon's layout; dropping it beats killing the connection.
      return;
    }
    // Only the current registration's events: a stale or duplicate registration stays silent.
    if (!ev || this.#callbackIds.get(ev.name) !== ev.callbackId) return;
    (this.emit as (name: DomainEventName, payload: unknown) => boolean).call(this, ev.name, ev.payload);
  }

  #onTransportClose(transport: Transport, error: LibvirtError): void {
    if (transport !== this.#transport) return;
    this.#callbackIds.clear();
    const willReconnect = !this.#closed && this.#reconnect !== false;
    if (willReconnect) {
      const loop = this.#reconnectLoop();
      // Callers waiting in #ready() see the rejection; nobody else has to.
      loop.catch(() => undefined);
      this.#reconnecting = loop;
    }
    this.emit('close', { error, willReconnect });
  }

  async #reconnectLoop(): Promise<Transport> {
    const rc = this.#reconnect;
    if (rc === false) throw connectionLostError('reconnect disabled');
    let delay = rc.initialDelayMs;
    for (;;) {
      await sleep(delay, undefined, { signal: this.#closing.signal }).catch(() => undefined);
      if (this.#closed) throw connectionLostError('connection closed by client');
      try {
        const t = await this.#establish();
        if (this.#closed) {
          t.destroy(undefined, true);
          throw connectionLostError('connection closed by client');
        }
        this.#transport = t;
        this.#reconnecting = undefined;
        this.emit('reconnect');
        return t;
      } catch (err) {
        // Any libvirt-level failure (daemon still starting, refused, timed out) is worth a retry.
        if (this.#closed || !(err instanceof LibvirtError)) throw err;
        delay = Math.min(delay * 2, rc.maxDelayMs);
      }
    }
  }
}
