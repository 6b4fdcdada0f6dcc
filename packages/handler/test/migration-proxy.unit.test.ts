// The migration proxy with real sockets and KubeVirt's TLS: unix sockets standing for the target
// pod's libvirt and QEMU, the target handler's TCP listeners, the source handler's sockets in the
// source pod; bytes go through, each to the socket its port names, and peers with the wrong
// certificate are refused on both sides.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import path from 'node:path';
import pino from 'pino';
import { LibvirtDirectMigrationPort, migrationProxyKey, migrationSourceUnixFile } from '@kubevirt-ts/shared';
import { MigrationProxyManager, type MigrationTLS } from '../src/migration-proxy.ts';
import { makeHandlerPki, type HandlerPki, type KeyPair } from '../../../test/bed/handler-pki.ts';

const UID = '5f0c8f8e-0000-4000-8000-000000000001';
const logger = pino({ level: 'silent' });

/** A unix socket that answers each line with its name and the line. */
async function namedEcho(file: string, name: string): Promise<Server> {
  mkdirSync(path.dirname(file), { recursive: true });
  const server = createServer((s) => s.on('data', (d) => s.write(`${name}:${d.toString()}`)));
  server.listen(file);
  await once(server, 'listening');
  return server;
}

/** Writes `text` into the unix socket and resolves with what comes back ('' when the peer hangs up). */
async function roundTrip(file: string, text: string): Promise<string> {
  const s = createConnection(file);
  await once(s, 'connect');
  s.write(text);
  return new Promise((resolve) => {
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString());
    });
    s.once('close', () => resolve(''));
    s.once('error', () => resolve(''));
  });
}

describe('MigrationProxyManager', () => {
  let dir: string;
  let pki: HandlerPki;
  const servers: Server[] = [];
  const tls = (server: KeyPair, client: KeyPair): MigrationTLS => ({
    server: { cert: server.cert, key: server.key, ca: pki.ca.cert, cnTypes: ['virt-handler', 'migration'] },
    client: { cert: client.cert, key: client.key, ca: pki.ca.cert },
  });
  let libvirtSock: string;
  let qemuSock: string;

  before(async () => {
    // short: a unix socket's path has at most 107 bytes, and the proxy's names are long
    dir = mkdtempSync('/tmp/mp-');
    pki = await makeHandlerPki(path.join(dir, 'pki'));
    libvirtSock = path.join(dir, 't/virtqemud-sock');
    qemuSock = migrationSourceUnixFile(path.join(dir, 't'), migrationProxyKey(UID, LibvirtDirectMigrationPort));
    servers.push(await namedEcho(libvirtSock, 'libvirt'), await namedEcho(qemuSock, 'qemu'));
  });

  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Both handlers' proxies for one migration; the source pod's sockets. */
  async function wire(target: MigrationProxyManager, source: MigrationProxyManager, sourcePod: string) {
    await target.startTargetListener(UID, [libvirtSock, qemuSock]);
    const ports = target.getTargetListenerPorts(UID);
    await source.startSourceListener(UID, '127.0.0.1', ports, sourcePod);
    return ports;
  }

  test('over TLS: each source socket reaches the target socket its port stands for; stopped, the sockets are gone', async () => {
    const target = new MigrationProxyManager({ tls: () => tls(pki.server, pki.client), logger });
    const source = new MigrationProxyManager({ tls: () => tls(pki.server, pki.client), logger });
    const sourcePod = path.join(dir, 's1');
    const ports = await wire(target, source, sourcePod);
    assert.deepEqual(Object.values(ports).sort(), [0, LibvirtDirectMigrationPort]);
    const files = source.getSourceListenerFiles(UID).sort();
    assert.deepEqual(files, [
      migrationSourceUnixFile(sourcePod, migrationProxyKey(UID, LibvirtDirectMigrationPort)),
      migrationSourceUnixFile(sourcePod, UID),
    ]);
    assert.equal(await roundTrip(migrationSourceUnixFile(sourcePod, UID), 'hello'), 'libvirt:hello');
    assert.equal(
      await roundTrip(migrationSourceUnixFile(sourcePod, migrationProxyKey(UID, LibvirtDirectMigrationPort)), 'ram'),
      'qemu:ram',
    );
    // the same listeners asked again: nothing changes
    await source.startSourceListener(UID, '127.0.0.1', ports, sourcePod);
    await target.startTargetListener(UID, [libvirtSock, qemuSock]);
    assert.deepEqual(target.getTargetListenerPorts(UID), ports);
    source.stopSourceListener(UID);
    target.stopTargetListener(UID);
    assert.equal(existsSync(files[0] as string), false);
    assert.equal(source.openListenerCount() + target.openListenerCount(), 0);
  });

  test('the target refuses a client whose CommonName is not a migration CN type', async () => {
    const target = new MigrationProxyManager({ tls: () => tls(pki.server, pki.client), logger });
    await target.startTargetListener(UID, [libvirtSock]);
    const [port] = Object.keys(target.getTargetListenerPorts(UID));
    const answer = await new Promise<string>((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: Number(port),
        cert: pki.wrongCN.cert,
        key: pki.wrongCN.key,
        rejectUnauthorized: false,
      });
      s.on('secureConnect', () => s.write('hello'));
      s.on('data', (d) => resolve(d.toString()));
      s.on('close', () => resolve(''));
      s.on('error', () => resolve(''));
    });
    assert.equal(answer, '', 'a monitoring client got through');
    target.stopTargetListener(UID);
  });

  test('the source refuses a target whose certificate is not the handler node CN', async () => {
    const target = new MigrationProxyManager({ tls: () => tls(pki.serverAuthOnly, pki.client), logger });
    const source = new MigrationProxyManager({ tls: () => tls(pki.server, pki.client), logger });
    const sourcePod = path.join(dir, 's2');
    await wire(target, source, sourcePod);
    assert.equal(await roundTrip(migrationSourceUnixFile(sourcePod, UID), 'hello'), '');
    source.stopSourceListener(UID);
    target.stopTargetListener(UID);
  });

  test('TLS disabled by the migration configuration: plain TCP between the handlers', async () => {
    const target = new MigrationProxyManager({ tls: () => undefined, logger });
    const source = new MigrationProxyManager({ tls: () => undefined, logger });
    const sourcePod = path.join(dir, 's3');
    await wire(target, source, sourcePod);
    assert.equal(await roundTrip(migrationSourceUnixFile(sourcePod, UID), 'plain'), 'libvirt:plain');
    source.stopSourceListener(UID);
    target.stopTargetListener(UID);
  });

  test('no new listeners once the handler shuts down', async () => {
    const target = new MigrationProxyManager({ tls: () => undefined, logger });
    target.initiateGracefulShutdown();
    await assert.rejects(target.startTargetListener(UID, [libvirtSock]), {
      message: 'unable to process new migration connections during virt-handler shutdown',
    });
  });
});
