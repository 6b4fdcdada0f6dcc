// What of a VMI this converter turns into a domain. Everything else present in a VMI's spec is
// rejected with the path of the field, so no setting is ever dropped without a word.
import { formatPath } from '@kubevirt-ts/shared';
import { ConversionError } from './errors.ts';

/**
 * The VMI spec fields the converter reads, as paths: `[]` stands for any list index. Each object on
 * the way to a field may be present (even empty); a listed object with no listed children (a binding
 * such as `masquerade`, or `rng`) may only be `{}`.
 */
export const SUPPORTED_FIELDS = [
  'spec.architecture',
  'spec.terminationGracePeriodSeconds',
  'spec.hostname',
  'spec.domain.cpu.cores',
  'spec.domain.cpu.sockets',
  'spec.domain.cpu.threads',
  'spec.domain.cpu.maxSockets',
  'spec.domain.cpu.model',
  'spec.domain.cpu.features[].name',
  'spec.domain.cpu.features[].policy',
  'spec.domain.cpu.dedicatedCpuPlacement',
  'spec.domain.cpu.isolateEmulatorThread',
  'spec.domain.ioThreadsPolicy',
  'spec.domain.ioThreads.supplementalPoolThreadCount',
  'spec.domain.memory.guest',
  'spec.domain.memory.maxGuest',
  'spec.domain.memory.hugepages.pageSize',
  'spec.domain.resources.requests.memory',
  'spec.domain.resources.requests.cpu',
  'spec.domain.resources.limits.memory',
  'spec.domain.resources.limits.cpu',
  'spec.domain.machine.type',
  'spec.domain.firmware.uuid',
  ...['manufacturer', 'version', 'serial', 'asset', 'sku'].map((f) => `spec.domain.chassis.${f}`),
  'spec.domain.firmware.serial',
  'spec.domain.firmware.acpi.slicNameRef',
  'spec.domain.firmware.acpi.msdmNameRef',
  'spec.domain.firmware.bootloader.bios.useSerial',
  'spec.domain.firmware.bootloader.efi.secureBoot',
  'spec.domain.firmware.bootloader.efi.persistent',
  'spec.domain.firmware.kernelBoot.kernelArgs',
  'spec.domain.firmware.kernelBoot.container.image',
  'spec.domain.firmware.kernelBoot.container.imagePullPolicy',
  'spec.domain.firmware.kernelBoot.container.imagePullSecret',
  'spec.domain.firmware.kernelBoot.container.kernelPath',
  'spec.domain.firmware.kernelBoot.container.initrdPath',
  'spec.domain.features.acpi.enabled',
  'spec.domain.features.apic.enabled',
  'spec.domain.features.smm.enabled',
  'spec.domain.features.pvspinlock.enabled',
  'spec.domain.features.kvm.hidden',
  ...['relaxed', 'vapic', 'vpindex', 'runtime', 'synic', 'reset', 'frequencies', 'reenlightenment', 'tlbflush', 'ipi', 'evmcs'].map(
    (f) => `spec.domain.features.hyperv.${f}.enabled`,
  ),
  'spec.domain.features.hyperv.spinlocks.enabled',
  'spec.domain.features.hyperv.spinlocks.spinlocks',
  'spec.domain.features.hyperv.synictimer.enabled',
  'spec.domain.features.hyperv.synictimer.direct.enabled',
  'spec.domain.features.hyperv.vendorid.enabled',
  'spec.domain.features.hyperv.vendorid.vendorid',
  'spec.domain.clock.utc.offsetSeconds',
  'spec.domain.clock.timezone',
  'spec.domain.clock.timer.hpet.present',
  'spec.domain.clock.timer.hpet.tickPolicy',
  'spec.domain.clock.timer.pit.present',
  'spec.domain.clock.timer.pit.tickPolicy',
  'spec.domain.clock.timer.rtc.present',
  'spec.domain.clock.timer.rtc.tickPolicy',
  'spec.domain.clock.timer.rtc.track',
  'spec.domain.clock.timer.kvm.present',
  'spec.domain.clock.timer.hyperv.present',
  'spec.domain.rebootPolicy',
  'spec.domain.devices.autoattachSerialConsole',
  'spec.domain.devices.logSerialConsole',
  'spec.domain.devices.autoattachGraphicsDevice',
  'spec.domain.devices.autoattachMemBalloon',
  'spec.domain.devices.autoattachPodInterface',
  'spec.domain.devices.useVirtioTransitional',
  'spec.domain.devices.disableHotplug',
  'spec.domain.devices.blockMultiQueue',
  'spec.domain.devices.clientPassthrough',
  'spec.domain.devices.video.type',
  'spec.domain.devices.downwardMetrics',
  'spec.domain.devices.sound.name',
  'spec.domain.devices.sound.model',
  'spec.domain.devices.panicDevices[].model',
  'spec.domain.devices.rng',
  'spec.domain.devices.tpm.enabled',
  'spec.domain.devices.tpm.persistent',
  'spec.domain.devices.watchdog.name',
  'spec.domain.devices.watchdog.i6300esb.action',
  'spec.domain.devices.inputs[].name',
  'spec.domain.devices.inputs[].bus',
  'spec.domain.devices.inputs[].type',
  'spec.domain.devices.disks[].name',
  'spec.domain.devices.disks[].disk.bus',
  'spec.domain.devices.disks[].disk.readonly',
  'spec.domain.devices.disks[].disk.pciAddress',
  'spec.domain.devices.disks[].cdrom.bus',
  'spec.domain.devices.disks[].cdrom.readonly',
  'spec.domain.devices.disks[].cdrom.tray',
  'spec.domain.devices.disks[].bootOrder',
  'spec.domain.devices.disks[].serial',
  'spec.domain.devices.disks[].cache',
  'spec.domain.devices.disks[].io',
  'spec.domain.devices.disks[].errorPolicy',
  'spec.domain.devices.disks[].shareable',
  'spec.domain.devices.disks[].dedicatedIOThread',
  'spec.domain.devices.disks[].blockSize.custom.logical',
  'spec.domain.devices.disks[].blockSize.custom.physical',
  'spec.domain.devices.disks[].blockSize.custom.discardGranularity',
  'spec.domain.devices.disks[].blockSize.matchVolume.enabled',
  'spec.domain.devices.filesystems[].name',
  'spec.domain.devices.filesystems[].virtiofs',
  'spec.domain.devices.interfaces[].name',
  'spec.domain.devices.interfaces[].masquerade',
  'spec.domain.devices.interfaces[].bridge',
  'spec.domain.devices.interfaces[].model',
  'spec.domain.devices.interfaces[].macAddress',
  'spec.domain.devices.interfaces[].bootOrder',
  'spec.domain.devices.interfaces[].pciAddress',
  'spec.domain.devices.interfaces[].acpiIndex',
  'spec.domain.devices.interfaces[].tag',
  'spec.domain.devices.interfaces[].state',
  'spec.domain.devices.interfaces[].dhcpOptions.bootFileName',
  'spec.domain.devices.interfaces[].dhcpOptions.tftpServerName',
  'spec.domain.devices.interfaces[].dhcpOptions.ntpServers[]',
  'spec.domain.devices.interfaces[].dhcpOptions.privateOptions[].option',
  'spec.domain.devices.interfaces[].dhcpOptions.privateOptions[].value',
  // ports only narrow what masquerade forwards; a user-mode NIC forwards nothing unasked
  'spec.domain.devices.interfaces[].ports[].name',
  'spec.domain.devices.interfaces[].ports[].protocol',
  'spec.domain.devices.interfaces[].ports[].port',
  'spec.startStrategy',
  'spec.networks[].name',
  'spec.networks[].pod.vmNetworkCIDR',
  'spec.networks[].pod.vmIPv6NetworkCIDR',
  'spec.networks[].multus.networkName',
  'spec.networks[].multus.default',
  'spec.volumes[].name',
  'spec.volumes[].containerDisk.image',
  'spec.volumes[].containerDisk.imagePullPolicy',
  'spec.volumes[].containerDisk.imagePullSecret',
  'spec.volumes[].containerDisk.path',
  'spec.volumes[].emptyDisk.capacity',
  'spec.volumes[].cloudInitNoCloud.userData',
  'spec.volumes[].cloudInitNoCloud.userDataBase64',
  'spec.volumes[].cloudInitNoCloud.networkData',
  'spec.volumes[].cloudInitNoCloud.networkDataBase64',
  'spec.volumes[].cloudInitNoCloud.secretRef.name',
  'spec.volumes[].cloudInitNoCloud.networkDataSecretRef.name',
  'spec.volumes[].cloudInitConfigDrive.userData',
  'spec.volumes[].cloudInitConfigDrive.userDataBase64',
  'spec.volumes[].cloudInitConfigDrive.networkData',
  'spec.volumes[].cloudInitConfigDrive.networkDataBase64',
  'spec.volumes[].cloudInitConfigDrive.secretRef.name',
  'spec.volumes[].cloudInitConfigDrive.networkDataSecretRef.name',
  'spec.volumes[].persistentVolumeClaim.claimName',
  'spec.volumes[].persistentVolumeClaim.readOnly',
  'spec.volumes[].persistentVolumeClaim.hotpluggable',
  'spec.volumes[].ephemeral.persistentVolumeClaim.claimName',
  'spec.volumes[].ephemeral.persistentVolumeClaim.readOnly',
  'spec.volumes[].dataVolume.name',
  'spec.volumes[].dataVolume.hotpluggable',
  'spec.volumes[].hostDisk.path',
  'spec.volumes[].hostDisk.type',
  'spec.volumes[].hostDisk.capacity',
  'spec.volumes[].hostDisk.shared',
  'spec.volumes[].configMap.name',
  'spec.volumes[].configMap.optional',
  'spec.volumes[].configMap.volumeLabel',
  'spec.volumes[].secret.secretName',
  'spec.volumes[].secret.optional',
  'spec.volumes[].secret.volumeLabel',
  'spec.volumes[].serviceAccount.serviceAccountName',
  'spec.volumes[].downwardAPI.volumeLabel',
  'spec.volumes[].downwardMetrics',
  'spec.volumes[].sysprep.configMap.name',
  'spec.volumes[].sysprep.secret.name',
] as const;

/**
 * Fields KubeVirt's converter does not read either, because the scheduler, virt-controller (the
 * launcher pod) or DNS act on them: accepted, and left to them. `*` stands for any map key.
 */
export const NOT_CONVERTED_FIELDS = [
  'spec.nodeSelector',
  'spec.affinity',
  'spec.tolerations',
  'spec.topologySpreadConstraints',
  'spec.schedulerName',
  'spec.priorityClassName',
  'spec.evictionStrategy',
  // virt-controller adds the tablet it stands for to inputs, from the VM's preference
  'spec.domain.devices.autoattachInputDevice',
  'spec.subdomain',
  'spec.dnsPolicy',
  'spec.dnsConfig',
  'spec.readinessProbe',
  'spec.livenessProbe',
  // which pod files the downward API volume holds is the kubelet's business
  'spec.volumes[].downwardAPI.fields',
  // not the domain's: the AccessCredentialManager pushes them through the agent, cloud-init's metadata carries them
  'spec.accessCredentials',
  // not the domain's: virt-handler mounts them into the pod as directories, for tools beside the VM
  'spec.utilityVolumes',
  // pod resources other than the guest's memory and CPUs
  'spec.domain.resources.requests.*',
  'spec.domain.resources.limits.*',
  'spec.domain.resources.overcommitGuestOverhead',
  // the pod's memory (virt-controller) and the libvirt daemon's memlock limit (virt-handler)
  'spec.domain.memory.reservedOverhead',
] as const;

interface Trie {
  /** a listed field: it may hold a value of its own */
  field: boolean;
  /** taken as a whole, not looked into */
  opaque: boolean;
  children: Map<string, Trie>;
}

function node(): Trie {
  return { field: false, opaque: false, children: new Map() };
}

function segments(path: string): string[] {
  return path.split('.').flatMap((s) => (s.endsWith('[]') ? [s.slice(0, -2), '[]'] : [s]));
}

const trie = node();
for (const [paths, opaque] of [
  [SUPPORTED_FIELDS, false],
  [NOT_CONVERTED_FIELDS, true],
] as const) {
  for (const path of paths) {
    let at = trie;
    for (const s of segments(path)) {
      let next = at.children.get(s);
      if (!next) at.children.set(s, (next = node()));
      at = next;
    }
    at.field = true;
    at.opaque = opaque;
  }
}

/** Throws a ConversionError naming the first field of `vmi.spec` the converter does not support. */
export function checkSupportedFields(vmi: { spec?: unknown }): void {
  const spec = trie.children.get('spec');
  if (spec && vmi.spec !== undefined) walk(vmi.spec, spec, ['spec']);
}

function walk(value: unknown, at: Trie, path: PropertyKey[]): void {
  if (value === null || value === undefined || at.opaque) return;
  if (Array.isArray(value)) {
    const item = at.children.get('[]');
    if (!item) throw unsupported(path, 'is a list here, which is not supported');
    for (const [i, v] of value.entries()) walk(v, item, [...path, i]);
    return;
  }
  if (typeof value !== 'object') {
    if (!at.field) throw unsupported(path, 'must be an object');
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (child === null || child === undefined) continue;
    const next = at.children.get(key) ?? at.children.get('*');
    if (!next) throw unsupported([...path, key], 'is not supported by this launcher (see SUPPORTED_FIELDS)');
    walk(child, next, [...path, key]);
  }
}

function unsupported(path: PropertyKey[], problem: string): ConversionError {
  return new ConversionError(formatPath(path), problem);
}
