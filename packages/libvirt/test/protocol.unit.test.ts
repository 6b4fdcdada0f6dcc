import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainStateWithReason, ErrorDomain, ErrorNumber, MessageStatus, MessageType, Program, RemoteProc } from '../src/constants.ts';
import { isNotFound, LibvirtError, readRemoteError } from '../src/errors.ts';
import { decodeDomainEvent } from '../src/events.ts';
import { procedures, readDomain, uuidFromBytes, uuidToBytes, writeDomain, type Domain } from '../src/procedures.ts';
import { encodePacket, PacketDecoder, type Packet } from '../src/transport.ts';
import { XdrReader, XdrWriter } from '../src/xdr.ts';
import { encodeRemoteError } from './fake-daemon.ts';

const dom: Domain = { name: 'default_testvmi', uuid: '5f7c1a2e-0b8e-4d4f-9a43-7d3b2f1c9e01', id: 3 };

function packet(serial: number, body: Buffer): Buffer {
  return encodePacket(
    {
      program: Program.REMOTE,
      version: 1,
      procedure: RemoteProc.DOMAIN_GET_STATE,
      type: MessageType.REPLY,
      serial,
      status: MessageStatus.OK,
    },
    body,
  );
}

describe('packet framing', () => {
  const bodies = [Buffer.alloc(0), Buffer.from('0000000100000005', 'hex'), Buffer.alloc(301, 7)];
  const stream = Buffer.concat(bodies.map((b, i) => packet(i + 1, b)));
  const check = (got: Packet[]) => {
    assert.equal(got.length, bodies.length);
    got.forEach((p, i) => {
      assert.equal(p.header.serial, i + 1);
      assert.equal(p.header.program, Program.REMOTE);
      assert.equal(p.header.procedure, RemoteProc.DOMAIN_GET_STATE);
      assert.equal(p.header.type, MessageType.REPLY);
      assert.deepEqual(p.body, bodies[i]);
    });
  };

  it('writes a 4-byte length covering the whole packet, then the 24-byte header', () => {
    const p = packet(0x01020304, Buffer.from('aabbccdd', 'hex'));
    assert.equal(p.toString('hex'), '00000020' + '20008086' + '00000001' + '000000d4' + '00000001' + '01020304' + '00000000' + 'aabbccdd');
  });

  it('decodes packets torn at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new PacketDecoder();
      check([...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))]);
    }
  });

  it('decodes packets torn at every pair of byte boundaries', () => {
    for (let a = 0; a <= stream.length; a += 7) {
      for (let b = a; b <= stream.length; b += 5) {
        const d = new PacketDecoder();
        check([...d.push(stream.subarray(0, a)), ...d.push(stream.subarray(a, b)), ...d.push(stream.subarray(b))]);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const d = new PacketDecoder();
    const got: Packet[] = [];
    for (const b of stream) got.push(...d.push(Buffer.from([b])));
    check(got);
  });

  it('reassembles a large packet from socket-sized chunks', () => {
    const body = Buffer.alloc(1_000_003);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const big = Buffer.concat([packet(9, body), packet(10, Buffer.alloc(4))]);
    const d = new PacketDecoder();
    const got: Packet[] = [];
    for (let off = 0; off < big.length; off += 65_536) got.push(...d.push(big.subarray(off, off + 65_536)));
    assert.deepEqual(
      got.map((p) => [p.header.serial, p.body.length]),
      [
        [9, body.length],
        [10, 4],
      ],
    );
    assert.ok(got[0]!.body.equals(body));
  });

  it('decodes two packets arriving in one chunk', () => {
    check(new PacketDecoder().push(stream));
  });

  it('refuses a length below the header size or above the limit', () => {
    assert.throws(() => new PacketDecoder().push(Buffer.from('0000000400000000', 'hex')), /invalid packet length 4/);
    assert.throws(() => new PacketDecoder().push(Buffer.from('7fffffff', 'hex')), /invalid packet length/);
  });
});

describe('remote_nonnull_domain', () => {
  it('round-trips name, UUID and id', () => {
    const w = new XdrWriter();
    writeDomain(w, dom);
    const enc = w.finish();
    assert.equal(enc.length, 4 + 16 + 16 + 4);
    assert.deepEqual(readDomain(new XdrReader(enc)), dom);
  });

  it('formats UUIDs canonically and refuses malformed ones', () => {
    assert.equal(uuidFromBytes(uuidToBytes(dom.uuid.toUpperCase())), dom.uuid);
    assert.equal(uuidFromBytes(uuidToBytes(dom.uuid.replaceAll('-', ''))), dom.uuid);
    assert.throws(() => uuidToBytes('not-a-uuid'));
  });
});

describe('remote_error', () => {
  it('keeps virErrorNumber, virErrorDomain, level and message', () => {
    const err = readRemoteError(
      new XdrReader(
        encodeRemoteError({
          code: ErrorNumber.NO_DOMAIN,
          domain: ErrorDomain.QEMU,
          message: "Domain not found: no domain with matching name 'x'",
        }),
      ),
    );
    assert.ok(err instanceof LibvirtError);
    assert.equal(err.code, 42);
    assert.equal(err.domain, 10);
    assert.equal(err.level, 2);
    assert.equal(err.codeName, 'NO_DOMAIN');
    assert.equal(err.origin, 'daemon');
    assert.match(err.message, /Domain not found/);
    assert.ok(isNotFound(err));
  });
});

describe('procedure table', () => {
  it('encodes domainGetState as dom + flags', () => {
    const w = new XdrWriter();
    procedures.domainGetState.encode(w, dom, 0);
    const r = new XdrReader(w.finish());
    assert.deepEqual(readDomain(r), dom);
    assert.equal(r.uint(), 0);
    r.done();
    assert.equal(procedures.domainGetState.proc, 212);
    assert.equal(procedures.domainGetState.arity, 2);
  });

  it('decodes domainGetState into named state and reason', () => {
    const body = new XdrWriter().int(3).int(1).finish();
    assert.deepEqual(procedures.domainGetState.decode(new XdrReader(body), Buffer.alloc(0)), {
      state: 'PAUSED',
      reason: 'USER',
      stateCode: 3,
      reasonCode: 1,
    });
  });

  it('sends agent commands on the QEMU program with timeout and flags', () => {
    const p = procedures.domainQemuAgentCommand;
    assert.equal(p.program, Program.QEMU);
    assert.equal(p.proc, 3);
    const w = new XdrWriter();
    p.encode(w, dom, '{"execute":"guest-ping"}', 5);
    const r = new XdrReader(w.finish());
    readDomain(r);
    assert.equal(r.string(), '{"execute":"guest-ping"}');
    assert.equal(r.int(), 5);
    assert.equal(r.uint(), 0);
    r.done();
  });

  it('decodes connectGetAllDomainStats records with typed params', () => {
    const w = new XdrWriter().uint(1);
    writeDomain(w, dom);
    w.uint(2).string('state.state').int(2).uint(1).string('cpu.time').int(4).uhyper(7_840_000_000n);
    const r = new XdrReader(w.finish());
    assert.deepEqual(procedures.connectGetAllDomainStats.decode(r, Buffer.alloc(0)), [
      { domain: dom, params: { 'state.state': 1, 'cpu.time': 7_840_000_000n } },
    ]);
    r.done();
  });

  it('encodes domainStartDirtyRateCalc as dom + int seconds + flags (remote proc 427)', () => {
    const p = procedures.domainStartDirtyRateCalc;
    assert.equal(p.program, Program.REMOTE);
    assert.equal(p.proc, 427);
    const w = new XdrWriter();
    p.encode(w, dom, 1, 0);
    const r = new XdrReader(w.finish());
    assert.deepEqual(readDomain(r), dom);
    assert.equal(r.int(), 1);
    assert.equal(r.uint(), 0);
    r.done();
  });

  it('encodes connectGetDomainCapabilities as four optional strings + flags (remote proc 342)', () => {
    const p = procedures.connectGetDomainCapabilities;
    assert.equal(p.proc, 342);
    const w = new XdrWriter();
    p.encode(w, '/usr/bin/qemu-system-x86_64', 'x86_64', null, 'qemu', 0);
    const r = new XdrReader(w.finish());
    assert.equal(
      r.optional((x) => x.string()),
      '/usr/bin/qemu-system-x86_64',
    );
    assert.equal(
      r.optional((x) => x.string()),
      'x86_64',
    );
    assert.equal(
      r.optional((x) => x.string()),
      null,
    );
    assert.equal(
      r.optional((x) => x.string()),
      'qemu',
    );
    assert.equal(r.uint(), 0);
    r.done();
  });

  it('declares unique procedure numbers per program', () => {
    const seen = new Set<string>();
    for (const [name, p] of Object.entries(procedures)) {
      const key = `${p.program}:${p.proc}`;
      assert.ok(!seen.has(key), `${name} reuses ${key}`);
      seen.add(key);
    }
  });
});

describe('domain state reasons', () => {
  it('names the reason within its state', () => {
    assert.deepEqual(domainStateWithReason(5, 2), { state: 'SHUTOFF', reason: 'DESTROYED', stateCode: 5, reasonCode: 2 });
    assert.deepEqual(domainStateWithReason(1, 5), { state: 'RUNNING', reason: 'UNPAUSED', stateCode: 1, reasonCode: 5 });
    assert.equal(domainStateWithReason(3, 99).reason, 'UNKNOWN');
  });
});

describe('domain event messages', () => {
  it('decodes a lifecycle event with its callbackID', () => {
    const w = new XdrWriter().int(27);
    writeDomain(w, dom);
    w.int(5).int(1);
    const ev = decodeDomainEvent(RemoteProc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, new XdrReader(w.finish()));
    assert.deepEqual(ev, {
      name: 'lifecycle',
      callbackId: 27,
      payload: { domain: dom, event: 'STOPPED', detail: 'DESTROYED', eventCode: 5, detailCode: 1 },
    });
  });

  it('decodes agent-lifecycle, device-added and device-removed events', () => {
    const agent = new XdrWriter().int(1);
    writeDomain(agent, dom);
    agent.int(1).int(2);
    assert.deepEqual(decodeDomainEvent(348, new XdrReader(agent.finish()))?.payload, {
      domain: dom,
      state: 'CONNECTED',
      reason: 'CHANNEL',
      stateCode: 1,
      reasonCode: 2,
    });
    for (const [proc, name] of [
      [354, 'deviceAdded'],
      [333, 'deviceRemoved'],
    ] as const) {
      const w = new XdrWriter().int(4);
      writeDomain(w, dom);
      w.string('ua-hotplug');
      assert.deepEqual(decodeDomainEvent(proc, new XdrReader(w.finish())), {
        name,
        callbackId: 4,
        payload: { domain: dom, devAlias: 'ua-hotplug' },
      });
    }
  });

  it('ignores procedures that are not domain events', () => {
    assert.equal(decodeDomainEvent(9999, new XdrReader(Buffer.alloc(0))), undefined);
  });
});
