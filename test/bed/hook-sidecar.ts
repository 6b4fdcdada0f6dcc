// A hook sidecar for the test bed: KubeVirt's hooks Info + Callbacks gRPC server on a unix socket,
// as a sidecar container serves it in /var/run/kubevirt-hooks/<container>/. Run as a program it plays
// KubeVirt's smbios example sidecar (cmd/sidecars/smbios): OnDefineDomain sets the SMBIOS baseboard
// manufacturer from the VMI's annotation `smbios.vm.kubevirt.io/baseBoardManufacturer`.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bindUnixSocket, createHookSidecarServer, type HookSidecarImpl, type HookVersion } from '@kubevirt-ts/proto';

export const BASEBOARD_MANUFACTURER_ANNOTATION = 'smbios.vm.kubevirt.io/baseBoardManufacturer';

const escapeXML = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The smbios sidecar's onDefineDomain: with the annotation, `<smbios mode="sysinfo"/>` in `<os>` and the
 * first smbios sysinfo's baseBoard replaced by one with the manufacturer entry; without it, the XML as given.
 */
export function smbiosOnDefineDomain(vmiJSON: Buffer, domainXML: Buffer): string {
  const vmi = JSON.parse(vmiJSON.toString('utf8')) as { metadata?: { annotations?: Record<string, string> } };
  const xml = domainXML.toString('utf8');
  const manufacturer = vmi.metadata?.annotations?.[BASEBOARD_MANUFACTURER_ANNOTATION];
  if (manufacturer === undefined) return xml;
  if (!/<domain[\s>]/.test(xml) || !xml.includes('</domain>')) throw new Error(`Failed to unmarshal given Domain spec: ${xml}`);
  let out = xml.replace(/<smbios\b[^>]*\/>/, '');
  out = /<os>/.test(out)
    ? out.replace(/<os>/, '<os><smbios mode="sysinfo"/>')
    : out.replace('</domain>', '<os><smbios mode="sysinfo"/></os></domain>');
  const baseBoard = `<baseBoard><entry name="manufacturer">${escapeXML(manufacturer)}</entry></baseBoard>`;
  const sysinfo = /<sysinfo type="smbios">([\s\S]*?)<\/sysinfo>/.exec(out);
  if (sysinfo === null) return out.replace('</domain>', `<sysinfo type="smbios">${baseBoard}</sysinfo></domain>`);
  // libvirt's order inside sysinfo: bios, system, baseBoard, chassis, ...
  let body = (sysinfo[1] ?? '').replace(/<baseBoard>[\s\S]*?<\/baseBoard>|<baseBoard\/>/g, '');
  body = body.includes('</system>') ? body.replace('</system>', `</system>${baseBoard}`) : body.replace(/^/, baseBoard);
  return out.replace(sysinfo[0], `<sysinfo type="smbios">${body}</sysinfo>`);
}

export interface HookSidecarOptions {
  socketPath: string;
  version?: HookVersion;
  name?: string;
  /** the hook points Info announces; default OnDefineDomain at priority 0 */
  hookPoints?: { name: string; priority: number }[];
  /** Info's whole reply instead of the one built from name/version/hookPoints (a misbehaving sidecar). */
  info?: () => object;
  onDefineDomain?: HookSidecarImpl['OnDefineDomain'];
  preCloudInitIso?: HookSidecarImpl['PreCloudInitIso'];
  shutdown?: HookSidecarImpl['Shutdown'];
}

export interface RunningHookSidecar {
  readonly socketPath: string;
  /** the RPCs called so far, in order */
  readonly calls: string[];
  stop(): Promise<void>;
}

/** Serves a hook sidecar on `socketPath` (its directory made if missing). */
export async function startHookSidecar(o: HookSidecarOptions): Promise<RunningHookSidecar> {
  const calls: string[] = [];
  const version = o.version ?? 'v1alpha3';
  const track =
    <A extends unknown[], R>(rpc: string, fn: ((...a: A) => R) | undefined) =>
    (...a: A): R => {
      calls.push(rpc);
      if (fn === undefined) throw new Error(`${rpc} is not served by this sidecar`);
      return fn(...a);
    };
  const server = createHookSidecarServer({
    version,
    Info: track('Info', () =>
      o.info
        ? (o.info() as never)
        : { name: o.name ?? 'smbios', versions: [version], hookPoints: o.hookPoints ?? [{ name: 'OnDefineDomain', priority: 0 }] },
    ),
    ...(o.onDefineDomain ? { OnDefineDomain: track('OnDefineDomain', o.onDefineDomain) } : {}),
    ...(o.preCloudInitIso ? { PreCloudInitIso: track('PreCloudInitIso', o.preCloudInitIso) } : {}),
    ...(o.shutdown ? { Shutdown: track('Shutdown', o.shutdown) } : {}),
  });
  mkdirSync(path.dirname(o.socketPath), { recursive: true });
  await bindUnixSocket(server, o.socketPath);
  return {
    socketPath: o.socketPath,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          rmSync(o.socketPath, { force: true });
          resolve();
        });
      }),
  };
}

/** The program: `node hook-sidecar.ts --socket /var/run/kubevirt-hooks/<container>/smbios.sock [--version v1alpha3]`. */
if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      socket: { type: 'string' },
      version: { type: 'string', default: 'v1alpha3' },
      /** OnDefineDomain fails with this message (a sidecar whose hook breaks) */
      fail: { type: 'string' },
      /** also subscribe PreCloudInitIso and set the cloud-init user data to this */
      'cloud-init-user-data': { type: 'string' },
      /** also subscribe Shutdown (v1alpha3) and log the call */
      shutdown: { type: 'boolean', default: false },
    },
  });
  const fail = values.fail;
  const userData = values['cloud-init-user-data'];
  if (values.socket === undefined) throw new Error('--socket is required');
  const version = values.version as HookVersion;
  const sidecar = await startHookSidecar({
    socketPath: values.socket,
    version,
    name: 'smbios',
    hookPoints: [
      { name: 'OnDefineDomain', priority: 0 },
      ...(userData === undefined ? [] : [{ name: 'PreCloudInitIso', priority: 0 }]),
      ...(values.shutdown ? [{ name: 'Shutdown', priority: 0 }] : []),
    ],
    ...(values.shutdown
      ? {
          shutdown: () => {
            process.stderr.write('Shutdown called\n');
            return {};
          },
        }
      : {}),
    preCloudInitIso: (req) => {
      const data = JSON.parse(req.cloudInitData.toString('utf8')) as Record<string, unknown>;
      // what it was given, for the test to read in the container's log
      process.stderr.write(`PreCloudInitIso got ${JSON.stringify(data)}\n`);
      return { cloudInitData: Buffer.from(JSON.stringify({ ...data, UserData: userData })) };
    },
    onDefineDomain: (req) => {
      if (fail !== undefined) throw new Error(fail);
      return { domainXML: Buffer.from(smbiosOnDefineDomain(req.vmi, req.domainXML)) };
    },
  });
  process.stderr.write(`smbios hook sidecar (${version}) is now exposing its services on socket ${values.socket}\n`);
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => void sidecar.stop().then(() => process.exit(0)));
}
