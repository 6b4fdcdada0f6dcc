// The VMI status virt-handler writes (pkg/virt-handler/vm.go updateVMIStatusFromDomain and
// calculateVmPhaseForStatusReason): pure functions of the VMI, its domain and the launcher's state.
import {
  ConditionStatus,
  SynchronizationFailedReason,
  VirtualMachineInstanceConditionReason as Reason,
  VirtualMachineInstanceConditionType as CondType,
  VirtualMachineInstancePhase as Phase,
  k8sTime,
  type Domain,
  type VirtualMachineInstance,
  type VirtualMachineInstanceCondition,
  type VirtualMachineInstanceNetworkInterface,
  type VirtualMachineInstanceStatus,
} from '@kubevirt-ts/shared';

export type LauncherState =
  /** the launcher socket answers */
  | 'ready'
  /** only launcher-init-sock, or no socket yet (inside the grace of a starting pod) */
  | 'initializing'
  /** the socket is gone with its pod, marked unresponsive by the watchdog, or never appeared */
  | 'unresponsive';

export interface StatusInput {
  vmi: VirtualMachineInstance;
  /** The domain from the DomainWatcher's cache; undefined when there is none. */
  domain: Domain | undefined;
  launcher: LauncherState;
  /** The SyncVirtualMachine error of this round, if any. */
  syncError?: string;
  now?: Date;
  /** The pod IPs phase 1 cached for a VMI interface (KubeVirt's pod interface cache). */
  podIfaceIPs?: PodIfaceIPs;
}

export type PodIfaceIPs = (interfaceName: string) => { podIP?: string; podIPs?: string[] } | undefined;

export const isFinal = (phase: string | undefined) => phase === Phase.Succeeded || phase === Phase.Failed;

/** The VMI's phase as a plain string ('' when unset). */
export const phaseOf = (vmi: VirtualMachineInstance): string => String(vmi.status?.phase ?? '');

/** A domain that is defined and not shut off (KubeVirt's domain "alive"). */
export function isDomainAlive(domain: Domain | undefined): boolean {
  if (!domain) return false;
  const s = domain.Status.Status;
  return s !== 'Shutoff' && s !== 'Crashed' && s !== '' && s !== 'NoState';
}

/**
 * isACPIEnabled: the domain has ACPI and the VMI a grace period, so a stop was first tried with the
 * power button and a Destroyed domain was killed after the grace period ran out — whoever killed it
 * (the handler on delete, or the launcher on SIGTERM).
 */
export function isACPIEnabled(vmi: VirtualMachineInstance, domain: Domain): boolean {
  return vmi.spec.terminationGracePeriodSeconds !== 0 && domain.Spec.Features?.ACPI != null;
}

/** calculateVmPhaseForStatusReason. */
export function calculatePhase(input: StatusInput): string {
  const { vmi, domain, launcher } = input;
  const phase = phaseOf(vmi);
  if (!domain) {
    if (phase === Phase.Scheduled || phase === Phase.Running) {
      return launcher === 'unresponsive' ? Phase.Failed : phase;
    }
    return isFinal(phase) ? phase : Phase.Scheduled;
  }
  const status = String(domain.Status.Status);
  const reason = String(domain.Status.Reason);
  switch (status) {
    case 'Shutoff':
    case 'Crashed':
      switch (reason) {
        case 'Crashed':
        case 'Panicked':
          return Phase.Failed;
        case 'Destroyed':
          return isACPIEnabled(vmi, domain) ? Phase.Failed : Phase.Succeeded;
        case 'Shutdown':
        case 'Saved':
        case 'FromSnapshot':
          return Phase.Succeeded;
        default:
          // Migrated, or a reason KubeVirt does not judge: the phase stays
          return phase;
      }
    case 'Paused':
      return reason === 'PostcopyFailed' ? Phase.Failed : Phase.Running;
    case 'Running':
    case 'Blocked':
    case 'PMSuspended':
      return Phase.Running;
    default:
      return phase;
  }
}

/** The new status; the input VMI is left alone. */
export function calculateStatus(input: StatusInput): VirtualMachineInstanceStatus {
  const { vmi, domain } = input;
  const now = k8sTime(input.now);
  const old = vmi.status ?? {};
  // Shallow: every nested field this changes is replaced, never edited in place.
  const status: VirtualMachineInstanceStatus = { ...old };
  const conditions = new Conditions(status.conditions ?? [], now);

  const phase = calculatePhase(input);
  if (phase !== phaseOf(vmi)) {
    status.phase = phase;
    status.phaseTransitionTimestamps = [...(old.phaseTransitionTimestamps ?? []), { phase, phaseTransitionTimestamp: now }];
  }

  if (domain && isDomainAlive(domain)) {
    // Paused, with KubeVirt's reasons
    if (domain.Status.Status === 'Paused') {
      const [reason, message] =
        domain.Status.Reason === 'IOError'
          ? [Reason.PausedIOError, 'VMI was paused, low-level IO error detected']
          : domain.Status.Reason === 'Migration'
            ? [Reason.PausedByMigrationMonitor, 'VMI was paused by Migration Monitor']
            : [Reason.PausedByUser, 'VMI was paused by user'];
      conditions.set(CondType.Paused, ConditionStatus.True, reason, message);
    } else {
      conditions.remove(CondType.Paused);
    }
    // AgentConnected from the guest agent channel's state
    const agent = (domain.Spec.Devices.Channels ?? []).find((c) => c.Target?.Name === 'org.qemu.guest_agent.0');
    if (agent?.Target?.State === 'connected') conditions.set(CondType.AgentConnected, ConditionStatus.True);
    else conditions.remove(CondType.AgentConnected);

    const os = domain.Status.OSInfo;
    if (os.Name) {
      status.guestOSInfo = {
        name: os.Name,
        kernelRelease: os.KernelRelease,
        version: os.Version,
        prettyName: os.PrettyName,
        versionId: os.VersionId,
        kernelVersion: os.KernelVersion,
        machine: os.Machine,
        id: os.Id,
      };
    }
    const frozen = domain.Status.FSFreezeStatus.Status;
    if (frozen === 'frozen') status.fsFreezeStatus = frozen;
    else delete status.fsFreezeStatus;
    if (domain.Spec.OS.Type.Machine) status.machine = { ...status.machine, type: domain.Spec.OS.Type.Machine };
    if (domain.Spec.CurrentMemory) {
      status.memory = { ...status.memory, guestCurrent: quantity(domain.Spec.CurrentMemory.Value, domain.Spec.CurrentMemory.Unit) };
    }
    status.interfaces = interfacesStatus(vmi, domain, input.podIfaceIPs);
    liveMigratable(vmi, conditions);
  } else if (domain === undefined || !isDomainAlive(domain)) {
    conditions.remove(CondType.Paused);
    conditions.remove(CondType.AgentConnected);
  }

  if (input.syncError !== undefined) {
    conditions.set(CondType.Synchronized, ConditionStatus.False, SynchronizationFailedReason, input.syncError);
  } else {
    conditions.remove(CondType.Synchronized);
  }
  status.conditions = conditions.list;
  return status;
}

/** Status fields KubeVirt compares with DeepEqual, as JSON: key order and undefined keys do not matter. */
export function statusEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => statusEqual(x, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const k in x) {
    if (x[k] === undefined) continue;
    defined++;
    if (!statusEqual(x[k], y[k])) return false;
  }
  for (const k in y) if (y[k] !== undefined) defined--;
  return defined === 0;
}

/**
 * updateVMIIfaceStatusWithGuestAgentData: per address family, the agent's IPs replace the status's
 * only when the status has none of that family or the agent reports none (the guest lost them).
 */
function mergeAgentIPs(status: string[], agent: string[]): string[] {
  const v4 = (l: string[]) => l.filter((ip) => !ip.includes(':'));
  const v6 = (l: string[]) => l.filter((ip) => ip.includes(':'));
  const pick = (s: string[], a: string[]) => (s.length === 0 || a.length === 0 ? a : s);
  return [...pick(v4(status), v4(agent)), ...pick(v6(status), v6(agent))];
}

/**
 * pkg/network/setup/netstat: one entry per spec interface (domain MAC, then the guest agent's IPs for
 * that MAC), then interfaces only the guest agent knows (not `lo`), marked by infoSource.
 */
export function interfacesStatus(
  vmi: VirtualMachineInstance,
  domain: Domain,
  podIfaceIPs?: PodIfaceIPs,
): VirtualMachineInstanceNetworkInterface[] {
  const fromAgent = domain.Status.Interfaces ?? [];
  const domainIfaces = domain.Spec.Devices.Interfaces ?? [];
  const out: VirtualMachineInstanceNetworkInterface[] = [];
  const usedMacs = new Set<string>();
  for (const iface of vmi.spec.domain.devices?.interfaces ?? []) {
    const dom = domainIfaces.find((d) => d.Alias?.Name === `ua-${iface.name}` || d.Alias?.Name === iface.name);
    const mac = (dom?.MAC?.MAC ?? iface.macAddress ?? '').toLowerCase();
    const agent = mac ? fromAgent.find((a) => a.Mac.toLowerCase() === mac) : undefined;
    if (mac) usedMacs.add(mac);
    const entry: VirtualMachineInstanceNetworkInterface = { name: iface.name, infoSource: agent ? 'domain, guest-agent' : 'domain' };
    if (mac) entry.mac = mac;
    // the pod IPs first (a masquerade guest is reached at its pod's IP), then the agent's
    const cached = podIfaceIPs?.(iface.name);
    let ips = cached?.podIPs ?? (cached?.podIP ? [cached.podIP] : []);
    if (agent) {
      entry.interfaceName = agent.InterfaceName;
      ips = mergeAgentIPs(ips, agent.IPs ?? (agent.Ip ? [agent.Ip] : []));
    }
    if (ips.length > 0) {
      entry.ipAddress = ips[0];
      entry.ipAddresses = ips;
    }
    if (dom?.LinkState?.State) entry.linkState = dom.LinkState.State;
    out.push(entry);
  }
  for (const agent of fromAgent) {
    if (agent.InterfaceName === 'lo' || usedMacs.has(agent.Mac.toLowerCase())) continue;
    const entry: VirtualMachineInstanceNetworkInterface = { infoSource: 'guest-agent', interfaceName: agent.InterfaceName, mac: agent.Mac };
    if (agent.Ip) entry.ipAddress = agent.Ip;
    if (agent.IPs?.length) entry.ipAddresses = agent.IPs;
    out.push(entry);
  }
  return out;
}

/**
 * What LiveMigratable says while no migration RPC is implemented (the launcher answers
 * MigrateVirtualMachine and SyncMigrationTarget with UNIMPLEMENTED): KubeVirt's generic reason, its
 * "details in the message" one, since none of its specific reasons (disks, interface, CPU mode, …) fits.
 */
export const MIGRATION_NOT_IMPLEMENTED_MESSAGE = 'live migration is not implemented by this virt-handler and virt-launcher';

/**
 * calculateLiveMigrationCondition: the reasons KubeVirt checks, in its order, come first (a bridge on
 * the pod network → InterfaceNotLiveMigratable); a VMI KubeVirt would call migratable is still False
 * here, with NotMigratable, because nothing on this node can migrate it.
 */
function liveMigratable(vmi: VirtualMachineInstance, conditions: Conditions): void {
  const podNetworks = new Set((vmi.spec.networks ?? []).filter((n) => n.pod !== undefined).map((n) => n.name));
  const bridged = (vmi.spec.domain.devices?.interfaces ?? []).find((i) => i.bridge !== undefined && podNetworks.has(i.name));
  if (bridged) {
    conditions.set(
      CondType.LiveMigratable,
      ConditionStatus.False,
      Reason.InterfaceNotLiveMigratable,
      'cannot migrate VMI which does not use masquerade, bridge with kubevirt.io/allow-pod-bridge-network-live-migration VM annotation or a migratable plugin to connect to the pod network',
    );
  } else {
    conditions.set(CondType.LiveMigratable, ConditionStatus.False, Reason.NotMigratable, MIGRATION_NOT_IMPLEMENTED_MESSAGE);
  }
}

/** api.Memory (Value + Unit) as a resource.Quantity string. */
export function quantity(value: number, unit: string): string {
  const factor: Record<string, number> = {
    b: 1,
    bytes: 1,
    KiB: 1024,
    k: 1024,
    MiB: 1024 ** 2,
    M: 1024 ** 2,
    GiB: 1024 ** 3,
    G: 1024 ** 3,
    TiB: 1024 ** 4,
    T: 1024 ** 4,
  };
  const bytes = value * (factor[unit] ?? 1);
  for (const [suffix, size] of [
    ['Ti', 1024 ** 4],
    ['Gi', 1024 ** 3],
    ['Mi', 1024 ** 2],
    ['Ki', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** KubeVirt's condition manager: a condition's lastTransitionTime changes only with its status. */
class Conditions {
  list: VirtualMachineInstanceCondition[];
  readonly #now: string;
  constructor(list: readonly VirtualMachineInstanceCondition[], now: string) {
    this.list = list.map((c) => ({ ...c }));
    this.#now = now;
  }
  set(type: string, status: string, reason?: string, message?: string): void {
    const existing = this.list.find((c) => c.type === type);
    if (existing && existing.status === status && existing.reason === reason && existing.message === message) return;
    const next: VirtualMachineInstanceCondition = {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: existing?.status === status ? existing.lastTransitionTime : this.#now,
    };
    if (reason) next.reason = reason;
    if (message) next.message = message;
    this.list = [...this.list.filter((c) => c.type !== type), next];
  }
  remove(type: string): void {
    this.list = this.list.filter((c) => c.type !== type);
  }
}
