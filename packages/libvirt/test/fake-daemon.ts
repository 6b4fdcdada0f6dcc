// A small stand-in for libvirtd on a temp unix socket, for what the real daemon cannot be made to
// do on demand: stop answering keepalives, reply out of order or late, drop a client mid-call.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import {
  ErrorDomain,
  ErrorNumber,
  KeepaliveProc,
  MessageStatus,
  MessageType,
  Program,
  PROTOCOL_VERSION,
  RemoteProc,
} from '../src/constants.ts';
import { encodePacket, PacketDecoder, type Packet } from '../src/transport.ts';
import { XdrReader, XdrWriter } from '../src/xdr.ts';

/** What a handler does with a call: reply with a body, fail with a libvirt error, or stay silent. */
export type FakeReply = { body: Uint8Array } | { error: { code: number; domain: number; message: string } } | 'none';

export type FakeHandler = (call: Packet, client: FakeClient) => FakeReply | Promise<FakeReply>;

export interface FakeClient {
  socket: Socket;
  /** Event registrations made on this connection: eventID → callbackID. */
  registrations: Map<number, number>;
  send(packet: Buffer): void;
}

export interface FakeDaemonOptions {
  /** Answer keepalive PINGs with PONGs (default true). */
  answerPings?: boolean;
}

const ok = (w?: XdrWriter): FakeReply => ({ body: w ? w.finish() : new Uint8Array(0) });

export class FakeDaemon {
  readonly socketPath: string;
  readonly #dir: string;
  #server: Server | undefined;
  readonly clients = new Set<FakeClient>();
  readonly calls: Packet[] = [];
  readonly handlers = new Map<number, FakeHandler>();
  answerPings: boolean;
  pongsSent = 0;
  pingsReceived = 0;
  #nextCallbackId = 1;

  constructor(opts: FakeDaemonOptions = {}) {
    this.#dir = mkdtempSync(path.join(tmpdir(), 'fake-libvirtd-'));
    this.socketPath = path.join(this.#dir, 'libvirt-sock');
    this.answerPings = opts.answerPings ?? true;
    this.handlers.set(RemoteProc.AUTH_LIST, () => ok(new XdrWriter().array([0], (w, v) => w.int(v))));
    this.handlers.set(RemoteProc.CONNECT_OPEN, () => ok());
    this.handlers.set(RemoteProc.CONNECT_CLOSE, () => ok());
    this.handlers.set(RemoteProc.CONNECT_SUPPORTS_FEATURE, () => ok(new XdrWriter().int(1)));
    this.handlers.set(RemoteProc.CONNECT_GET_LIB_VERSION, () => ok(new XdrWriter().uhyper(9_000_000n)));
    this.handlers.set(RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, (call, client) => {
      const eventId = new XdrReader(call.body).int();
      const id = this.#nextCallbackId++;
      client.registrations.set(eventId, id);
      return ok(new XdrWriter().int(id));
    });
    this.handlers.set(RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, (call, client) => {
      const id = new XdrReader(call.body).int();
      for (const [eventId, cb] of client.registrations) if (cb === id) client.registrations.delete(eventId);
      return ok();
    });
  }

  async start(): Promise<this> {
    rmSync(this.socketPath, { force: true });
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    server.listen(this.socketPath);
    await once(server, 'listening');
    return this;
  }

  /** Stops listening and drops every client (a daemon that died). */
  async stop(): Promise<void> {
    for (const c of this.clients) c.socket.destroy();
    this.clients.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** Sends an event MESSAGE to every client that registered `eventId`. */
  pushEvent(eventId: number, proc: number, encodeRest: (w: XdrWriter) => void, callbackId?: number): number {
    let sent = 0;
    for (const c of this.clients) {
      const id = callbackId ?? c.registrations.get(eventId);
      if (id === undefined) continue;
      const w = new XdrWriter().int(id);
      encodeRest(w);
      c.send(
        encodePacket(
          {
            program: Program.REMOTE,
            version: PROTOCOL_VERSION,
            procedure: proc,
            type: MessageType.MESSAGE,
            serial: 0,
            status: MessageStatus.OK,
          },
          w.finish(),
        ),
      );
      sent++;
    }
    return sent;
  }

  sendPing(): void {
    for (const c of this.clients) {
      c.send(
        encodePacket({
          program: Program.KEEPALIVE,
          version: PROTOCOL_VERSION,
          procedure: KeepaliveProc.PING,
          type: MessageType.MESSAGE,
          serial: 0,
          status: MessageStatus.OK,
        }),
      );
    }
  }

  callsOf(proc: number): Packet[] {
    return this.calls.filter((c) => c.header.program === Program.REMOTE && c.header.procedure === proc);
  }

  #accept(socket: Socket): void {
    const decoder = new PacketDecoder();
    const client: FakeClient = {
      socket,
      registrations: new Map(),
      send: (b) => {
        if (!socket.destroyed) socket.write(b);
      },
    };
    this.clients.add(client);
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const p of decoder.push(chunk)) void this.#handle(p, client);
    });
  }

  async #handle(p: Packet, client: FakeClient): Promise<void> {
    if (p.header.program === Program.KEEPALIVE) {
      if (p.header.procedure === KeepaliveProc.PING) {
        this.pingsReceived++;
        if (this.answerPings) {
          this.pongsSent++;
          client.send(encodePacket({ ...p.header, procedure: KeepaliveProc.PONG }));
        }
      }
      return;
    }
    this.calls.push(p);
    const handler = this.handlers.get(p.header.procedure);
    const reply: FakeReply = handler
      ? await handler(p, client)
      : { error: { code: ErrorNumber.NO_SUPPORT, domain: ErrorDomain.RPC, message: `unknown procedure ${p.header.procedure}` } };
    if (reply === 'none') return;
    const header = { ...p.header, type: MessageType.REPLY };
    if ('body' in reply) {
      client.send(encodePacket({ ...header, status: MessageStatus.OK }, reply.body));
    } else {
      client.send(encodePacket({ ...header, status: MessageStatus.ERROR }, encodeRemoteError(reply.error)));
    }
  }
}

export function encodeRemoteError(e: { code: number; domain: number; message: string }): Buffer {
  const w = new XdrWriter();
  w.int(e.code).int(e.domain);
  w.optional(e.message, (x, m) => x.string(m));
  w.int(2); // level: VIR_ERR_ERROR
  w.optional(null, () => undefined); // dom
  w.optional(e.message, (x, m) => x.string(m)); // str1
  w.optional(null, () => undefined);
  w.optional(null, () => undefined);
  w.int(-1).int(-1);
  w.optional(null, () => undefined); // net
  return w.finish();
}

/** Resolves after `ms` unless the predicate holds earlier; returns whether it held. */
export async function waitFor(predicate: () => boolean, ms: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return predicate();
}
