// The VMI status virt-handler writes (pkg/virt-handler/vm.go updateVMIStatus: updateVMIStatusFromDomain,
// calculateVmPhaseForStatusReason, updateVMIConditions, handleSyncError; interfaces as
// pkg/network/setup/netstat.go merges them): pure functions of the VMI, its domain, the launcher's state
// and what the controller read this round (pod IPs, GetGuestInfo, ISO sizes, SELinux).
import { isIPv4, isIPv6 } from 'node:net';
import { posix } from 'node:path';
import { isHotplugVolume, specVolumeNames } from './hotplug-disk/mounter.ts';
import {
  ConditionStatus,
  EphemeralDiskDir,
  FSThawed,
  VirtPrivateDir,
  SynchronizationFailedReason,
  VirtualMachineInstanceConditionReason as Reason,
  VirtualMachineInstanceConditionType as CondType,
  VirtualMachineInstancePhase as Phase,
  k8sTime,
  type Domain,
  type InterfaceStatus,
  type Volume,
  type VolumeStatus,
  type VirtualMachineInstance,
  type VirtualMachineInstanceCondition,
  type VirtualMachineInstanceNetworkInterface,
  type VirtualMachineInstanceStatus,
  vmiGuestOSInfo,
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
  /** The sync error is one KubeVirt fails the VMI for (a critical network error). */
  syncErrorIsCritical?: boolean;
  /** This node's name (isMigrationSource). */
  host?: string;
  /** GetGuestInfo's answer while the agent is connected; undefined when not asked. */
  guestAgent?: GuestAgentFacts;
  /** Reads the size of a file in the launcher pod (updateIsoSizeStatus). */
  isoSizes?: IsoSizeOf;
  /** The launcher's SELinux context, `none` without SELinux; undefined leaves the field alone. */
  selinuxContext?: string;
  /** Whether a hotplugged volume is mounted in the launcher pod (the hotplug mounter's IsMounted); false when not given. */
  hotplugMounted?: HotplugMounted;
  /**
   * The node labeller's host-model CPU ('' without node-labeller files): a host-model VMI does not
   * migrate from a node that has none. Undefined: not checked.
   */
  hostCPUModel?: string;
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
  const old = vmi.status ?? {};
  // updateVMIStatus: a VMI in a final phase is never written again
  if (isFinal(phaseOf(vmi))) return { ...old };
  const now = k8sTime(input.now);
  // Shallow: every nested field this changes is replaced, never edited in place.
  const status: VirtualMachineInstanceStatus = { ...old };
  const conditions = new Conditions(status.conditions ?? [], now);

  // updateVMIStatusFromDomain
  if (input.isoSizes) isoSizes(vmi, status, input.isoSizes);
  if (input.selinuxContext !== undefined) status.selinuxContext = input.selinuxContext;
  if (domain) {
    const os = domain.Status.OSInfo;
    if (os.Name && os.Name !== old.guestOSInfo?.name) status.guestOSInfo = vmiGuestOSInfo(os);
  }
  if (status.volumeStatus?.length) {
    status.volumeStatus = volumeStatuses(status.volumeStatus, domain, vmi, input.hotplugMounted, input.now);
  }
  if (domain) {
    const frozen = domain.Status.FSFreezeStatus.Status;
    if (frozen === FSThawed) delete status.fsFreezeStatus;
    else if (frozen) status.fsFreezeStatus = frozen;
    if (domain.Spec.OS.Type.Machine) status.machine = { ...status.machine, type: domain.Spec.OS.Type.Machine };
    if (domain.Spec.CurrentMemory) {
      status.memory = { ...status.memory, guestCurrent: quantity(domain.Spec.CurrentMemory.Value, domain.Spec.CurrentMemory.Unit) };
    }
    status.interfaces = interfacesStatus(vmi, domain, input.podIfaceIPs);
  }

  const phase = calculatePhase(input);
  if (phase !== phaseOf(vmi)) status.phase = phase;

  // updateVMIConditions
  liveMigrationConditions(vmi, status, conditions, input.hostCPUModel);
  agentConditions(vmi, domain, input.guestAgent, conditions);
  accessCredentialCondition(domain, conditions);
  pausedCondition(vmi, domain, input.host, conditions);

  // handleSyncError: a critical error fails the VMI; any error is Synchronized=False
  if (input.syncError !== undefined && input.syncErrorIsCritical) status.phase = Phase.Failed;
  conditions.checkFailure(input.syncError);

  // SetVMIPhaseTransitionTimestamp
  const newPhase = status.phase ?? '';
  if (newPhase !== (old.phase ?? '') && !(old.phaseTransitionTimestamps ?? []).some((t) => t.phase === newPhase)) {
    status.phaseTransitionTimestamps = [...(old.phaseTransitionTimestamps ?? []), { phase: newPhase, phaseTransitionTimestamp: now }];
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

// --- interfaces (pkg/network/setup/netstat.go UpdateStatus) ---------------------------------------

export const InfoSourceDomain = 'domain';
export const InfoSourceGuestAgent = 'guest-agent';
export const InfoSourceMultusStatus = 'multus-status';
export const InfoSourceDomainAndGA = `${InfoSourceDomain}, ${InfoSourceGuestAgent}`;
/** deviceinfo.SRIOVAliasPrefix: an SR-IOV NIC is a host device aliased `sriov-<name>`. */
const SRIOVAliasPrefix = 'sriov-';
/** netstat: DefaultInterfaceQueueCount, a domain NIC without driver queues. */
const DefaultInterfaceQueueCount = 1;
/** netstat: at most this many interfaces only the guest agent knows are reported. */
const GuestOnlyInterfaceLimit = 10;

const infoSources = (s: string | undefined) => (s ? s.split(', ') : []);
const addInfoSource = (s: string | undefined, name: string) =>
  infoSources(s).includes(name) ? (s ?? name) : [...infoSources(s), name].join(', ');

type MutableIface = {
  name: string;
  mac: string;
  ipAddress: string;
  ipAddresses: string[];
  podInterfaceName: string;
  interfaceName: string;
  infoSource: string;
  queueCount: number;
  linkState: string;
};

const newIface = (init: Partial<MutableIface>): MutableIface => ({
  name: '',
  mac: '',
  ipAddress: '',
  ipAddresses: [],
  podInterfaceName: '',
  interfaceName: '',
  infoSource: '',
  queueCount: 0,
  linkState: '',
  ...init,
});

/** As json.Marshal writes it: every field of VirtualMachineInstanceNetworkInterface is omitempty. */
function ifaceJSON(i: MutableIface): VirtualMachineInstanceNetworkInterface {
  const out: VirtualMachineInstanceNetworkInterface = {};
  if (i.ipAddress) out.ipAddress = i.ipAddress;
  if (i.mac) out.mac = i.mac;
  if (i.name) out.name = i.name;
  if (i.ipAddresses.length > 0) out.ipAddresses = i.ipAddresses;
  if (i.podInterfaceName) out.podInterfaceName = i.podInterfaceName;
  if (i.interfaceName) out.interfaceName = i.interfaceName;
  if (i.infoSource) out.infoSource = i.infoSource;
  if (i.queueCount) out.queueCount = i.queueCount;
  if (i.linkState) out.linkState = i.linkState;
  return out;
}

/** splitIPByFamiliy: unparsable addresses are dropped. */
function splitByFamily(ips: readonly string[]): [string[], string[]] {
  return [ips.filter((ip) => isIPv4(ip)), ips.filter((ip) => isIPv6(ip))];
}

/** filterOutLinkLocalAddresses (netip IsLinkLocalUnicast): fe80::/10 and 169.254.0.0/16, and anything unparsable. */
function withoutLinkLocal(ips: readonly string[]): string[] {
  return ips.filter((ip) => {
    if (isIPv4(ip)) return !ip.startsWith('169.254.');
    if (isIPv6(ip)) return !/^fe[89ab]/i.test(ip);
    return false;
  });
}

/**
 * updateVMIIfaceStatusWithGuestAgentData: per address family, the agent's IPs replace the status's
 * only when the status has none of that family or the agent reports none (the guest lost them).
 */
function mergeAgentData(status: MutableIface, agent: InterfaceStatus, ips: readonly string[]): void {
  status.interfaceName = agent.InterfaceName;
  let [v4, v6] = splitByFamily(status.ipAddresses);
  const [agentV4, agentV6] = splitByFamily(ips);
  if (v4.length === 0 || agentV4.length === 0) v4 = agentV4;
  if (v6.length === 0 || agentV6.length === 0) v6 = agentV6;
  status.ipAddresses = [...v4, ...v6];
  status.ipAddress = status.ipAddresses[0] ?? '';
}

/**
 * NetStat.UpdateStatus: one entry per domain NIC (and SR-IOV host device) with its MAC, queues and
 * link state; the pod IPs phase 1 cached for it; the guest agent's data for its MAC; interfaces only
 * the agent knows; the pod network's entry first; what virt-controller took from multus kept (infoSource
 * `multus-status`); podInterfaceName as virt-controller wrote it.
 */
export function interfacesStatus(
  vmi: VirtualMachineInstance,
  domain: Domain,
  podIfaceIPs?: PodIfaceIPs,
): VirtualMachineInstanceNetworkInterface[] {
  const previous = vmi.status?.interfaces ?? [];
  const specIfaces = vmi.spec.domain.devices?.interfaces ?? [];
  const specByName = new Map(specIfaces.map((i) => [i.name, i]));

  let out: MutableIface[] = (domain.Spec.Devices.Interfaces ?? []).map((d) =>
    newIface({
      name: d.Alias?.Name ?? '',
      mac: d.MAC?.MAC ?? '',
      infoSource: InfoSourceDomain,
      queueCount: d.Driver?.Queues ?? DefaultInterfaceQueueCount,
      linkState: d.LinkState ? d.LinkState.State : 'up',
    }),
  );
  for (const hostDev of domain.Spec.Devices.HostDevices ?? []) {
    const alias = (hostDev as { Alias?: { Name?: unknown } | null }).Alias?.Name;
    if (typeof alias !== 'string' || !alias.startsWith(SRIOVAliasPrefix)) continue;
    const name = alias.slice(SRIOVAliasPrefix.length);
    out.push(newIface({ name, mac: specByName.get(name)?.macAddress ?? '', infoSource: InfoSourceDomain }));
  }

  // updateIfacesStatusFromPodCache: the cache's IPs (none if nothing was cached) for each spec NIC
  for (const iface of specIfaces) {
    const entry = out.find((e) => e.name === iface.name);
    if (!entry) continue;
    const cached = podIfaceIPs?.(iface.name);
    entry.ipAddress = cached?.podIP ?? '';
    entry.ipAddresses = cached?.podIPs ?? [];
  }

  // ifacesStatusFromGuestAgent
  let guestOnly = 0;
  for (const agent of domain.Status.Interfaces ?? []) {
    const entry = out.find((e) => e.mac === agent.Mac);
    if (entry) {
      // a masquerade guest's link-local addresses are not reachable through the pod's NAT
      const ips = specByName.get(entry.name)?.masquerade !== undefined ? withoutLinkLocal(agent.IPs ?? []) : (agent.IPs ?? []);
      mergeAgentData(entry, agent, ips);
      // an empty InterfaceName: merged from the domain spec by an old launcher, not the agent's
      if (agent.InterfaceName !== '') entry.infoSource = InfoSourceDomainAndGA;
    } else if (guestOnly < GuestOnlyInterfaceLimit) {
      guestOnly++;
      out.push(
        newIface({
          mac: agent.Mac,
          ipAddress: agent.Ip,
          ipAddresses: agent.IPs ?? [],
          interfaceName: agent.InterfaceName,
          infoSource: InfoSourceGuestAgent,
        }),
      );
    }
  }

  // the pod network's NIC first (the VMI CRD's wide columns); kept by name if the domain lost it
  const primary = (vmi.spec.networks ?? []).find((n) => n.pod !== undefined)?.name;
  if (primary !== undefined) {
    if (!out.some((e) => e.name === primary) && previous.some((p) => p.name === primary)) {
      out.unshift(newIface({ name: primary }));
    }
    const at = out.findIndex((e) => e.name === primary);
    if (at > 0) out = [out[at]!, ...out.slice(0, at), ...out.slice(at + 1)];
  }

  // ifacesStatusFromMultus: what virt-controller reported from the pod's network-status annotation
  for (const p of previous) {
    if (!p.name || !infoSources(p.infoSource).includes(InfoSourceMultusStatus)) continue;
    const entry = out.find((e) => e.name === p.name);
    if (entry) entry.infoSource = addInfoSource(entry.infoSource, InfoSourceMultusStatus);
    else if (specByName.has(p.name)) out.push(newIface({ name: p.name, infoSource: InfoSourceMultusStatus }));
  }

  // restorePodIfaceNames: podInterfaceName is virt-controller's to write
  for (const entry of out) {
    if (entry.name) entry.podInterfaceName = previous.find((p) => p.name === entry.name)?.podInterfaceName ?? '';
  }
  return out.map(ifaceJSON);
}

// --- volumes (updateVolumeStatusesFromDomain, updateIsoSizeStatus) --------------------------------

/** v1.VolumePhase values of a hotplugged volume (virt-controller writes the first three and Detaching). */
export const VolumePhase = {
  Pending: 'Pending',
  Bound: 'Bound',
  AttachedToNode: 'AttachedToNode',
  MountedToPod: 'MountedToPod',
  Ready: 'Ready',
  UnMountedFromPod: 'UnMountedFromPod',
  Detaching: 'Detaching',
  // a memory dump volume (v1.MemoryDumpVolume*): virt-handler writes these
  MemoryDumpInProgress: 'MemoryDumpInProgress',
  MemoryDumpCompleted: 'MemoryDumpCompleted',
  MemoryDumpFailed: 'MemoryDumpFailed',
} as const;

/** virt-handler's reasons for the phases it writes (pkg/virt-handler/controller.go). */
export const VolumeReadyReason = 'VolumeReady';
export const VolumeMountedToPodReason = 'VolumeMountedToPod';
export const VolumeUnMountedFromPodReason = 'VolumeUnMountedFromPod';
/** The Event of a volume status that went away. */
export const VolumeUnplugged = 'VolumeUnplugged';

export type HotplugMounted = (volumeName: string) => boolean;

/** canUpdateToMounted */
const canUpdateToMounted = (phase: string | undefined) =>
  phase === VolumePhase.Bound || phase === VolumePhase.Pending || phase === VolumePhase.AttachedToNode;
/** canUpdateToUnmounted */
const canUpdateToUnmounted = (phase: string | undefined) =>
  phase === VolumePhase.Ready || phase === VolumePhase.MountedToPod || phase === VolumePhase.AttachedToNode;

/**
 * updateVolumeStatusesFromDomain: each volume status virt-controller created gets the target device
 * of the domain disk of that volume ("" while there is none; empty CD-ROMs do not count). A hotplugged
 * volume (updateHotplugVolumeStatus) with a target is Ready; without one it is MountedToPod once the
 * handler mounted it into the launcher pod and it is still in the spec, UnMountedFromPod once it is
 * neither mounted nor in the spec (virt-controller then deletes its attachment pod and the entry).
 * A memory dump volume goes on from MountedToPod (updateMemoryDumpInfo). Sorted by name.
 */
export function volumeStatuses(
  list: readonly VolumeStatus[],
  domain: Domain | undefined,
  vmi?: VirtualMachineInstance,
  mounted: HotplugMounted = () => false,
  now: Date = new Date(),
): VolumeStatus[] {
  const targets = new Map<string, string>();
  for (const disk of domain?.Spec.Devices.Disks ?? []) {
    if (disk.Source.File !== '' || disk.Source.Dev !== '') targets.set(disk.Alias?.Name ?? '', disk.Target.Device);
  }
  const inSpec = vmi ? specVolumeNames(vmi) : new Set<string>();
  const out = list.map((v) => {
    const hotplugged = hotplugVolumeStatus(v, targets.get(v.name) ?? '', inSpec, mounted);
    return hotplugged.memoryDumpVolume ? updateMemoryDumpInfo(vmi?.metadata.name ?? '', hotplugged, domain, now) : hotplugged;
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** updateHotplugVolumeStatus, with the volume's target from the domain already looked up. */
function hotplugVolumeStatus(v: VolumeStatus, target: string, inSpec: ReadonlySet<string>, mounted: HotplugMounted): VolumeStatus {
  const next: VolumeStatus = { ...v, target };
  if (!next.hotplugVolume) return next;
  if (next.target !== '') {
    next.phase = VolumePhase.Ready;
    next.message = `Successfully attach hotplugged volume ${v.name} to VM`;
    next.reason = VolumeReadyReason;
  } else if (mounted(v.name)) {
    if (inSpec.has(v.name) && canUpdateToMounted(next.phase)) {
      next.phase = VolumePhase.MountedToPod;
      next.message = `Volume ${v.name} has been mounted in virt-launcher pod`;
      next.reason = VolumeMountedToPodReason;
    }
  } else if (!inSpec.has(v.name) && canUpdateToUnmounted(next.phase)) {
    next.phase = VolumePhase.UnMountedFromPod;
    next.message = `Volume ${v.name} has been unmounted from virt-launcher pod`;
    next.reason = VolumeUnMountedFromPodReason;
  }
  return next;
}

/** dumpTargetFile: `<vmi>-<volume>-<YYYYMMDD-HHMMSS>.memory.dump`, the handler's clock (UTC, as its pod's). */
export function dumpTargetFile(vmiName: string, volumeName: string, now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${vmiName}-${volumeName}-${stamp}.memory.dump`;
}

/**
 * updateMemoryDumpInfo: a mounted memory dump volume is InProgress with the file to dump to; it is
 * Completed or Failed once the domain's metadata reports that file's dump done. The metadata of
 * another file (an earlier dump) is not this one's.
 */
export function updateMemoryDumpInfo(vmiName: string, v: VolumeStatus, domain: Domain | undefined, now: Date): VolumeStatus {
  const info = v.memoryDumpVolume;
  if (!info) return v;
  if (v.phase === VolumePhase.MountedToPod) {
    return {
      ...v,
      phase: VolumePhase.MemoryDumpInProgress,
      message: `Memory dump Volume ${v.name} is attached, getting memory dump`,
      reason: VolumeMountedToPodReason,
      memoryDumpVolume: { ...info, targetFileName: dumpTargetFile(vmiName, v.name, now) },
    };
  }
  if (v.phase !== VolumePhase.MemoryDumpInProgress) return v;
  const meta = domain?.Spec.Metadata.KubeVirt.MemoryDump;
  // not triggered yet: the launcher has not taken this file up
  if (!meta || meta.FileName !== info.targetFileName) return v;
  const next: VolumeStatus = {
    ...v,
    memoryDumpVolume: { ...info, ...(meta.StartTimestamp ? { startTimestamp: meta.StartTimestamp } : {}) },
  };
  if (meta.EndTimestamp && meta.Failed) {
    next.message = `Memory dump to pvc ${v.name} failed: ${meta.FailureReason}`;
    next.phase = VolumePhase.MemoryDumpFailed;
    next.memoryDumpVolume = { ...next.memoryDumpVolume, endTimestamp: meta.EndTimestamp };
  } else if (meta.Completed) {
    next.phase = VolumePhase.MemoryDumpCompleted;
    next.message = `Memory dump to Volume ${v.name} has completed successfully`;
    next.reason = VolumeReadyReason;
    if (meta.EndTimestamp) next.memoryDumpVolume = { ...next.memoryDumpVolume, endTimestamp: meta.EndTimestamp };
  }
  return next;
}

/**
 * The needsRefresh of updateVolumeStatusesFromDomain: a hotplugged volume without a domain disk is
 * looked at again (a memory dump volume never has one), as is a memory dump in progress.
 */
export function hotplugVolumesPending(status: VirtualMachineInstanceStatus): boolean {
  return (status.volumeStatus ?? []).some(
    (v) => (v.hotplugVolume && v.target === '') || (v.memoryDumpVolume && v.phase === VolumePhase.MemoryDumpInProgress),
  );
}

/** generateEventsForVolumeStatusChange: a changed phase, a new status, or one that went away. */
export function volumeStatusEvents(old: readonly VolumeStatus[], next: readonly VolumeStatus[]): { reason: string; message: string }[] {
  const byName = new Map(next.map((v) => [v.name, v]));
  const events: { reason: string; message: string }[] = [];
  for (const before of old) {
    const after = byName.get(before.name);
    byName.delete(before.name);
    if (!after) events.push({ reason: VolumeUnplugged, message: `Volume ${before.name} has been unplugged` });
    else if (after.phase !== before.phase) events.push({ reason: after.reason ?? '', message: after.message ?? '' });
  }
  for (const added of byName.values()) events.push({ reason: added.reason ?? '', message: added.message ?? '' });
  return events;
}

/** hotplugVolumesReady: a VMI with hotplug volumes starts only once each is mounted (or attached). */
export function hotplugVolumesReady(vmi: VirtualMachineInstance): boolean {
  const hasHotplug = (vmi.spec.volumes ?? []).some(isHotplugVolume) || (vmi.spec.utilityVolumes ?? []).length > 0;
  if (!hasHotplug) return true;
  const statuses = vmi.status?.volumeStatus ?? [];
  if (statuses.length === 0) return false;
  return statuses.every((s) => !s.hotplugVolume || s.phase === VolumePhase.Ready || s.phase === VolumePhase.MountedToPod);
}

/** The size of a file in the VMI's launcher pod, by its path inside the pod; undefined when it cannot be read. */
export type IsoSizeOf = (podPath: string) => number | undefined;

/** IsoGuestVolumePath: where the launcher made the ISO of a config volume ("" for other volumes). */
export function isoGuestVolumePath(namespace: string, name: string, volume: Volume): string {
  if (volume.cloudInitNoCloud) return posix.join(EphemeralDiskDir, 'cloud-init-data', namespace, name, 'noCloud.iso');
  if (volume.cloudInitConfigDrive) return posix.join(EphemeralDiskDir, 'cloud-init-data', namespace, name, 'configdrive.iso');
  if (volume.configMap) return posix.join(VirtPrivateDir, 'config-map-disks', `${volume.name}.iso`);
  if (volume.downwardAPI) return posix.join(VirtPrivateDir, 'downwardapi-disks', `${volume.name}.iso`);
  if (volume.secret) return posix.join(VirtPrivateDir, 'secret-disks', `${volume.name}.iso`);
  if (volume.serviceAccount) return posix.join(VirtPrivateDir, 'service-account-disk', 'service-account.iso');
  if (volume.sysprep) return posix.join(VirtPrivateDir, 'sysprep-disks', `${volume.name}.iso`);
  return '';
}

/** updateIsoSizeStatus: a Running VMI's ISO-backed disks get their file's size in their volume status. */
function isoSizes(vmi: VirtualMachineInstance, status: VirtualMachineInstanceStatus, sizeOf: IsoSizeOf): void {
  if (phaseOf(vmi) !== Phase.Running || !status.volumeStatus) return;
  // the pod on this VMI's node must be known (activePods), as KubeVirt requires
  const nodeName = status.nodeName ?? '';
  if (!Object.values(status.activePods ?? {}).some((node) => node === nodeName)) return;
  const volumes = new Map((vmi.spec.volumes ?? []).map((v) => [v.name, v]));
  const sizes = new Map<string, number>();
  for (const disk of vmi.spec.domain.devices?.disks ?? []) {
    const volume = volumes.get(disk.name);
    if (!volume) continue;
    const path = isoGuestVolumePath(vmi.metadata.namespace, vmi.metadata.name, volume);
    if (path === '') continue;
    const size = sizeOf(path);
    if (size !== undefined) sizes.set(volume.name, size);
  }
  if (sizes.size === 0) return;
  status.volumeStatus = status.volumeStatus.map((v) => (sizes.has(v.name) ? { ...v, size: sizes.get(v.name)! } : v));
}

// --- conditions (updateVMIConditions) -------------------------------------------------------------

/** v1.AllowPodBridgeNetworkLiveMigrationAnnotation */
export const AllowPodBridgeNetworkLiveMigrationAnnotation = 'kubevirt.io/allow-pod-bridge-network-live-migration';

/** netvmispec.VerifyVMIMigratable, without binding plugins (the handler gets none from its cluster config). */
function interfaceNotMigratable(vmi: VirtualMachineInstance): string | undefined {
  const ifaces = vmi.spec.domain.devices?.interfaces ?? [];
  if (ifaces.length === 0) return undefined;
  const podNetwork = (vmi.spec.networks ?? []).find((n) => n.pod !== undefined);
  if (!podNetwork) return undefined;
  const primary = ifaces.find((i) => i.name === podNetwork.name);
  if (!primary) return `no primary interface found for network ${podNetwork.name}`;
  if (primary.masquerade !== undefined || primary.passt !== undefined) return undefined;
  if (primary.bridge !== undefined && vmi.metadata.annotations?.[AllowPodBridgeNetworkLiveMigrationAnnotation] !== undefined) {
    return undefined;
  }
  return 'cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network';
}

/** vmiContainsNonMigratablePCIHostDevices, as far as it needs no cluster config (generic host devices, GPUs). */
function hostDeviceNotMigratable(vmi: VirtualMachineInstance): string | undefined {
  const devices = vmi.spec.domain.devices;
  if ((devices?.hostDevices ?? []).length > 0) return 'VMI specifies non-migratable generic PCI host device';
  if ((devices?.gpus ?? []).length > 1) return 'VMI specifies too many GPUs';
  return undefined;
}

/** util.IsSEVVMI / IsTDXVMI: the VMI's memory is encrypted for its host. */
function launchSecurityNotMigratable(vmi: VirtualMachineInstance): [string, string] | undefined {
  const ls = vmi.spec.domain.launchSecurity as { sev?: unknown; snp?: unknown; tdx?: unknown } | undefined;
  if (ls?.sev != null || ls?.snp != null) return [Reason.SEVNotLiveMigratable, 'VMI uses SEV'];
  if (ls?.tdx != null) return [Reason.TDXNotLiveMigratable, 'VMI uses TDX'];
  return undefined;
}

/** reservation.HasVMIPersistentReservation: a LUN disk with SCSI persistent reservation. */
function persistentReservation(vmi: VirtualMachineInstance): boolean {
  return (vmi.spec.domain.devices?.disks ?? []).some((d) => (d.lun as { reservation?: unknown } | undefined)?.reservation === true);
}

function hypervPassthrough(vmi: VirtualMachineInstance): boolean {
  const hp = (vmi.spec.domain.features as { hypervPassthrough?: { enabled?: unknown } } | undefined)?.hypervPassthrough;
  return hp?.enabled === true;
}

/**
 * checkVolumesForMigration: block migration unless every volume is shared (RWX PVC or DataVolume, a
 * shared hostDisk), a virtiofs filesystem or a read-only CD-ROM; an error for a disk that cannot move.
 */
export function checkVolumesForMigration(vmi: VirtualMachineInstance): { block: boolean; error?: string } {
  const statusByName = new Map((vmi.status?.volumeStatus ?? []).map((v) => [v.name, v]));
  const migrated = new Set(
    (vmi.status?.migratedVolumes ?? []).map((v) => (v as { volumeName?: unknown }).volumeName).filter((n) => typeof n === 'string'),
  );
  const rwx = (info: unknown) => {
    const modes = (info as { accessModes?: unknown } | undefined)?.accessModes;
    return Array.isArray(modes) && modes.includes('ReadWriteMany');
  };
  const claimName = (info: unknown) => String((info as { claimName?: unknown } | undefined)?.claimName ?? '');
  const filesystems = new Set((vmi.spec.domain.devices?.filesystems ?? []).map((f) => (f as { name?: unknown }).name));
  let block = migrated.size > 0;
  for (const volume of vmi.spec.volumes ?? []) {
    if (volume.persistentVolumeClaim !== undefined || volume.dataVolume !== undefined) {
      const source = (volume.persistentVolumeClaim ?? volume.dataVolume) as { claimName?: unknown; name?: unknown };
      const claim = String(volume.persistentVolumeClaim !== undefined ? source.claimName : source.name);
      const info = statusByName.get(volume.name)?.persistentVolumeClaimInfo;
      if (info == null) {
        return {
          block: true,
          error: `cannot migrate VMI: Unable to determine if PVC ${claim} is shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)`,
        };
      }
      if (!rwx(info) && !migrated.has(volume.name)) {
        return {
          block: true,
          error: `cannot migrate VMI: PVC ${claim} is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)`,
        };
      }
    } else if (volume.hostDisk !== undefined) {
      const info = statusByName.get(volume.name)?.persistentVolumeClaimInfo;
      if (info != null) {
        if (!rwx(info) && !migrated.has(volume.name)) {
          return {
            block: true,
            error: `cannot migrate VMI: PVC ${claimName(info)} is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)`,
          };
        }
        continue;
      }
      if ((volume.hostDisk as { shared?: unknown }).shared !== true)
        return { block: true, error: 'cannot migrate VMI with non-shared HostDisk' };
    } else {
      if (filesystems.has(volume.name)) continue;
      const readOnlyCDRom = (vmi.spec.domain.devices?.disks ?? []).some(
        (d) => d.name === volume.name && d.cdrom !== undefined && d.cdrom.readonly !== false,
      );
      if (readOnlyCDRom) continue;
      block = true;
    }
  }
  return { block };
}

/** isHostModelMigratable */
function hostModelNotMigratable(vmi: VirtualMachineInstance, hostCPUModel: string | undefined): string | undefined {
  if (hostCPUModel === undefined || hostCPUModel !== '' || vmi.spec.domain.cpu?.model !== 'host-model') return undefined;
  return `the node "${vmi.status?.nodeName ?? ''}" does not allow migration with host-model`;
}

/**
 * updateLiveMigrationConditions. LiveMigratable: KubeVirt's checks in its order (interface, host-model
 * CPU, host devices, SEV/TDX, hyperv passthrough, disks; not the TSC one, which needs the node's
 * labels), the first reason found, else True. migrationMethod from the volumes. StorageLiveMigratable:
 * every reason KubeVirt lists, joined, else True.
 */
function liveMigrationConditions(
  vmi: VirtualMachineInstance,
  status: VirtualMachineInstanceStatus,
  conditions: Conditions,
  hostCPUModel: string | undefined,
): void {
  const volumes = checkVolumesForMigration(vmi);
  const iface = interfaceNotMigratable(vmi);
  const hostDev = hostDeviceNotMigratable(vmi);
  const security = launchSecurityNotMigratable(vmi);
  const hyperv = hypervPassthrough(vmi) ? 'VMI uses hyperv passthrough' : undefined;
  const hostModel = hostModelNotMigratable(vmi, hostCPUModel);
  const notMigratable: [string, string] | undefined = iface
    ? [Reason.InterfaceNotLiveMigratable, iface]
    : hostModel
      ? [Reason.CPUModeLiveMigratable, hostModel]
      : hostDev
        ? [Reason.HostDeviceNotLiveMigratable, hostDev]
        : security
          ? security
          : hyperv
            ? [Reason.HypervPassthroughNotLiveMigratable, hyperv]
            : volumes.error
              ? [Reason.DisksNotLiveMigratable, volumes.error]
              : undefined;
  conditions.replaceUnlessEqual(
    notMigratable
      ? { type: CondType.LiveMigratable, status: ConditionStatus.False, reason: notMigratable[0], message: notMigratable[1] }
      : { type: CondType.LiveMigratable, status: ConditionStatus.True },
  );
  status.migrationMethod = volumes.block ? 'BlockMigration' : 'LiveMigration';

  const reasons: Array<[string, string]> = [];
  if (iface) reasons.push([Reason.InterfaceNotLiveMigratable, iface]);
  if (hostModel) reasons.push([Reason.CPUModeLiveMigratable, hostModel]);
  if (hostDev) reasons.push([Reason.HostDeviceNotLiveMigratable, hostDev]);
  if (security) reasons.push(security);
  if (persistentReservation(vmi)) reasons.push([Reason.PersistentReservationNotLiveMigratable, 'VMI uses SCSI persistent reservation']);
  if (hyperv) reasons.push([Reason.HypervPassthroughNotLiveMigratable, hyperv]);
  conditions.update(
    reasons.length > 0
      ? {
          type: CondType.StorageLiveMigratable,
          status: ConditionStatus.False,
          reason: Reason.NotMigratable,
          message: reasons.map(([r, m]) => `${r}: ${m}`).join(', '),
        }
      : { type: CondType.StorageLiveMigratable, status: ConditionStatus.True },
  );
}

/** What GetGuestInfo told about the guest agent, and the cluster's supportedGuestAgentVersions. */
export interface GuestAgentFacts {
  guestAgentVersion: string;
  supportedCommands: ReadonlyArray<{ name: string; enabled?: boolean }>;
  supportedVersions: readonly string[];
}

export const requiredGuestAgentCommands = [
  'guest-ping',
  'guest-get-time',
  'guest-info',
  'guest-shutdown',
  'guest-network-get-interfaces',
  'guest-get-fsinfo',
  'guest-get-host-name',
  'guest-get-users',
  'guest-get-timezone',
  'guest-get-osinfo',
];
const sshGuestAgentCommands = ['guest-ssh-get-authorized-keys', 'guest-ssh-add-authorized-keys', 'guest-ssh-remove-authorized-keys'];
const oldSSHGuestAgentCommands = [
  'guest-exec-status',
  'guest-exec',
  'guest-file-open',
  'guest-file-close',
  'guest-file-read',
  'guest-file-write',
];
const passwordGuestAgentCommands = ['guest-set-user-password'];

/** isGuestAgentSupported: the basic commands, and those the VMI's qemuGuestAgent access credentials need. */
export function isGuestAgentSupported(
  vmi: VirtualMachineInstance,
  commands: ReadonlyArray<{ name: string; enabled?: boolean }>,
): [boolean, string] {
  const enabled = new Set(commands.filter((c) => c.enabled === true).map((c) => c.name));
  const all = (list: string[]) => list.every((c) => enabled.has(c));
  if (!all(requiredGuestAgentCommands)) return [false, "This guest agent doesn't support required basic commands"];
  type Credential = {
    sshPublicKey?: { propagationMethod?: { qemuGuestAgent?: unknown } };
    userPassword?: { propagationMethod?: { qemuGuestAgent?: unknown } };
  };
  const creds = (vmi.spec.accessCredentials ?? []) as Credential[];
  const checkSSH = creds.some((c) => c.sshPublicKey?.propagationMethod?.qemuGuestAgent != null);
  const checkPassword = creds.some((c) => c.userPassword?.propagationMethod?.qemuGuestAgent != null);
  if (checkSSH && !all(sshGuestAgentCommands) && !all(oldSSHGuestAgentCommands)) {
    return [false, "This guest agent doesn't support required public key commands"];
  }
  if (checkPassword && !all(passwordGuestAgentCommands)) return [false, "This guest agent doesn't support required password commands"];
  return [true, 'This guest agent is supported'];
}

/** guestAgentConnected: the agent's virtio channel is connected. */
export function guestAgentConnected(domain: Domain | undefined): boolean {
  return (domain?.Spec.Devices.Channels ?? []).some((c) => c.Target?.Name === 'org.qemu.guest_agent.0' && c.Target.State === 'connected');
}

/**
 * updateGuestAgentConditions: AgentConnected while the channel is connected; then, from what the agent
 * supports (its version against supportedGuestAgentVersions when it lists no commands),
 * AgentVersionNotSupported. Without `agent` (GetGuestInfo not asked) that condition is left as it is.
 */
function agentConditions(
  vmi: VirtualMachineInstance,
  domain: Domain | undefined,
  agent: GuestAgentFacts | undefined,
  conditions: Conditions,
): void {
  const connected = guestAgentConnected(domain);
  if (connected && !conditions.has(CondType.AgentConnected)) {
    conditions.add({ type: CondType.AgentConnected, status: ConditionStatus.True, probed: true });
  } else if (!connected) {
    conditions.remove(CondType.AgentConnected);
  }
  if (!conditions.has(CondType.AgentConnected) || !agent) return;
  let supported: boolean;
  let reason: string;
  if (agent.supportedCommands.length > 0) {
    [supported, reason] = isGuestAgentSupported(vmi, agent.supportedCommands);
  } else {
    supported = agent.supportedVersions.some((v) => new RegExp(v).test(agent.guestAgentVersion));
    reason = supported ? '' : `Guest agent version '${agent.guestAgentVersion}' is not supported`;
  }
  if (!supported) {
    if (!conditions.has(CondType.AgentVersionNotSupported)) {
      conditions.add({ type: CondType.AgentVersionNotSupported, status: ConditionStatus.True, reason, probed: true });
    }
  } else {
    conditions.remove(CondType.AgentVersionNotSupported);
  }
}

/**
 * updateAccessCredentialConditions: the launcher's last propagation result (the domain's
 * accessCredential metadata) as AccessCredentialsSynchronized, without a reason; replaced (appended
 * anew, transition now) when its status or message changed. No result yet: left as it is.
 */
function accessCredentialCondition(domain: Domain | undefined, conditions: Conditions): void {
  const result = domain?.Spec.Metadata.KubeVirt.AccessCredential;
  if (!result) return;
  const status = result.Succeeded ? ConditionStatus.True : ConditionStatus.False;
  const message = result.Message;
  const existing = conditions.get(CondType.AccessCredentialsSynchronized);
  if (existing && existing.status === status && (existing.message ?? '') === message) return;
  conditions.remove(CondType.AccessCredentialsSynchronized);
  conditions.add({ type: CondType.AccessCredentialsSynchronized, status, message, transitioned: true });
}

/**
 * The event virt-handler records when it sets a new AccessCredentialsSynchronized condition: the
 * condition of `next` that `prev` does not have with the same status and message.
 */
export function accessCredentialEvent(
  prev: VirtualMachineInstanceStatus,
  next: VirtualMachineInstanceStatus,
): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined {
  const find = (s: VirtualMachineInstanceStatus) => s.conditions?.find((c) => c.type === CondType.AccessCredentialsSynchronized);
  const after = find(next);
  if (!after) return undefined;
  const before = find(prev);
  const message = after.message ?? '';
  if (before && before.status === after.status && (before.message ?? '') === message) return undefined;
  if (after.status === ConditionStatus.True) {
    const text = message === '' ? 'Access credentials sync successful.' : `Access credentials sync successful: ${message}`;
    return { type: 'Normal', reason: 'AccessCredentialsSyncSuccess', message: text };
  }
  return { type: 'Warning', reason: 'AccessCredentialsSyncFailed', message: `Access credentials sync failed: ${message}` };
}

/**
 * updatePausedConditions / calculatePausedCondition: Paused=True for a domain paused by the user, by
 * an I/O error, or by the migration monitor of a migration this node is the source of; any other pause
 * (starting up, a finished migration, …) gets no condition. Once set, the condition stays until the
 * domain runs again.
 */
function pausedCondition(vmi: VirtualMachineInstance, domain: Domain | undefined, host: string | undefined, conditions: Conditions): void {
  if (domain?.Status.Status !== 'Paused') {
    conditions.remove(CondType.Paused);
    return;
  }
  if (conditions.has(CondType.Paused)) return;
  const ms = vmi.status?.migrationState;
  const pausedDuringMigration = ms?.mode === 'Paused' && !ms.completed;
  const migrationSource = ms != null && host !== undefined && ms.sourceNode === host && Boolean(ms.targetNodeAddress) && !ms.completed;
  let reason: string;
  let message: string;
  switch (domain.Status.Reason) {
    case 'Migration':
      if (!pausedDuringMigration || !migrationSource) return;
      [reason, message] = [Reason.PausedByMigrationMonitor, 'VMI was paused by the migration monitor'];
      break;
    case 'User':
      [reason, message] = [Reason.PausedByUser, 'VMI was paused by user'];
      break;
    case 'IOError':
      [reason, message] = [Reason.PausedIOError, 'VMI was paused, low-level IO error detected'];
      break;
    default:
      return;
  }
  conditions.add({ type: CondType.Paused, status: ConditionStatus.True, reason, message, probed: true, transitioned: true });
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

/**
 * KubeVirt's condition manager, with the timestamps each of virt-handler's callers gives: a condition
 * is added with lastProbeTime and/or lastTransitionTime set to now, or with neither (Go's zero time, null).
 */
class Conditions {
  list: VirtualMachineInstanceCondition[];
  readonly #now: string;
  constructor(list: readonly VirtualMachineInstanceCondition[], now: string) {
    this.list = list.map((c) => ({ ...c }));
    this.#now = now;
  }
  has(type: string): boolean {
    return this.list.some((c) => c.type === type);
  }
  get(type: string): VirtualMachineInstanceCondition | undefined {
    return this.list.find((c) => c.type === type);
  }
  #make(c: NewCondition): VirtualMachineInstanceCondition {
    const next: VirtualMachineInstanceCondition = {
      type: c.type,
      status: c.status,
      lastProbeTime: c.probed ? this.#now : null,
      lastTransitionTime: c.transitioned ? this.#now : null,
    };
    if (c.reason) next.reason = c.reason;
    if (c.message) next.message = c.message;
    return next;
  }
  /** Appends (the caller checked it is absent). */
  add(c: NewCondition): void {
    this.list = [...this.list, this.#make(c)];
  }
  remove(type: string): void {
    this.list = this.list.filter((c) => c.type !== type);
  }
  /** updateLiveMigrationConditions: removed and appended unless exactly equal. */
  replaceUnlessEqual(c: NewCondition): void {
    const next = this.#make(c);
    const existing = this.list.find((x) => x.type === c.type);
    if (existing && statusEqual(existing, next)) return;
    this.remove(c.type);
    this.list = [...this.list, next];
  }
  /** UpdateCondition: replaced in place when status or reason differ; appended when absent. */
  update(c: NewCondition): void {
    const next = this.#make(c);
    const at = this.list.findIndex((x) => x.type === c.type);
    if (at < 0) this.list = [...this.list, next];
    else if (this.list[at]!.status !== next.status || (this.list[at]!.reason ?? '') !== (next.reason ?? '')) {
      this.list = this.list.map((x, i) => (i === at ? next : x));
    }
  }
  /** CheckFailure: Synchronized=False (kept while its reason is the same) on an error, removed without one. */
  checkFailure(syncError: string | undefined): void {
    if (syncError === undefined) {
      this.remove(CondType.Synchronized);
      return;
    }
    const same = this.list.some(
      (c) => c.type === CondType.Synchronized && c.status === ConditionStatus.False && c.reason === SynchronizationFailedReason,
    );
    if (same) return;
    this.remove(CondType.Synchronized);
    this.add({
      type: CondType.Synchronized,
      status: ConditionStatus.False,
      reason: SynchronizationFailedReason,
      message: syncError,
      transitioned: true,
    });
  }
}

interface NewCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  /** lastProbeTime: now */
  probed?: boolean;
  /** lastTransitionTime: now */
  transitioned?: boolean;
}
