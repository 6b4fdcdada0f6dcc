// pkg/util/tls: the handler's servers present its node certificate and check clients against the
// KubeVirt CA bundle. OpenSSL verifies the chain during the handshake (requestCert + rejectUnauthorized);
// KubeVirt's VerifyPeerCertificate adds the client-auth usage and the exact CommonName, which Node's server
// side has no callback for, so they are checked on 'secureConnection' before any HTTP is read.
import type { PeerCertificate, Server as TLSServer, SecureContextOptions, TLSSocket } from 'node:tls';
import type { Logger } from '@kubevirt-ts/shared';

export interface ServerTLS {
  cert: string;
  key: string;
  /** PEM bundle of client CAs */
  ca: string;
  /** --externally-managed: any CommonName is accepted */
  externallyManaged?: boolean;
}

/** The CommonName virt-api's client certificate carries (kubevirt.io:system:<client>:<component>). */
export const VIRT_HANDLER_CLIENT_CN = 'kubevirt.io:system:client:virt-handler';

/** The extended key usages verifyPeerCert asks for: the client's (servers check) and the server's (clients check). */
const EXT_KEY_USAGE = { clientAuth: '1.3.6.1.5.5.7.3.2', serverAuth: '1.3.6.1.5.5.7.3.1' } as const;
const EXT_KEY_USAGE_ANY = '2.5.29.37.0';

// KubeVirt's CR default (tlsConfiguration.minTLSVersion VersionTLS12).
const MIN_TLS_VERSION = 'TLSv1.2';

export function secureContextOptions(tls: Pick<ServerTLS, 'cert' | 'key' | 'ca'>): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ca: tls.ca, minVersion: MIN_TLS_VERSION };
}

/**
 * verifyPeerCert's checks after the chain, on either end: the usage (as Go's x509 Verify, a certificate
 * without the extension is good for any), then the CommonName, one or one of several; why the peer's
 * certificate is refused, or undefined.
 */
export function peerCertificateProblem(
  peer: PeerCertificate,
  opts: { usage: keyof typeof EXT_KEY_USAGE; externallyManaged: boolean; commonName: string | readonly string[] },
): string | undefined {
  const usages = peer.ext_key_usage;
  if (usages !== undefined && !usages.includes(EXT_KEY_USAGE[opts.usage]) && !usages.includes(EXT_KEY_USAGE_ANY)) {
    return 'could not verify peer certificate: x509: certificate specifies an incompatible key usage';
  }
  const cn = peer.subject?.CN;
  const commonName = Array.isArray(cn) ? cn.join(',') : (cn ?? '');
  if (opts.externallyManaged) return undefined;
  // one of several CommonNames (the migration proxy's --migration-cn-types): KubeVirt's message names none
  if (typeof opts.commonName !== 'string')
    return opts.commonName.includes(commonName) ? undefined : `common name is invalid, got ${commonName}`;
  if (commonName !== opts.commonName) return `common name is invalid, expected ${opts.commonName}, but got ${commonName}`;
  return undefined;
}

/** A server's check of its client: a verified chain, a certificate, then peerCertificateProblem. */
export function clientCertificateProblem(
  socket: TLSSocket,
  opts: { externallyManaged: boolean; commonName: string | readonly string[] },
): string | undefined {
  if (!socket.authorized) return `could not verify peer certificate: ${String(socket.authorizationError ?? 'not authorized')}`;
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return 'no client certificate provided.';
  return peerCertificateProblem(peer, { usage: 'clientAuth', ...opts });
}

/**
 * Refuses, before the HTTP layer sees a byte, every connection whose client certificate fails
 * KubeVirt's checks. Runs ahead of the HTTP server's own 'secureConnection' listener.
 */
export function enforceClientCertificate(
  server: TLSServer,
  logger: Logger,
  opts: () => { externallyManaged: boolean; commonName: string },
): void {
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    const problem = clientCertificateProblem(socket, opts());
    if (problem === undefined) return;
    logger.warn({ reason: problem, remoteAddress: socket.remoteAddress }, 'TLS client certificate refused');
    socket.destroy();
  });
  server.on('tlsClientError', (err, socket) => {
    logger.warn({ reason: err.message, remoteAddress: socket.remoteAddress }, 'TLS handshake refused');
  });
}
