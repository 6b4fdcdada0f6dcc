// What virt-api's mutating webhook does to a VMI a user writes, on a default-configured amd64 cluster
// (pkg/defaults SetDefaultVirtualMachineInstance, the API's SetObjectDefaults_VirtualMachineInstance,
// and vmi-mutator.go's ApplyNewVMIMutations): the shape of every VMI a real virt-handler sends.
import { randomUUID } from 'node:crypto';

// A VMI as a user writes it: plain JSON, nothing checked yet (the launcher's parser does that).
// biome-ignore lint/suspicious/noExplicitAny: unchecked JSON; the launcher's parser checks it
type Obj = Record<string, any>;

/** virtconfig's defaults this defaulting reads. */
export interface ClusterDefaults {
  /** DefaultNetworkInterface */
  networkInterface: 'bridge' | 'masquerade';
  /** GetMachineType(amd64) */
  machineType: string;
  /** DefaultMaxHotplugRatio */
  maxHotplugRatio: number;
  /** Whether the launcher runs as root (the Root feature gate); KubeVirt's default is non-root, uid 107. */
  root: boolean;
}

export const DefaultClusterDefaults: ClusterDefaults = {
  networkInterface: 'bridge',
  machineType: 'q35',
  maxHotplugRatio: 4,
  root: false,
};

const Ki = 1024;
const binary: Record<string, number> = { Ki, Mi: Ki ** 2, Gi: Ki ** 3, Ti: Ki ** 4 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A memory quantity in bytes (the suffixes the corpus uses). */
export function quantityBytes(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+)([KMGT]i|[kMGT])?$/.exec(q);
  if (!m) throw new Error(`quantity ${q} not understood by the test bed`);
  return Number(m[1]) * (m[2] ? (binary[m[2]] ?? decimal[m[2]]!) : 1);
}

function formatBinary(bytes: number): string {
  for (const [suffix, n] of Object.entries(binary).reverse()) if (bytes % n === 0) return `${bytes / n}${suffix}`;
  return String(bytes);
}

/** The VMI as virt-api stores it on create. */
export function applyWebhookDefaults(input: Obj, cluster: ClusterDefaults = DefaultClusterDefaults): Obj {
  const vmi = structuredClone(input);
  vmi.apiVersion ??= 'kubevirt.io/v1';
  vmi.kind ??= 'VirtualMachineInstance';
  vmi.metadata ??= {};
  vmi.metadata.uid ??= randomUUID();
  vmi.metadata.namespace ??= 'default';
  const spec = (vmi.spec ??= {});
  const domain = (spec.domain ??= {});
  const devices = (domain.devices ??= {});
  const resources = (domain.resources ??= {});

  // SetDefaultVirtualMachineInstanceSpec
  spec.architecture ||= 'amd64';
  domain.machine ??= {};
  domain.machine.type ||= cluster.machineType;
  if (resources.limits?.cpu !== undefined && resources.requests?.cpu === undefined) {
    (resources.requests ??= {}).cpu = resources.limits.cpu;
  }
  // setGuestMemory
  domain.memory ??= {};
  if (domain.memory.guest === undefined) {
    const from = resources.requests?.memory ?? resources.limits?.memory ?? domain.memory.hugepages?.pageSize;
    if (from !== undefined) domain.memory.guest = from;
  }
  // SetDefaultGuestCPUTopology
  const cpu = (domain.cpu ??= {});
  if (!cpu.cores && !cpu.sockets && !cpu.threads) {
    const count = resources.limits?.cpu ?? resources.requests?.cpu;
    // Quantity.Value() rounds up: 500m is one socket
    const millis = count === undefined ? 1000 : String(count).endsWith('m') ? Number(String(count).slice(0, -1)) : Number(count) * 1000;
    cpu.sockets = Math.max(1, Math.ceil(millis / 1000));
    cpu.cores = 1;
    cpu.threads = 1;
  }
  cpu.sockets ||= 1;
  cpu.cores ||= 1;
  cpu.threads ||= 1;
  for (const volume of spec.volumes ?? []) {
    const cd = volume.containerDisk;
    if (cd && !cd.imagePullPolicy) {
      cd.imagePullPolicy = cd.image.endsWith(':latest') || !/[:@]/.test(cd.image) ? 'Always' : 'IfNotPresent';
    }
  }
  // vmispec.SetDefaultNetworkInterface
  if (!devices.interfaces && !spec.networks && devices.autoattachPodInterface !== false) {
    devices.interfaces = [{ name: 'default', [cluster.networkInterface]: {} }];
    spec.networks = [{ name: 'default', pod: {} }];
  }
  // util.SetDefaultVolumeDisk: a volume no disk or filesystem names gets a disk of its name
  const named = new Set([...(devices.disks ?? []), ...(devices.filesystems ?? [])].map((d: Obj) => d.name));
  for (const volume of spec.volumes ?? []) {
    if (!named.has(volume.name)) (devices.disks ??= []).push({ name: volume.name });
  }

  // SetObjectDefaults_VirtualMachineInstance
  domain.firmware ??= {};
  domain.firmware.uuid ||= randomUUID();
  domain.features ??= {};
  for (const disk of devices.disks ?? []) {
    if (!disk.disk && !disk.cdrom && !disk.lun) disk.disk = {};
    if (disk.cdrom) {
      disk.cdrom.readonly ??= true;
      disk.cdrom.tray ||= 'closed';
    }
  }
  for (const input of devices.inputs ?? []) {
    input.bus ||= 'usb';
    input.type ||= 'tablet';
  }
  for (const probe of [spec.readinessProbe, spec.livenessProbe]) {
    if (!probe) continue;
    if (!(probe.timeoutSeconds >= 1)) probe.timeoutSeconds = 1;
    if (!(probe.periodSeconds >= 1)) probe.periodSeconds = 10;
    if (!(probe.successThreshold >= 1)) probe.successThreshold = 1;
    if (!(probe.failureThreshold >= 1)) probe.failureThreshold = 3;
  }
  const features = domain.features;
  for (const key of ['acpi', 'apic', 'smm', 'pvspinlock'] as const) {
    if (features[key]) features[key].enabled ??= true;
  }
  for (const [key, state] of Object.entries((features.hyperv ?? {}) as Obj)) {
    state.enabled ??= true;
    if (key === 'spinlocks' && state.enabled && state.spinlocks === undefined) state.spinlocks = 4096;
    if (key === 'synictimer' && state.direct) state.direct.enabled ??= true;
  }
  for (const timer of Object.values((domain.clock?.timer ?? {}) as Obj)) timer.present ??= true;

  // setDefaultCPUArch → SetAmd64Defaults: SATA for every unset bus, the watchdog's action
  for (const disk of devices.disks ?? []) {
    for (const target of [disk.disk, disk.cdrom, disk.lun]) if (target && !target.bus) target.bus = 'sata';
  }
  if (devices.watchdog) {
    devices.watchdog.i6300esb ??= {};
    devices.watchdog.i6300esb.action ||= 'reset';
  }
  cpu.model ||= 'host-model';

  // setGuestMemoryStatus, setCurrentCPUTopologyStatus
  const status = (vmi.status ??= {});
  if (domain.memory.guest !== undefined) {
    status.memory = { guestAtBoot: domain.memory.guest, guestCurrent: domain.memory.guest, guestRequested: domain.memory.guest };
  }
  status.currentCPUTopology = { sockets: cpu.sockets, cores: cpu.cores, threads: cpu.threads };

  // setupHotplug (LiveUpdate is the default rollout strategy): CPU and memory hotplug room
  if (!cpu.maxSockets) {
    cpu.maxSockets = cpu.sockets * cluster.maxHotplugRatio;
    if (cpu.maxSockets * cpu.cores * cpu.threads > 512) {
      cpu.maxSockets = Math.max(Math.floor(512 / (cpu.cores * cpu.threads)), cpu.sockets);
    }
  }
  if (domain.memory.maxGuest === undefined && domain.memory.guest !== undefined) {
    const guest = quantityBytes(domain.memory.guest);
    const maxGuest = guest * cluster.maxHotplugRatio;
    // memory.ValidateLiveUpdateMemory
    const align = domain.memory.hugepages?.pageSize === '1Gi' ? Ki ** 3 : 2 * Ki ** 2;
    const eligible =
      !cpu.realtime &&
      !cpu.numa?.guestMappingPassthrough &&
      !domain.launchSecurity &&
      guest >= Ki ** 3 &&
      guest % align === 0 &&
      maxGuest % align === 0;
    if (eligible) domain.memory.maxGuest = formatBinary(maxGuest);
  }

  // ApplyNewVMIMutations and Mutate
  const annotations = (vmi.metadata.annotations ??= {});
  annotations['kubevirt.io/pci-topology-version'] ??= 'v3';
  if (!cluster.root) status.runtimeUser = 107;
  vmi.metadata.finalizers = [...(vmi.metadata.finalizers ?? []), 'kubevirt.io/foregroundDeleteVirtualMachine'];
  status.phase = 'Pending';
  status.phaseTransitionTimestamps = [{ phase: 'Pending', phaseTransitionTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }];
  return vmi;
}
