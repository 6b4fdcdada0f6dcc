#!/usr/bin/env node
// virt-launcher-cli: drives one launcher over its cmd socket, the way virt-handler would, for
// debugging a launcher on a dev box. Also listens as a notify server and prints what a launcher sends.
import { readFileSync } from 'node:fs';
import { parse as parseYAML } from 'yaml';
import * as z from 'zod/mini';
import { cmdClient, createNotifyServer, listenUnix, vmiRequest, type CmdClient } from '@kubevirt-ts/proto';
import {
  domainNotifyPipeSocketPath,
  errorMessage,
  exitOnFlagError,
  launcherSocketPath,
  parseFlags,
  parseVMI,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';

const USAGE = `usage: virt-launcher-cli [--socket PATH] [--vmi FILE] COMMAND
  sync         SyncVirtualMachine with the VMI of --vmi (YAML or JSON)
  pause | unpause | shutdown | kill | delete | reset | softreboot
               the lifecycle RPCs (the VMI from --vmi, else the launcher's current domain)
  domain       GetDomain (KubeVirt's Domain JSON)
  guestinfo | users | filesystems
               the guest agent's data
  ping         Ping
  events       listen on --listen PATH as a notify server and print every event received`;

const cliFlags = z.object({
  socket: z._default(z.string(), launcherSocketPath()).check(z.describe("the launcher's cmd socket")),
  vmi: z.optional(z.string()).check(z.describe('VMI file (YAML or JSON)')),
  listen: z._default(z.string(), domainNotifyPipeSocketPath()).check(z.describe('notify socket to listen on (events)')),
});

function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 1)}\n`);
}

function parseJSONField(s: string): unknown {
  return s === '' ? null : (JSON.parse(s) as unknown);
}

async function vmiFor(client: CmdClient, file: string | undefined): Promise<VirtualMachineInstance> {
  if (file) return parseVMI(parseYAML(readFileSync(file, 'utf8')) as unknown);
  const { domain } = await client.GetDomain({});
  if (!domain) throw new Error('no --vmi given and the launcher has no domain');
  const meta = (JSON.parse(domain) as { ObjectMeta: { name: string; namespace: string; uid: string } }).ObjectMeta;
  return parseVMI({ metadata: meta, spec: { domain: { devices: {} } } });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const command = args.find((a, i) => !a.startsWith('-') && !args[i - 1]?.match(/^--(socket|vmi|listen)$/));
  const flags = exitOnFlagError(() =>
    parseFlags(
      cliFlags,
      args.filter((a) => a !== command),
      { program: 'virt-launcher-cli' },
    ),
  );
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }

  if (command === 'events') {
    const server = createNotifyServer({
      HandleDomainEvent: (r) => {
        const d = parseJSONField(r.domainJSON.toString()) as { Status?: { Status: string; Reason: string } } | null;
        print({ eventType: r.eventType, status: d?.Status?.Status, reason: d?.Status?.Reason, domain: d });
        return { success: true, message: '' };
      },
      HandleK8sEvent: (r) => {
        print({ k8sEvent: parseJSONField(r.eventJSON.toString()) });
        return { success: true, message: '' };
      },
    });
    await listenUnix(server, flags.listen);
    process.stderr.write(`listening on ${flags.listen}\n`);
    await new Promise(() => undefined);
  }

  const client = await cmdClient(flags.socket);
  try {
    const request = async () => vmiRequest(await vmiFor(client, flags.vmi));
    let response: { success: boolean; message: string } | undefined;
    switch (command) {
      case 'sync':
        if (!flags.vmi) throw new Error('sync needs --vmi FILE');
        response = await client.SyncVirtualMachine(await request());
        break;
      case 'pause':
        response = await client.PauseVirtualMachine(await request());
        break;
      case 'unpause':
        response = await client.UnpauseVirtualMachine(await request());
        break;
      case 'shutdown':
        response = await client.ShutdownVirtualMachine(await request());
        break;
      case 'kill':
        response = await client.KillVirtualMachine(await request());
        break;
      case 'delete':
        response = await client.DeleteVirtualMachine(await request());
        break;
      case 'reset':
        response = await client.ResetVirtualMachine(await request());
        break;
      case 'softreboot':
        response = await client.SoftRebootVirtualMachine(await request());
        break;
      case 'ping':
        response = await client.Ping({});
        break;
      case 'domain': {
        const r = await client.GetDomain({});
        response = r.response ?? undefined;
        if (r.response?.success) print(parseJSONField(r.domain));
        break;
      }
      case 'guestinfo': {
        const r = await client.GetGuestInfo({});
        response = r.response ?? undefined;
        if (r.response?.success) print(parseJSONField(r.guestInfoResponse));
        break;
      }
      case 'users': {
        const r = await client.GetUsers({});
        response = r.response ?? undefined;
        if (r.response?.success) print(parseJSONField(r.guestUserListResponse));
        break;
      }
      case 'filesystems': {
        const r = await client.GetFilesystems({});
        response = r.response ?? undefined;
        if (r.response?.success) print(parseJSONField(r.guestFilesystemsResponse));
        break;
      }
      default:
        process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
        return 2;
    }
    if (!response?.success) {
      process.stderr.write(`${command} failed: ${response?.message || 'no response'}\n`);
      return 1;
    }
    if (!['domain', 'guestinfo', 'users', 'filesystems'].includes(command)) print(`${command}: ok`);
    return 0;
  } finally {
    client.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`virt-launcher-cli: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
