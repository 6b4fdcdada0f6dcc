// Certificates for virt-handler's TLS servers, made with the openssl CLI: a KubeVirt CA, the handler's
// node certificate, virt-api's good client certificate, and the bad clients KubeVirt turns away.
// Every pair is kept as files (for --tls-cert-file and friends) and as PEM text.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface HandlerPki {
  /** the KubeVirt CA (configmap kubevirt-ca's ca-bundle) */
  ca: KeyPair;
  /** CN kubevirt.io:system:node:virt-handler, serverAuth */
  server: KeyPair;
  /** virt-api's: CN kubevirt.io:system:client:virt-handler, clientAuth */
  client: KeyPair;
  /** the right CN and usage, signed by itself */
  selfSigned: KeyPair;
  /** the right CN and usage, signed by the CA, no longer valid */
  expired: KeyPair;
  /** signed by the CA, clientAuth, CN kubevirt.io:system:client:monitoring */
  wrongCN: KeyPair;
  /** signed by the CA, the right CN, only serverAuth */
  serverAuthOnly: KeyPair;
}

export const HANDLER_SERVER_CN = 'kubevirt.io:system:node:virt-handler';
export const HANDLER_CLIENT_CN = 'kubevirt.io:system:client:virt-handler';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

interface Leaf {
  name: string;
  cn: string;
  extendedKeyUsage: string;
  /** negative: expired already */
  days?: number;
  selfSigned?: boolean;
}

/** Makes the CA and every certificate in `dir` (created if missing). */
export async function makeHandlerPki(dir: string): Promise<HandlerPki> {
  await mkdir(dir, { recursive: true });
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  const pair = async (name: string): Promise<KeyPair> => {
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
  };

  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=kubevirt.io@1700000000',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  const leaf = async ({ name, cn, extendedKeyUsage, days = 2, selfSigned = false }: Leaf): Promise<KeyPair> => {
    await writeFile(
      path.join(dir, `${name}.ext`),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=${extendedKeyUsage}\n`,
    );
    await openssl(['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    const signer = selfSigned ? ['-signkey', `${name}.key`] : ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(++serial)];
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      ...signer,
      '-out',
      `${name}.crt`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    ]);
    return pair(name);
  };
  return {
    ca: await pair('ca'),
    server: await leaf({ name: 'server', cn: HANDLER_SERVER_CN, extendedKeyUsage: 'serverAuth' }),
    client: await leaf({ name: 'client', cn: HANDLER_CLIENT_CN, extendedKeyUsage: 'clientAuth' }),
    selfSigned: await leaf({ name: 'self-signed', cn: HANDLER_CLIENT_CN, extendedKeyUsage: 'clientAuth', selfSigned: true }),
    expired: await leaf({ name: 'expired', cn: HANDLER_CLIENT_CN, extendedKeyUsage: 'clientAuth', days: -1 }),
    wrongCN: await leaf({ name: 'wrong-cn', cn: 'kubevirt.io:system:client:monitoring', extendedKeyUsage: 'clientAuth' }),
    serverAuthOnly: await leaf({ name: 'server-auth-only', cn: HANDLER_CLIENT_CN, extendedKeyUsage: 'serverAuth' }),
  };
}
