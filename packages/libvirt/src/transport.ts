// One socket to libvirtd: frames packets, matches replies to calls by serial, times calls out,
// answers and sends keepalive pings, and notices when the daemon is gone. It knows programs and
// procedure numbers only as numbers; what they mean lives in procedures.ts and events.ts.
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { KeepaliveProc, MAX_PACKET_SIZE, MessageStatus, MessageType, PACKET_HEADER_SIZE, Program, PROTOCOL_VERSION } from './constants.ts';
import { abortedError, connectionLostError, LibvirtError, protocolError, readRemoteError, timeoutError } from './errors.ts';
import { XdrReader } from './xdr.ts';

export interface PacketHeader {
  program: number;
  version: number;
  procedure: number;
  type: number;
  serial: number;
  status: number;
}

export interface Packet {
  header: PacketHeader;
  body: Buffer;
}

const EMPTY = Buffer.alloc(0);

function decodeError(p: Packet): LibvirtError {
  try {
    return readRemoteError(new XdrReader(p.body));
  } catch (cause) {
    return protocolError(`undecodable error reply to call ${p.header.procedure}`, cause);
  }
}

export function encodePacket(h: PacketHeader, body: Uint8Array = new Uint8Array(0)): Buffer {
  const len = PACKET_HEADER_SIZE + body.length;
  if (len > MAX_PACKET_SIZE) throw protocolError(`packet of ${len} bytes exceeds the ${MAX_PACKET_SIZE}-byte limit`);
  const buf = Buffer.allocUnsafe(len);
  buf.writeUInt32BE(len, 0);
  buf.writeUInt32BE(h.program, 4);
  buf.writeUInt32BE(h.version, 8);
  buf.writeInt32BE(h.procedure, 12);
  buf.writeInt32BE(h.type, 16);
  buf.writeUInt32BE(h.serial, 20);
  buf.writeInt32BE(h.status, 24);
  buf.set(body, PACKET_HEADER_SIZE);
  return buf;
}

/** Cuts a byte stream into packets, whatever the chunking (torn or merged packets). */
export class PacketDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): Packet[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: Packet[] = [];
    for (;;) {
      if (this.#buffered < 4) break;
      const head = this.#peek(4);
      const len = head.readUInt32BE(0);
      if (len < PACKET_HEADER_SIZE || len > MAX_PACKET_SIZE) {
        throw protocolError(`invalid packet length ${len}`);
      }
      if (this.#buffered < len) break;
      const pkt = this.#take(len);
      out.push({
        header: {
          program: pkt.readUInt32BE(4),
          version: pkt.readUInt32BE(8),
          procedure: pkt.readInt32BE(12),
          type: pkt.readInt32BE(16),
          serial: pkt.readUInt32BE(20),
          status: pkt.readInt32BE(24),
        },
        body: pkt.subarray(PACKET_HEADER_SIZE),
      });
    }
    return out;
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first;
    const merged = Buffer.concat(this.#chunks);
    this.#chunks = [merged];
    return merged;
  }

  #take(n: number): Buffer {
    const buf = this.#peek(n);
    const pkt = buf.subarray(0, n);
    const rest = buf.subarray(n);
    this.#chunks[0] = rest;
    if (rest.length === 0) this.#chunks.shift();
    this.#buffered -= n;
    return pkt;
  }
}

export interface KeepaliveOptions {
  /** Idle time after which a PING is sent (libvirt's keepalive_interval). */
  intervalMs: number;
  /** Unanswered intervals after the first PING before the daemon is declared dead (keepalive_count). */
  count: number;
}

export interface CallOptions {
  /** Per-call deadline; 0 or Infinity waits forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TransportCloseEvent {
  error: LibvirtError;
  /** True when close() was called; false when the daemon or the socket went away. */
  byClient: boolean;
}

/** What a call resolves with: the reply body, and for read-stream calls the streamed bytes. */
export interface CallResult {
  body: Buffer;
  stream: Buffer;
}

/** Read streams (e.g. a screenshot) are collected in memory up to this size. */
export const MAX_READ_STREAM = 64 * 1024 * 1024;

interface PendingCall {
  program: number;
  procedure: number;
  resolve: (r: CallResult) => void;
  reject: (err: LibvirtError) => void;
  /** Set for calls whose reply is followed by STREAM packets from the daemon. */
  stream?: { reply?: Buffer; chunks: Buffer[]; size: number; done?: boolean };
}

type TransportEvents = {
  /** A MESSAGE packet of a program other than keepalive: an event. */
  message: [Packet];
  close: [TransportCloseEvent];
};

export class Transport extends EventEmitter<TransportEvents> {
  readonly socketPath: string;
  readonly #socket: Socket;
  readonly #decoder = new PacketDecoder();
  readonly #pending = new Map<number, PendingCall>();
  #serial = 0;
  #closed: TransportCloseEvent | undefined;
  #socketError: Error | undefined;
  #lastReceived = Date.now();
  #keepaliveTimer: NodeJS.Timeout | undefined;

  private constructor(socket: Socket, socketPath: string) {
    super();
    this.#socket = socket;
    this.socketPath = socketPath;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#socketError = err;
    });
    socket.on('close', () => {
      const why = this.#socketError ? `: ${this.#socketError.message}` : '';
      this.#shutdown(connectionLostError(`connection to libvirt at ${socketPath} closed${why}`, this.#socketError), false);
    });
  }

  static connect(socketPath: string, timeoutMs = 10_000): Promise<Transport> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(connectionLostError(`connecting to libvirt at ${socketPath} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(connectionLostError(`cannot connect to libvirt at ${socketPath}: ${err.message}`, err));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new Transport(socket, socketPath));
      });
    });
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  get pendingCalls(): number {
    return this.#pending.size;
  }

  call(program: number, procedure: number, body: Uint8Array, opts: CallOptions = {}): Promise<Buffer> {
    return this.#call(program, procedure, body, opts, false).then((r) => r.body);
  }

  /**
   * A call whose reply is followed by a read stream (libvirt's @readstream procedures): data
   * packets until an empty one marks the end, then our finish and the daemon's confirmation.
   */
  callReadStream(program: number, procedure: number, body: Uint8Array, opts: CallOptions = {}): Promise<CallResult> {
    return this.#call(program, procedure, body, opts, true);
  }

  #call(program: number, procedure: number, body: Uint8Array, opts: CallOptions, readStream: boolean): Promise<CallResult> {
    if (this.#closed) return Promise.reject(this.#closed.error);
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortedError(`call ${procedure} aborted`, signal.reason));

    const serial = this.#nextSerial();
    const packet = encodePacket(
      { program, version: PROTOCOL_VERSION, procedure, type: MessageType.CALL, serial, status: MessageStatus.OK },
      body,
    );
    return new Promise<CallResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(abortedError(`call ${procedure} aborted`, signal?.reason)));
      const settle = (finish: () => void) => {
        if (!this.#pending.delete(serial)) return;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      this.#pending.set(serial, {
        program,
        procedure,
        resolve: (r) => settle(() => resolve(r)),
        reject: (e) => settle(() => reject(e)),
        ...(readStream ? { stream: { chunks: [], size: 0 } } : {}),
      });
      const timeoutMs = opts.timeoutMs ?? 0;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        // A late reply to a timed-out call finds no pending entry and is dropped.
        timer = setTimeout(() => settle(() => reject(timeoutError(`call ${procedure} timed out after ${timeoutMs} ms`))), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#socket.write(packet);
    });
  }

  /**
   * Starts liveness checking the way libvirt's own client does: after `intervalMs` without any
   * packet a PING goes out, then one more every `intervalMs`; once `count` PINGs are unanswered
   * and another interval passes (silence of `intervalMs * (count + 1)`), the daemon is declared
   * dead and the socket destroyed. Any packet from the daemon resets the count. (libvirtd also
   * pings idle clients once the keepalive feature is negotiated.)
   */
  startKeepalive(ka: KeepaliveOptions): void {
    this.stopKeepalive();
    const tick = Math.max(10, Math.min(ka.intervalMs / 5, 1000));
    let seen = this.#lastReceived;
    let unanswered = 0;
    this.#keepaliveTimer = setInterval(() => {
      if (this.#lastReceived !== seen) {
        seen = this.#lastReceived;
        unanswered = 0;
      }
      const idle = Date.now() - this.#lastReceived;
      if (idle < ka.intervalMs * (unanswered + 1)) return;
      if (unanswered >= ka.count) {
        this.destroy(connectionLostError(`libvirt sent nothing for ${idle} ms and left ${unanswered} keepalive pings unanswered`), false);
        return;
      }
      unanswered++;
      this.#sendKeepalive(KeepaliveProc.PING);
    }, tick);
    this.#keepaliveTimer.unref();
  }

  stopKeepalive(): void {
    if (this.#keepaliveTimer) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
  }

  /** Closes the socket; pending calls fail with a connection-lost error. */
  destroy(error = connectionLostError('connection closed by client'), byClient = true): void {
    this.#shutdown(error, byClient);
    this.#socket.destroy();
  }

  #nextSerial(): number {
    this.#serial = (this.#serial + 1) >>> 0;
    return this.#serial;
  }

  #send(program: number, procedure: number, type: number, serial: number): void {
    if (this.#closed) return;
    this.#socket.write(encodePacket({ program, version: PROTOCOL_VERSION, procedure, type, serial, status: MessageStatus.OK }));
  }

  #sendKeepalive(proc: number): void {
    this.#send(Program.KEEPALIVE, proc, MessageType.MESSAGE, 0);
  }

  #onData(chunk: Buffer): void {
    this.#lastReceived = Date.now();
    let packets: Packet[];
    try {
      packets = this.#decoder.push(chunk);
    } catch (err) {
      this.destroy(err instanceof LibvirtError ? err : protocolError(String(err), err), false);
      return;
    }
    let thrown: { err: unknown } | undefined;
    for (const p of packets) {
      try {
        this.#dispatch(p);
      } catch (err) {
        // A throwing event listener must not cost the packets behind it; rethrow it afterwards.
        thrown ??= { err };
      }
    }
    if (thrown) {
      const { err } = thrown;
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  #dispatch(p: Packet): void {
    const h = p.header;
    if (h.program === Program.KEEPALIVE) {
      if (h.procedure === KeepaliveProc.PING) this.#sendKeepalive(KeepaliveProc.PONG);
      return;
    }
    switch (h.type) {
      case MessageType.REPLY:
      case MessageType.REPLY_WITH_FDS: {
        const pending = this.#pending.get(h.serial);
        if (!pending) return;
        if (h.status !== MessageStatus.OK) pending.reject(decodeError(p));
        else if (pending.stream) {
          // the daemon's worker sends the reply, its event loop the stream: either may come first
          pending.stream.reply = p.body;
          if (pending.stream.done) pending.resolve({ body: p.body, stream: Buffer.concat(pending.stream.chunks) });
        } else pending.resolve({ body: p.body, stream: EMPTY });
        return;
      }
      case MessageType.STREAM: {
        const pending = this.#pending.get(h.serial);
        const stream = pending?.stream;
        if (!pending || !stream) return;
        if (h.status === MessageStatus.ERROR) {
          pending.reject(decodeError(p));
        } else if (h.status === MessageStatus.CONTINUE && p.body.length > 0) {
          stream.size += p.body.length;
          if (stream.size > MAX_READ_STREAM) {
            pending.reject(protocolError(`read stream of call ${h.procedure} exceeds ${MAX_READ_STREAM} bytes`));
          } else {
            stream.chunks.push(p.body);
          }
        } else if (h.status === MessageStatus.CONTINUE) {
          // End of data: finish our side; the daemon confirms with a STREAM OK.
          this.#send(pending.program, pending.procedure, MessageType.STREAM, h.serial);
        } else {
          stream.done = true;
          if (stream.reply !== undefined) pending.resolve({ body: stream.reply, stream: Buffer.concat(stream.chunks) });
        }
        return;
      }
      case MessageType.MESSAGE:
        this.emit('message', p);
        return;
      default:
        return;
    }
  }

  #shutdown(error: LibvirtError, byClient: boolean): void {
    if (this.#closed) return;
    this.#closed = { error, byClient };
    this.stopKeepalive();
    for (const pending of [...this.#pending.values()]) pending.reject(error);
    this.emit('close', this.#closed);
  }
}
