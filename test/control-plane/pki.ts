// The control plane's keys, made fresh for every start: a self-signed serving certificate for
// kube-apiserver (clients trust it as the CA) and the key that signs service-account tokens.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const run = promisify(execFile);

export interface Pki {
  servingCertPath: string;
  servingKeyPath: string;
  /** The serving certificate (PEM): clients' CA. */
  ca: string;
  /** One EC key file: kube-apiserver signs with it and verifies with its public half. */
  serviceAccountKeyPath: string;
}

/** `ips`: more addresses the serving certificate names besides 127.0.0.1. */
export async function makePki(dir: string, ips: readonly string[] = []): Promise<Pki> {
  const servingCertPath = path.join(dir, 'apiserver.crt');
  const servingKeyPath = path.join(dir, 'apiserver.key');
  const serviceAccountKeyPath = path.join(dir, 'service-account.key');
  // EC P-256: generated in milliseconds where RSA-2048 takes a noticeable share of start-up.
  await Promise.all([
    run('openssl', [
      'req',
      '-x509',
      '-nodes',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-keyout',
      servingKeyPath,
      '-out',
      servingCertPath,
      '-days',
      '365',
      '-subj',
      '/CN=kube-apiserver',
      '-addext',
      `subjectAltName=${['127.0.0.1', ...ips].map((ip) => `IP:${ip}`).join(',')},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc`,
    ]),
    run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccountKeyPath]),
  ]);
  return { servingCertPath, servingKeyPath, ca: readFileSync(servingCertPath, 'utf8'), serviceAccountKeyPath };
}
