// KubeVirt's agent_parser.go: the guest agent's replies to the commands the poller runs, turned into
// the shapes KubeVirt keeps in its agent store. A reply that does not parse is an AgentReplyError; the
// poller logs it and keeps the previous value.
import * as z from 'zod/mini';
import type { FSFreeze, GuestOSInfo, InterfaceStatus } from '@kubevirt-ts/shared';

/** The guest-agent commands the poller runs; they double as the store's keys, as in KubeVirt. */
export const AgentCommand = {
  GET_AGENT: 'guest-info',
  GET_INTERFACES: 'guest-network-get-interfaces',
  GET_OSINFO: 'guest-get-osinfo',
  GET_TIMEZONE: 'guest-get-timezone',
  GET_HOSTNAME: 'guest-get-host-name',
  GET_FILESYSTEM: 'guest-get-fsinfo',
  GET_USERS: 'guest-get-users',
  GET_FSFREEZE_STATUS: 'guest-fsfreeze-status',
} as const;
export type AgentCommand = (typeof AgentCommand)[keyof typeof AgentCommand];

/** The commands of GuestExec (virtwrap/agent/exec.go), run on request rather than polled. */
export const GuestExecCommand = {
  EXEC: 'guest-exec',
  EXEC_STATUS: 'guest-exec-status',
} as const;
export type GuestExecCommand = (typeof GuestExecCommand)[keyof typeof GuestExecCommand];

/** api.Timezone */
export interface Timezone {
  zone: string;
  offset: number;
}

/** api.User */
export interface User {
  name: string;
  domain: string;
  /** seconds since the epoch */
  loginTime: number;
}

/** api.FSDisk */
export interface FSDisk {
  serial: string;
  busType: string;
}

/** api.Filesystem */
export interface Filesystem {
  name: string;
  mountpoint: string;
  type: string;
  usedBytes: number;
  totalBytes: number;
  disk: FSDisk[];
}

/** v1.GuestAgentCommandInfo */
export type GuestAgentCommandInfo = { name: string; enabled?: boolean };

/** agentpoller.AgentInfo: the agent's version and the commands it offers. */
export interface AgentInfo {
  version: string;
  supportedCommands: GuestAgentCommandInfo[];
}

/** What each command's parsed reply is, i.e. the value stored under that command. */
export interface AgentData {
  'guest-info': AgentInfo;
  'guest-network-get-interfaces': InterfaceStatus[];
  'guest-get-osinfo': GuestOSInfo;
  'guest-get-timezone': Timezone;
  'guest-get-host-name': string;
  'guest-get-fsinfo': Filesystem[];
  'guest-get-users': User[];
  'guest-fsfreeze-status': FSFreeze;
}

export class AgentReplyError extends Error {
  override readonly name = 'AgentReplyError';
  readonly command: AgentCommand | GuestExecCommand;

  constructor(command: AgentCommand | GuestExecCommand, message: string, cause?: unknown) {
    super(`${command}: ${message}`, cause === undefined ? undefined : { cause });
    this.command = command;
  }
}

// Go's encoding/json leaves a field at its zero value when the key is missing or null, ignores
// unknown keys and rejects a value of the wrong type; these helpers do the same.
const str = z.pipe(
  z.nullish(z.string()),
  z.transform((v) => v ?? ''),
);
const int = z.pipe(
  z.nullish(z.int()),
  z.transform((v) => v ?? 0),
);
const float = z.pipe(
  z.nullish(z.number()),
  z.transform((v) => v ?? 0),
);
const list = <T extends z.core.$ZodType>(item: T) =>
  z.pipe(
    z.nullish(z.array(item)),
    z.transform((v) => v ?? []),
  );

function parseReturn<T extends z.core.$ZodType>(command: AgentCommand | GuestExecCommand, reply: string, schema: T): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(reply);
  } catch (err) {
    throw new AgentReplyError(command, `reply is not JSON: ${reply}`, err);
  }
  const result = z.object({ return: schema }).safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new AgentReplyError(command, `unexpected reply (${where}: ${issue?.message ?? 'invalid'}): ${reply}`, result.error);
  }
  return (result.data as { return: z.output<T> }).return;
}

const agentInfoSchema = z.object({
  version: str,
  supported_commands: list(z.object({ name: str, enabled: z.nullish(z.boolean()) })),
});

/** parseAgent: guest-info. */
export function parseAgent(reply: string): AgentInfo {
  const info = parseReturn(AgentCommand.GET_AGENT, reply, agentInfoSchema);
  return {
    version: info.version,
    supportedCommands: info.supported_commands.map((c) => (c.enabled ? { name: c.name, enabled: true } : { name: c.name })),
  };
}

const osInfoSchema = z.object({
  name: str,
  'kernel-release': str,
  version: str,
  'pretty-name': str,
  'version-id': str,
  'kernel-version': str,
  machine: str,
  id: str,
});

/** parseGuestOSInfo: guest-get-osinfo. */
export function parseGuestOSInfo(reply: string): GuestOSInfo {
  const os = parseReturn(AgentCommand.GET_OSINFO, reply, osInfoSchema);
  return {
    Name: os.name,
    KernelRelease: os['kernel-release'],
    Version: os.version,
    PrettyName: os['pretty-name'],
    VersionId: os['version-id'],
    KernelVersion: os['kernel-version'],
    Machine: os.machine,
    Id: os.id,
  };
}

const interfacesSchema = list(
  z.object({
    name: str,
    'hardware-address': str,
    'ip-addresses': list(z.object({ 'ip-address': str, 'ip-address-type': str, prefix: int })),
  }),
);

/**
 * parseInterfaces: guest-network-get-interfaces, without the loopback. The first IPv4 address is the
 * interface's main IP, else the first address of any kind.
 */
export function parseInterfaces(reply: string): InterfaceStatus[] {
  const interfaces = parseReturn(AgentCommand.GET_INTERFACES, reply, interfacesSchema);
  return interfaces
    .filter((ifc) => ifc.name !== 'lo')
    .map((ifc) => {
      const ips = ifc['ip-addresses'].map((a) => a['ip-address']);
      const ipv4 = ifc['ip-addresses'].find((a) => a['ip-address-type'] === 'ipv4');
      return { Mac: ifc['hardware-address'], Ip: ipv4?.['ip-address'] ?? ips[0] ?? '', IPs: ips, InterfaceName: ifc.name };
    });
}

/** parseHostname: guest-get-host-name. */
export function parseHostname(reply: string): string {
  return parseReturn(AgentCommand.GET_HOSTNAME, reply, z.object({ 'host-name': str }))['host-name'];
}

/** parseTimezone: guest-get-timezone (`zone` is absent when the guest does not know it). */
export function parseTimezone(reply: string): Timezone {
  const tz = parseReturn(AgentCommand.GET_TIMEZONE, reply, z.object({ zone: str, offset: int }));
  return { zone: tz.zone, offset: tz.offset };
}

/** parseUsers: guest-get-users (`domain` only on Windows guests). */
export function parseUsers(reply: string): User[] {
  const users = parseReturn(AgentCommand.GET_USERS, reply, list(z.object({ user: str, domain: str, 'login-time': float })));
  return users.map((u) => ({ name: u.user, domain: u.domain, loginTime: u['login-time'] }));
}

const filesystemsSchema = list(
  z.object({
    name: str,
    mountpoint: str,
    type: str,
    'used-bytes': int,
    'total-bytes': int,
    disk: list(z.object({ serial: str, 'bus-type': str })),
  }),
);

/** parseFilesystem: guest-get-fsinfo. */
export function parseFilesystem(reply: string): Filesystem[] {
  const filesystems = parseReturn(AgentCommand.GET_FILESYSTEM, reply, filesystemsSchema);
  return filesystems.map((fs) => ({
    name: fs.name,
    mountpoint: fs.mountpoint,
    type: fs.type,
    usedBytes: fs['used-bytes'],
    totalBytes: fs['total-bytes'],
    disk: fs.disk.map((d) => ({ serial: d.serial, busType: d['bus-type'] })),
  }));
}

/** ParseFSFreezeStatus: guest-fsfreeze-status answers a bare string, "frozen" or "thawed". */
export function parseFSFreezeStatus(reply: string): FSFreeze {
  const status = parseReturn(AgentCommand.GET_FSFREEZE_STATUS, reply, z.string());
  if (status === '') throw new AgentReplyError(AgentCommand.GET_FSFREEZE_STATUS, `failed to strip FSFreeze status: ${reply}`);
  return { Status: status };
}

/** guest-exec: the pid of the started command; one not above zero is refused, as GuestExec refuses it. */
export function parseGuestExec(reply: string): number {
  const { pid } = parseReturn(GuestExecCommand.EXEC, reply, z.object({ pid: int }));
  if (pid <= 0) throw new AgentReplyError(GuestExecCommand.EXEC, `invalid pid [${pid}]: ${reply}`);
  return pid;
}

/** What guest-exec-status reports of a command: stdout decoded from its base64 `out-data`. */
export interface GuestExecStatus {
  exited: boolean;
  exitCode: number;
  stdout: string;
}

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** guest-exec-status (execStatusReturnData). */
export function parseGuestExecStatus(reply: string): GuestExecStatus {
  const bool = z.pipe(
    z.nullish(z.boolean()),
    z.transform((v) => v ?? false),
  );
  const status = parseReturn(GuestExecCommand.EXEC_STATUS, reply, z.object({ exited: bool, exitcode: int, 'out-data': str }));
  const out = status['out-data'];
  if (out.length % 4 !== 0 || !base64.test(out)) {
    throw new AgentReplyError(GuestExecCommand.EXEC_STATUS, `out-data is not base64: ${reply}`);
  }
  return { exited: status.exited, exitCode: status.exitcode, stdout: Buffer.from(out, 'base64').toString() };
}

/** The parser of each command's reply. */
export const agentParsers: { readonly [C in AgentCommand]: (reply: string) => AgentData[C] } = {
  'guest-info': parseAgent,
  'guest-network-get-interfaces': parseInterfaces,
  'guest-get-osinfo': parseGuestOSInfo,
  'guest-get-timezone': parseTimezone,
  'guest-get-host-name': parseHostname,
  'guest-get-fsinfo': parseFilesystem,
  'guest-get-users': parseUsers,
  'guest-fsfreeze-status': parseFSFreezeStatus,
};
