// KubeVirt's AsyncAgentStore (agent_poller.go): the guest agent's latest answers, keyed by command. A
// store that changes a value tells its listeners, which send the domain again (KubeVirt's
// AgentUpdated channel); storing an equal value stays silent. The DomainManager reads it for
// GetGuestInfo, GetUsers and GetFilesystems, and overlays the agent's part of Domain.Status.
import { isDeepStrictEqual } from 'node:util';
import {
  type Domain,
  type FSFreeze,
  type GuestOSInfo,
  type InterfaceStatus,
  type VirtualMachineInstanceFileSystem,
  type VirtualMachineInstanceGuestAgentInfo,
  type VirtualMachineInstanceGuestOSUser,
  vmiGuestOSInfo,
} from '@kubevirt-ts/shared';
import { AgentCommand, type AgentData, type AgentInfo, type Filesystem, type Timezone, type User } from './parser.ts';

/** api.DomainGuestInfo: the agent's part of Domain.Status, filled only for the keys that carry it. */
export interface DomainGuestInfo {
  Interfaces?: InterfaceStatus[];
  OSInfo?: GuestOSInfo;
  FSFreezeStatus?: FSFreeze;
}

/** agentpoller.AgentUpdatedEvent */
export interface AgentUpdatedEvent {
  /** The command whose value changed. */
  key: AgentCommand;
  domainInfo: DomainGuestInfo;
}

export type AgentUpdateListener = (event: AgentUpdatedEvent) => void;

/** api.DomainSysInfo */
export interface DomainSysInfo {
  hostname: string;
  osInfo: GuestOSInfo;
  timezone: Timezone;
}

/** How many users and filesystems GetGuestInfo reports (GetUsers/GetFilesystems report all). */
const GUEST_INFO_LIST_LIMIT = 10;

const EMPTY_OS_INFO: GuestOSInfo = {
  Name: '',
  KernelRelease: '',
  Version: '',
  PrettyName: '',
  VersionId: '',
  KernelVersion: '',
  Machine: '',
  Id: '',
};

function limited<T>(items: readonly T[], limit: number): T[] {
  return limit === -1 ? [...items] : items.slice(0, limit);
}

function guestOSUser(u: User): VirtualMachineInstanceGuestOSUser {
  // userName always; domain and loginTime are omitempty.
  return { userName: u.name, ...(u.domain ? { domain: u.domain } : {}), ...(u.loginTime ? { loginTime: u.loginTime } : {}) };
}

function fileSystem(fs: Filesystem): VirtualMachineInstanceFileSystem {
  const disk = fs.disk.map((d) => ({ ...(d.serial ? { serial: d.serial } : {}), busType: d.busType }));
  return {
    diskName: fs.name,
    mountPoint: fs.mountpoint,
    fileSystemType: fs.type,
    usedBytes: fs.usedBytes,
    totalBytes: fs.totalBytes,
    // omitempty
    ...(disk.length > 0 ? { disk } : {}),
  };
}

export class AsyncAgentStore {
  readonly #values = new Map<AgentCommand, AgentData[AgentCommand]>();
  readonly #listeners = new Set<AgentUpdateListener>();
  #connected = false;

  /** Whether the guest agent is connected (the poller runs exactly while it is). */
  get connected(): boolean {
    return this.#connected;
  }

  setConnected(connected: boolean): void {
    this.#connected = connected;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onUpdate(listener: AgentUpdateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Saves the value; when it differs from the stored one (or is the first), tells the listeners. */
  store<K extends AgentCommand>(key: K, value: AgentData[K]): void {
    const updated = !this.#values.has(key) || !isDeepStrictEqual(this.#values.get(key), value);
    this.#values.set(key, value);
    if (!updated) return;
    const domainInfo: DomainGuestInfo = {};
    if (key === AgentCommand.GET_OSINFO || key === AgentCommand.GET_INTERFACES || key === AgentCommand.GET_FSFREEZE_STATUS) {
      const osInfo = this.getGuestOSInfo();
      const interfaces = this.getInterfaceStatus();
      const fsFreeze = this.getFSFreezeStatus();
      if (osInfo) domainInfo.OSInfo = osInfo;
      if (interfaces) domainInfo.Interfaces = interfaces;
      if (fsFreeze) domainInfo.FSFreezeStatus = fsFreeze;
    }
    for (const listener of this.#listeners) listener({ key, domainInfo });
  }

  #get<K extends AgentCommand>(key: K): AgentData[K] | undefined {
    // Only store() writes the map, with the value type of its key.
    return this.#values.get(key) as AgentData[K] | undefined;
  }

  /** Hostname, OS and timezone together, zero-valued where the agent has not answered. */
  getSysInfo(): DomainSysInfo {
    return {
      hostname: this.#get(AgentCommand.GET_HOSTNAME) ?? '',
      osInfo: this.#get(AgentCommand.GET_OSINFO) ?? EMPTY_OS_INFO,
      timezone: this.#get(AgentCommand.GET_TIMEZONE) ?? { zone: '', offset: 0 },
    };
  }

  getInterfaceStatus(): InterfaceStatus[] | undefined {
    return this.#get(AgentCommand.GET_INTERFACES);
  }

  getGuestOSInfo(): GuestOSInfo | undefined {
    return this.#get(AgentCommand.GET_OSINFO);
  }

  /** The agent's version and commands; empty until guest-info answered. */
  getGA(): AgentInfo {
    return this.#get(AgentCommand.GET_AGENT) ?? { version: '', supportedCommands: [] };
  }

  getFSFreezeStatus(): FSFreeze | undefined {
    return this.#get(AgentCommand.GET_FSFREEZE_STATUS);
  }

  /** The first `limit` filesystems; -1 for all. */
  getFS(limit: number): Filesystem[] {
    return limited(this.#get(AgentCommand.GET_FILESYSTEM) ?? [], limit);
  }

  /** The first `limit` users; -1 for all. */
  getUsers(limit: number): User[] {
    return limited(this.#get(AgentCommand.GET_USERS) ?? [], limit);
  }

  /**
   * LibvirtDomainManager.GetGuestInfo: VirtualMachineInstanceGuestAgentInfo with at most ten users
   * and filesystems, keys as Go marshals them (omitempty ones left out when empty).
   */
  guestInfo(): VirtualMachineInstanceGuestAgentInfo {
    const sys = this.getSysInfo();
    const ga = this.getGA();
    const users = this.getUsers(GUEST_INFO_LIST_LIMIT).map(guestOSUser);
    const filesystems = this.getFS(GUEST_INFO_LIST_LIMIT).map(fileSystem);
    const fsFreeze = this.getFSFreezeStatus()?.Status ?? '';
    return {
      ...(ga.version ? { guestAgentVersion: ga.version } : {}),
      ...(ga.supportedCommands.length > 0 ? { supportedCommands: ga.supportedCommands } : {}),
      ...(sys.hostname ? { hostname: sys.hostname } : {}),
      os: vmiGuestOSInfo(sys.osInfo),
      timezone: `${sys.timezone.zone}, ${sys.timezone.offset}`,
      ...(users.length > 0 ? { userList: users } : {}),
      // A Go nil slice: null until there is a filesystem.
      fsInfo: { disks: filesystems.length > 0 ? filesystems : null },
      ...(fsFreeze ? { fsFreezeStatus: fsFreeze } : {}),
    };
  }

  /** LibvirtDomainManager.GetUsers: every user, as the bare array the launcher sends. */
  users(): VirtualMachineInstanceGuestOSUser[] {
    return this.getUsers(-1).map(guestOSUser);
  }

  /** LibvirtDomainManager.GetFilesystems: every filesystem, as the bare array the launcher sends. */
  filesystems(): VirtualMachineInstanceFileSystem[] {
    return this.getFS(-1).map(fileSystem);
  }

  /** The agent's part of Domain.Status, where the agent has answered (eventCallback / GetDomain). */
  overlay(domain: Domain): void {
    const interfaces = this.getInterfaceStatus();
    const osInfo = this.getGuestOSInfo();
    const fsFreeze = this.getFSFreezeStatus();
    if (interfaces) domain.Status.Interfaces = interfaces.map((i) => ({ ...i, IPs: i.IPs && [...i.IPs] }));
    if (osInfo) domain.Status.OSInfo = { ...osInfo };
    if (fsFreeze) domain.Status.FSFreezeStatus = { ...fsFreeze };
  }
}

/** The store as the DomainManager sees it. */
export type AgentStore = AsyncAgentStore;
