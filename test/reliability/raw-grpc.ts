// A gRPC client that sends any bytes as a unary message body: HTTP/2 and the 5-byte gRPC frame by
// hand (node:http2), so a fuzzer can put on the wire what no typed client would serialise. Plus the
// few protobuf wire-format helpers the fuzzer needs to build (and read back) messages field by field.
import http2 from 'node:http2';
import net from 'node:net';

export interface RawReply {
  /** grpc-status; undefined when the stream ended without one. */
  code: number | undefined;
  details: string;
  /** The response message (unframed), when the status is OK. */
  message: Buffer | undefined;
  /** The call outlived its deadline (client side): the server hung. */
  timedOut: boolean;
  /** The stream was reset or the connection failed before a status arrived. */
  error: string | undefined;
}

export class RawGrpcClient {
  readonly #session: http2.ClientHttp2Session;

  private constructor(session: http2.ClientHttp2Session) {
    this.#session = session;
  }

  static async connect(socketPath: string): Promise<RawGrpcClient> {
    const session = http2.connect('http://localhost', {
      createConnection: () => net.connect(socketPath),
      // Node's 10 MB default would make this client refuse its own streams around a 4 MiB message
      maxSessionMemory: 1_000,
    });
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
    });
    session.on('error', () => undefined); // surfaced on every stream it fails
    return new RawGrpcClient(session);
  }

  get closed(): boolean {
    return this.#session.closed || this.#session.destroyed;
  }

  /** One unary call: `body` framed as a single uncompressed gRPC message. */
  call(path: string, body: Buffer, timeoutMs: number): Promise<RawReply> {
    return new Promise((resolve) => {
      const reply: RawReply = { code: undefined, details: '', message: undefined, timedOut: false, error: undefined };
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(reply);
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.#session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${timeoutMs}m`,
        });
      } catch (err) {
        reply.error = String(err);
        resolve(reply);
        return;
      }
      const timer = setTimeout(() => {
        reply.timedOut = true;
        stream.close(http2.constants.NGHTTP2_CANCEL);
        finish();
      }, timeoutMs + 2_000); // the server should answer DEADLINE_EXCEEDED itself first
      const chunks: Buffer[] = [];
      const status = (headers: http2.IncomingHttpHeaders) => {
        const code = headers['grpc-status'];
        if (code === undefined) return;
        reply.code = Number(code);
        const details = headers['grpc-message'];
        reply.details = typeof details === 'string' ? decodeURIComponent(details) : '';
      };
      stream.on('response', status); // trailers-only replies carry the status in the headers
      stream.on('trailers', status);
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('error', (err) => (reply.error ??= String(err)));
      stream.on('close', () => {
        if (reply.code === 0) {
          const all = Buffer.concat(chunks);
          if (all.length >= 5 && all[0] === 0 && all.readUInt32BE(1) === all.length - 5) reply.message = all.subarray(5);
          else reply.error ??= `malformed response frame (${all.length} bytes)`;
        }
        if (reply.code === undefined) reply.error ??= `stream closed without a grpc-status (rst ${stream.rstCode})`;
        finish();
      });
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(body.length, 1);
      stream.end(Buffer.concat([frame, body]));
    });
  }

  close(): void {
    this.#session.close();
  }
}

// --- protobuf wire format ------------------------------------------------------------------------

export function varint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return Buffer.from(out);
}

const key = (field: number, wire: number) => varint((field << 3) | wire);

export const pb = {
  varint: (field: number, v: bigint | number | boolean) => Buffer.concat([key(field, 0), varint(typeof v === 'boolean' ? Number(v) : v)]),
  bytes: (field: number, v: Buffer | string) => {
    const b = typeof v === 'string' ? Buffer.from(v) : v;
    return Buffer.concat([key(field, 2), varint(b.length), b]);
  },
  fixed64: (field: number, v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, v));
    return Buffer.concat([key(field, 1), b]);
  },
  fixed32: (field: number, v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return Buffer.concat([key(field, 5), b]);
  },
  /** A deprecated group start/end: valid wire types nobody in these protos uses. */
  group: (field: number, inner: Buffer) => Buffer.concat([key(field, 3), inner, key(field, 4)]),
  msg: (...parts: Buffer[]) => Buffer.concat(parts),
};

export interface WireField {
  field: number;
  wire: number;
  value: bigint | Buffer;
}

/** Decodes one message level; throws on malformed input (what a strict reader of a reply must do). */
export function decodeFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let i = 0;
  const readVarint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) throw new Error('field number 0');
    if (wire === 0) fields.push({ field, wire, value: readVarint() });
    else if (wire === 2) {
      const len = Number(readVarint());
      if (i + len > buf.length) throw new Error('truncated length-delimited field');
      fields.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1 || wire === 5) {
      const len = wire === 1 ? 8 : 4;
      if (i + len > buf.length) throw new Error('truncated fixed field');
      fields.push({ field, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}

/** Response{success=1:bool, message=2:string}. */
export function decodeResponse(buf: Buffer): { success: boolean; message: string } {
  let success = false;
  let message = '';
  for (const f of decodeFields(buf)) {
    if (f.field === 1 && f.wire === 0) success = f.value !== 0n;
    else if (f.field === 2 && f.wire === 2) message = (f.value as Buffer).toString('utf8');
    else throw new Error(`unexpected field ${f.field}/${f.wire} in Response`);
  }
  return { success, message };
}

/** The Response inside a reply: the message itself, or its field 1 (`response`) for every *Response wrapper. */
export function embeddedResponse(buf: Buffer, wrapped: boolean): { success: boolean; message: string } | undefined {
  if (!wrapped) return decodeResponse(buf);
  const inner = decodeFields(buf).find((f) => f.field === 1 && f.wire === 2);
  return inner ? decodeResponse(inner.value as Buffer) : undefined;
}
