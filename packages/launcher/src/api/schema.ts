// KubeVirt's api.DomainSpec (pkg/virt-launcher/virtwrap/api/schema.go) as data. Each type is a Go
// struct with its Go field names, which are its JSON keys (only ObjectMeta has a json tag, and
// nothing is omitempty); each `*Codec` beside it is the struct's xml tags, in field order.
// Pointers are `T | null`, slices `T[] | null`, exactly as Go marshals them. Types rather than
// interfaces, so a struct also fits where shared's Domain keeps it as an opaque record.
// The one DomainSpec model: shared's Domain schema only validates the wire JSON (Spec is opaque there
// where the handler does not look); DomainManager hands this type over as Domain['Spec'], so tsc checks
// that the two agree, and both are tested against KubeVirt's zero Domain (test/fixtures/kubevirt).
import {
  alias,
  attr,
  bool,
  chardata,
  elem,
  int,
  jsonOnly,
  OMITEMPTY,
  ptr,
  slice,
  str,
  struct,
  time,
  uint,
  unmodelled,
  XMLNameField,
  type Alias,
  type Codec,
  type XMLName,
} from './codec.ts';

export type { Alias, XMLName } from './codec.ts';

export const QEMUSchemaNamespace = 'http://libvirt.org/schemas/domain/qemu/1.0';
export const KubeVirtMetadataNamespace = 'http://kubevirt.io';

// --- the domain ----------------------------------------------------------------------------------

export type DomainSpec = {
  XMLName: XMLName;
  Type: string;
  XmlNS: string;
  Name: string;
  UUID: string;
  Memory: Memory;
  CurrentMemory: Memory | null;
  MaxMemory: MaxMemory | null;
  MemoryBacking: MemoryBacking | null;
  OS: OS;
  SysInfo: SysInfo | null;
  Devices: Devices;
  Clock: Clock | null;
  Resource: Resource | null;
  QEMUCmd: Commandline | null;
  Metadata: Metadata;
  Features: Features | null;
  CPU: CPU;
  VCPU: VCPU | null;
  VCPUs: VCPUs | null;
  CPUTune: CPUTune | null;
  NUMATune: NUMATune | null;
  IOThreads: IOThreads | null;
  LaunchSecurity: LaunchSecurity | null;
  OnReboot: string;
  /** not modelled: always null */
  IOMMUFD: null;
};

export const domainSpecCodec = struct<DomainSpec>('DomainSpec', () => ({
  XMLName: XMLNameField,
  Type: attr('type', str),
  // Go's decoder never fills this one back: the attribute's local name is `qemu`, not `xmlns:qemu`
  XmlNS: attr('xmlns:qemu', str, OMITEMPTY),
  Name: elem('name', str),
  UUID: elem('uuid', str, OMITEMPTY),
  Memory: elem('memory', memoryCodec),
  CurrentMemory: elem('currentMemory', ptr(memoryCodec), OMITEMPTY),
  MaxMemory: elem('maxMemory', ptr(maxMemoryCodec), OMITEMPTY),
  MemoryBacking: elem('memoryBacking', ptr(memoryBackingCodec), OMITEMPTY),
  OS: elem('os', osCodec),
  SysInfo: elem('sysinfo', ptr(sysInfoCodec), OMITEMPTY),
  Devices: elem('devices', devicesCodec),
  Clock: elem('clock', ptr(clockCodec), OMITEMPTY),
  Resource: elem('resource', ptr(resourceCodec), OMITEMPTY),
  // Likewise write-only: the element's local name is `commandline`
  QEMUCmd: elem('qemu:commandline', ptr(commandlineCodec), OMITEMPTY),
  Metadata: elem('metadata', metadataCodec, OMITEMPTY),
  Features: elem('features', ptr(featuresCodec), OMITEMPTY),
  CPU: elem('cpu', cpuCodec),
  VCPU: elem('vcpu', ptr(vcpuCodec)),
  VCPUs: elem('vcpus', ptr(vcpusCodec)),
  CPUTune: elem('cputune', ptr(cpuTuneCodec)),
  NUMATune: elem('numatune', ptr(numaTuneCodec)),
  IOThreads: elem('iothreads', ptr(ioThreadsCodec), OMITEMPTY),
  LaunchSecurity: elem('launchSecurity', ptr(launchSecurityCodec), OMITEMPTY),
  OnReboot: elem('on_reboot', str, OMITEMPTY),
  IOMMUFD: jsonOnly(unmodelled),
}));

export const DomainOnRebootDestroy = 'destroy';
export const DomainOnRebootRestart = 'restart';

// --- memory --------------------------------------------------------------------------------------

export type Memory = {
  Value: number;
  Unit: string;
};
export const memoryCodec = struct<Memory>('Memory', () => ({
  Value: chardata(uint),
  Unit: attr('unit', str),
}));

export type MaxMemory = {
  Value: number;
  Unit: string;
  Slots: number;
};
export const maxMemoryCodec = struct<MaxMemory>('MaxMemory', () => ({
  Value: chardata(uint),
  Unit: attr('unit', str),
  Slots: attr('slots', uint),
}));

export type MemoryBacking = {
  HugePages: HugePages | null;
  Source: MemoryBackingSource | null;
  Access: MemoryBackingAccess | null;
  Allocation: MemoryAllocation | null;
  NoSharePages: NoSharePages | null;
};
export const memoryBackingCodec = struct<MemoryBacking>('MemoryBacking', () => ({
  HugePages: elem('hugepages', ptr(hugePagesCodec), OMITEMPTY),
  Source: elem('source', ptr(memoryBackingSourceCodec), OMITEMPTY),
  Access: elem('access', ptr(memoryBackingAccessCodec), OMITEMPTY),
  Allocation: elem('allocation', ptr(memoryAllocationCodec), OMITEMPTY),
  NoSharePages: elem('nosharepages', ptr(noSharePagesCodec), OMITEMPTY),
}));

export type HugePages = {
  HugePage: HugePage[] | null;
};
export const hugePagesCodec = struct<HugePages>('HugePages', () => ({
  HugePage: elem('page', slice(hugePageCodec), OMITEMPTY),
}));

export type HugePage = {
  Size: string;
  Unit: string;
  NodeSet: string;
};
export const hugePageCodec = struct<HugePage>('HugePage', () => ({
  Size: attr('size', str),
  Unit: attr('unit', str),
  NodeSet: attr('nodeset', str),
}));

export type MemoryBackingSource = {
  Type: string;
};
export const memoryBackingSourceCodec = struct<MemoryBackingSource>('MemoryBackingSource', () => ({
  Type: attr('type', str),
}));

export type MemoryBackingAccess = {
  Mode: string;
};
export const memoryBackingAccessCodec = struct<MemoryBackingAccess>('MemoryBackingAccess', () => ({
  Mode: attr('mode', str),
}));

export type MemoryAllocation = {
  Mode: string;
};
export const memoryAllocationCodec = struct<MemoryAllocation>('MemoryAllocation', () => ({
  Mode: attr('mode', str),
}));

export type NoSharePages = Record<string, never>;
export const noSharePagesCodec = struct<NoSharePages>('NoSharePages', () => ({}));

// --- os ------------------------------------------------------------------------------------------

export type OS = {
  Firmware: string;
  FirmwareInfo: FirmwareInfo | null;
  Type: OSType;
  ACPI: OSACPI | null;
  SMBios: SMBios | null;
  BootOrder: Boot[] | null;
  BootMenu: BootMenu | null;
  BIOS: BIOS | null;
  BootLoader: Loader | null;
  NVRam: NVRam | null;
  Kernel: string;
  Initrd: string;
  KernelArgs: string;
};
export const osCodec = struct<OS>('OS', () => ({
  Firmware: attr('firmware', str, OMITEMPTY),
  FirmwareInfo: elem('firmware', ptr(firmwareInfoCodec), OMITEMPTY),
  Type: elem('type', osTypeCodec),
  ACPI: elem('acpi', ptr(osACPICodec), OMITEMPTY),
  SMBios: elem('smbios', ptr(smBiosCodec), OMITEMPTY),
  BootOrder: elem('boot', slice(bootCodec)),
  BootMenu: elem('bootmenu', ptr(bootMenuCodec), OMITEMPTY),
  BIOS: elem('bios', ptr(biosCodec), OMITEMPTY),
  BootLoader: elem('loader', ptr(loaderCodec), OMITEMPTY),
  NVRam: elem('nvram', ptr(nvramCodec), OMITEMPTY),
  Kernel: elem('kernel', str, OMITEMPTY),
  Initrd: elem('initrd', str, OMITEMPTY),
  KernelArgs: elem('cmdline', str, OMITEMPTY),
}));

export type FirmwareInfo = {
  Features: FirmwareFeature[] | null;
};
export const firmwareInfoCodec = struct<FirmwareInfo>('FirmwareInfo', () => ({
  Features: elem('feature', slice(firmwareFeatureCodec), OMITEMPTY),
}));

export type FirmwareFeature = {
  Enabled: string;
  Name: string;
};
export const firmwareFeatureCodec = struct<FirmwareFeature>('FirmwareFeature', () => ({
  Enabled: attr('enabled', str, OMITEMPTY),
  Name: attr('name', str, OMITEMPTY),
}));

export type OSType = {
  OS: string;
  Arch: string;
  Machine: string;
};
export const osTypeCodec = struct<OSType>('OSType', () => ({
  OS: chardata(str),
  Arch: attr('arch', str, OMITEMPTY),
  Machine: attr('machine', str, OMITEMPTY),
}));

export type OSACPI = {
  Table: ACPITable[] | null;
};
export const osACPICodec = struct<OSACPI>('OSACPI', () => ({
  Table: elem('table', slice(acpiTableCodec), OMITEMPTY),
}));

export type ACPITable = {
  Path: string;
  Type: string;
};
export const acpiTableCodec = struct<ACPITable>('ACPITable', () => ({
  Path: chardata(str),
  Type: attr('type', str, OMITEMPTY),
}));

export type SMBios = {
  Mode: string;
};
export const smBiosCodec = struct<SMBios>('SMBios', () => ({
  Mode: attr('mode', str),
}));

export type Boot = {
  Dev: string;
};
export const bootCodec = struct<Boot>('Boot', () => ({
  Dev: attr('dev', str),
}));

export type BootMenu = {
  Enable: string;
  Timeout: number | null;
};
export const bootMenuCodec = struct<BootMenu>('BootMenu', () => ({
  Enable: attr('enable', str),
  Timeout: attr('timeout', ptr(uint), OMITEMPTY),
}));

export type BIOS = {
  UseSerial: string;
};
export const biosCodec = struct<BIOS>('BIOS', () => ({
  UseSerial: attr('useserial', str, OMITEMPTY),
}));

export type Loader = {
  ReadOnly: string;
  Secure: string;
  Type: string;
  Path: string;
};
export const loaderCodec = struct<Loader>('Loader', () => ({
  ReadOnly: attr('readonly', str, OMITEMPTY),
  Secure: attr('secure', str, OMITEMPTY),
  Type: attr('type', str, OMITEMPTY),
  Path: chardata(str),
}));

export type NVRam = {
  Template: string;
  Format: string;
  NVRam: string;
};
export const nvramCodec = struct<NVRam>('NVRam', () => ({
  Template: attr('template', str, OMITEMPTY),
  Format: attr('format', str, OMITEMPTY),
  NVRam: chardata(str),
}));

// --- sysinfo -------------------------------------------------------------------------------------

export type SysInfo = {
  Type: string;
  System: Entry[] | null;
  BIOS: Entry[] | null;
  BaseBoard: Entry[] | null;
  Chassis: Entry[] | null;
  OEMStrings: string[] | null;
};
export const sysInfoCodec = struct<SysInfo>('SysInfo', () => ({
  Type: attr('type', str),
  System: elem('system>entry', slice(entryCodec)),
  BIOS: elem('bios>entry', slice(entryCodec)),
  BaseBoard: elem('baseBoard>entry', slice(entryCodec)),
  Chassis: elem('chassis>entry', slice(entryCodec)),
  OEMStrings: elem('oemStrings>entry', slice(str), OMITEMPTY),
}));

export type Entry = {
  Name: string;
  Value: string;
};
export const entryCodec = struct<Entry>('Entry', () => ({
  Name: attr('name', str),
  Value: chardata(str),
}));

// --- devices -------------------------------------------------------------------------------------

export type Devices = {
  Emulator: string;
  Interfaces: Interface[] | null;
  Channels: Channel[] | null;
  HostDevices: HostDevice[] | null;
  PanicDevices: PanicDevice[] | null;
  Controllers: Controller[] | null;
  Video: Video[] | null;
  Graphics: Graphics[] | null;
  Ballooning: MemBalloon | null;
  Disks: Disk[] | null;
  Inputs: Input[] | null;
  Serials: Serial[] | null;
  Consoles: Console[] | null;
  Watchdogs: Watchdog[] | null;
  Rng: Rng | null;
  Filesystems: FilesystemDevice[] | null;
  Redirs: RedirectedDevice[] | null;
  SoundCards: SoundCard[] | null;
  TPMs: TPM[] | null;
  VSOCK: VSOCK | null;
  Memory: MemoryDevice | null;
  /** not modelled: always null */
  IOMMU: null;
};
export const devicesCodec = struct<Devices>('Devices', () => ({
  Emulator: elem('emulator', str, OMITEMPTY),
  Interfaces: elem('interface', slice(interfaceCodec)),
  Channels: elem('channel', slice(channelCodec)),
  HostDevices: elem('hostdev', slice(hostDeviceCodec), OMITEMPTY),
  PanicDevices: elem('panic', slice(panicDeviceCodec), OMITEMPTY),
  Controllers: elem('controller', slice(controllerCodec), OMITEMPTY),
  Video: elem('video', slice(videoCodec)),
  Graphics: elem('graphics', slice(graphicsCodec)),
  Ballooning: elem('memballoon', ptr(memBalloonCodec), OMITEMPTY),
  Disks: elem('disk', slice(diskCodec)),
  Inputs: elem('input', slice(inputCodec)),
  Serials: elem('serial', slice(serialCodec)),
  Consoles: elem('console', slice(consoleCodec)),
  Watchdogs: elem('watchdog', slice(watchdogCodec), OMITEMPTY),
  Rng: elem('rng', ptr(rngCodec), OMITEMPTY),
  Filesystems: elem('filesystem', slice(filesystemDeviceCodec), OMITEMPTY),
  Redirs: elem('redirdev', slice(redirectedDeviceCodec), OMITEMPTY),
  SoundCards: elem('sound', slice(soundCardCodec), OMITEMPTY),
  TPMs: elem('tpm', slice(tpmCodec), OMITEMPTY),
  VSOCK: elem('vsock', ptr(vsockCodec), OMITEMPTY),
  Memory: elem('memory', ptr(memoryDeviceCodec), OMITEMPTY),
  IOMMU: jsonOnly(unmodelled),
}));

export type Address = {
  Type: string;
  Domain: string;
  Bus: string;
  Slot: string;
  Function: string;
  Controller: string;
  Target: string;
  Unit: string;
  UUID: string;
  Device: string;
  CSSID: string;
  SSID: string;
  DevNo: string;
};
export const addressCodec = struct<Address>('Address', () => ({
  Type: attr('type', str),
  Domain: attr('domain', str, OMITEMPTY),
  Bus: attr('bus', str),
  Slot: attr('slot', str, OMITEMPTY),
  Function: attr('function', str, OMITEMPTY),
  Controller: attr('controller', str, OMITEMPTY),
  Target: attr('target', str, OMITEMPTY),
  Unit: attr('unit', str, OMITEMPTY),
  UUID: attr('uuid', str, OMITEMPTY),
  Device: attr('device', str, OMITEMPTY),
  CSSID: attr('cssid', str, OMITEMPTY),
  SSID: attr('ssid', str, OMITEMPTY),
  DevNo: attr('devno', str, OMITEMPTY),
}));

export type BootOrder = {
  Order: number;
};
export const bootOrderCodec = struct<BootOrder>('BootOrder', () => ({
  Order: attr('order', uint),
}));

// interface

export type Interface = {
  XMLName: XMLName;
  Address: Address | null;
  Type: string;
  TrustGuestRxFilters: string;
  Source: InterfaceSource;
  Target: InterfaceTarget | null;
  Model: Model | null;
  MAC: MAC | null;
  MTU: MTU | null;
  BandWidth: BandWidth | null;
  BootOrder: BootOrder | null;
  LinkState: LinkState | null;
  FilterRef: FilterRef | null;
  Alias: Alias | null;
  Driver: InterfaceDriver | null;
  Rom: Rom | null;
  ACPI: ACPI | null;
  Backend: InterfaceBackend | null;
  PortForward: InterfacePortForward[] | null;
};
export const interfaceCodec = struct<Interface>('Interface', () => ({
  XMLName: XMLNameField,
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  Type: attr('type', str),
  TrustGuestRxFilters: attr('trustGuestRxFilters', str, OMITEMPTY),
  Source: elem('source', interfaceSourceCodec),
  Target: elem('target', ptr(interfaceTargetCodec), OMITEMPTY),
  Model: elem('model', ptr(modelCodec), OMITEMPTY),
  MAC: elem('mac', ptr(macCodec), OMITEMPTY),
  MTU: elem('mtu', ptr(mtuCodec), OMITEMPTY),
  BandWidth: elem('bandwidth', ptr(bandWidthCodec), OMITEMPTY),
  BootOrder: elem('boot', ptr(bootOrderCodec), OMITEMPTY),
  LinkState: elem('link', ptr(linkStateCodec), OMITEMPTY),
  FilterRef: elem('filterref', ptr(filterRefCodec), OMITEMPTY),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Driver: elem('driver', ptr(interfaceDriverCodec), OMITEMPTY),
  Rom: elem('rom', ptr(romCodec), OMITEMPTY),
  ACPI: elem('acpi', ptr(acpiCodec), OMITEMPTY),
  Backend: elem('backend', ptr(interfaceBackendCodec), OMITEMPTY),
  PortForward: elem('portForward', slice(interfacePortForwardCodec), OMITEMPTY),
}));

export type InterfaceSource = {
  Network: string;
  Device: string;
  Bridge: string;
  Mode: string;
  Address: Address | null;
};
export const interfaceSourceCodec = struct<InterfaceSource>('InterfaceSource', () => ({
  Network: attr('network', str, OMITEMPTY),
  Device: attr('dev', str, OMITEMPTY),
  Bridge: attr('bridge', str, OMITEMPTY),
  Mode: attr('mode', str, OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
}));

export type InterfaceTarget = {
  Device: string;
  Managed: string;
};
export const interfaceTargetCodec = struct<InterfaceTarget>('InterfaceTarget', () => ({
  Device: attr('dev', str),
  Managed: attr('managed', str, OMITEMPTY),
}));

export type Model = {
  Type: string;
};
export const modelCodec = struct<Model>('Model', () => ({
  Type: attr('type', str),
}));

export type MAC = {
  MAC: string;
};
export const macCodec = struct<MAC>('MAC', () => ({
  MAC: attr('address', str),
}));

export type MTU = {
  Size: string;
};
export const mtuCodec = struct<MTU>('MTU', () => ({
  Size: attr('size', str),
}));

export type BandWidth = Record<string, never>;
export const bandWidthCodec = struct<BandWidth>('BandWidth', () => ({}));

export type LinkState = {
  State: string;
};
export const linkStateCodec = struct<LinkState>('LinkState', () => ({
  State: attr('state', str),
}));

export type FilterRef = {
  Filter: string;
};
export const filterRefCodec = struct<FilterRef>('FilterRef', () => ({
  Filter: attr('filter', str),
}));

export type InterfaceDriver = {
  Name: string;
  Queues: number | null;
  IOMMU: string;
};
export const interfaceDriverCodec = struct<InterfaceDriver>('InterfaceDriver', () => ({
  Name: attr('name', str),
  Queues: attr('queues', ptr(uint), OMITEMPTY),
  IOMMU: attr('iommu', str, OMITEMPTY),
}));

export type Rom = {
  Enabled: string;
};
export const romCodec = struct<Rom>('Rom', () => ({
  Enabled: attr('enabled', str),
}));

export type ACPI = {
  Index: number;
};
export const acpiCodec = struct<ACPI>('ACPI', () => ({
  Index: attr('index', uint),
}));

export type InterfaceBackend = {
  Type: string;
  LogFile: string;
};
export const interfaceBackendCodec = struct<InterfaceBackend>('InterfaceBackend', () => ({
  Type: attr('type', str, OMITEMPTY),
  LogFile: attr('logFile', str, OMITEMPTY),
}));

export type InterfacePortForward = {
  Proto: string;
  Address: string;
  Dev: string;
  Ranges: InterfacePortForwardRange[] | null;
};
export const interfacePortForwardCodec = struct<InterfacePortForward>('InterfacePortForward', () => ({
  Proto: attr('proto', str),
  Address: attr('address', str, OMITEMPTY),
  Dev: attr('dev', str, OMITEMPTY),
  Ranges: elem('range', slice(interfacePortForwardRangeCodec), OMITEMPTY),
}));

export type InterfacePortForwardRange = {
  Start: number;
  End: number;
  To: number;
  Exclude: string;
};
export const interfacePortForwardRangeCodec = struct<InterfacePortForwardRange>('InterfacePortForwardRange', () => ({
  Start: attr('start', uint),
  End: attr('end', uint, OMITEMPTY),
  To: attr('to', uint, OMITEMPTY),
  Exclude: attr('exclude', str, OMITEMPTY),
}));

// channel

export type Channel = {
  Type: string;
  Source: ChannelSource | null;
  Target: ChannelTarget | null;
};
export const channelCodec = struct<Channel>('Channel', () => ({
  Type: attr('type', str),
  Source: elem('source', ptr(channelSourceCodec), OMITEMPTY),
  Target: elem('target', ptr(channelTargetCodec), OMITEMPTY),
}));

export type ChannelTarget = {
  Name: string;
  Type: string;
  Address: string;
  Port: number;
  /** `connected`/`disconnected` in a running domain's XML: how the handler knows the agent is up */
  State: string;
};
export const channelTargetCodec = struct<ChannelTarget>('ChannelTarget', () => ({
  Name: attr('name', str, OMITEMPTY),
  Type: attr('type', str),
  Address: attr('address', str, OMITEMPTY),
  Port: attr('port', uint, OMITEMPTY),
  State: attr('state', str, OMITEMPTY),
}));

export type ChannelSource = {
  Mode: string;
  Path: string;
};
export const channelSourceCodec = struct<ChannelSource>('ChannelSource', () => ({
  Mode: attr('mode', str),
  Path: attr('path', str),
}));

// hostdev, panic

export type HostDevice = {
  XMLName: XMLName;
  Source: HostDeviceSource;
  Type: string;
  BootOrder: BootOrder | null;
  Managed: string;
  Mode: string;
  Model: string;
  Address: Address | null;
  Alias: Alias | null;
  Display: string;
  RamFB: string;
};
export const hostDeviceCodec = struct<HostDevice>('HostDevice', () => ({
  XMLName: XMLNameField,
  Source: elem('source', hostDeviceSourceCodec),
  Type: attr('type', str),
  BootOrder: elem('boot', ptr(bootOrderCodec), OMITEMPTY),
  Managed: attr('managed', str, OMITEMPTY),
  Mode: attr('mode', str, OMITEMPTY),
  Model: attr('model', str, OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Display: attr('display', str, OMITEMPTY),
  RamFB: attr('ramfb', str, OMITEMPTY),
}));

export type HostDeviceSource = {
  Address: Address | null;
};
export const hostDeviceSourceCodec = struct<HostDeviceSource>('HostDeviceSource', () => ({
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
}));

export type PanicDevice = {
  Model: string | null;
};
export const panicDeviceCodec = struct<PanicDevice>('PanicDevice', () => ({
  Model: attr('model', ptr(str), OMITEMPTY),
}));

// controller

export type Controller = {
  Type: string;
  Index: string;
  Model: string;
  Driver: ControllerDriver | null;
  Alias: Alias | null;
  Address: Address | null;
  PCIHole64: PCIHole64 | null;
  Target: ControllerTarget | null;
};
export const controllerCodec = struct<Controller>('Controller', () => ({
  Type: attr('type', str),
  Index: attr('index', str),
  Model: attr('model', str, OMITEMPTY),
  Driver: elem('driver', ptr(controllerDriverCodec), OMITEMPTY),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  PCIHole64: elem('pcihole64', ptr(pciHole64Codec), OMITEMPTY),
  Target: elem('target', ptr(controllerTargetCodec), OMITEMPTY),
}));

export const ControllerTypePCI = 'pci';
export const ControllerModelPCIRoot = 'pci-root';
export const ControllerModelPCIeRoot = 'pcie-root';
export const ControllerModelPCIeRootPort = 'pcie-root-port';
export const ControllerModelPCIeExpanderBus = 'pcie-expander-bus';

/** libvirt's chassis and port are not modelled: a root port read back has an empty target. */
export type ControllerTarget = {
  Hotplug: string;
  BusNr: number | null;
  NUMANode: number | null;
};
export const controllerTargetCodec = struct<ControllerTarget>('ControllerTarget', () => ({
  Hotplug: attr('hotplug', str, OMITEMPTY),
  BusNr: attr('busNr', ptr(uint), OMITEMPTY),
  NUMANode: elem('node', ptr(uint), OMITEMPTY),
}));

export type ControllerDriver = {
  IOThread: number | null;
  Queues: number | null;
  IOThreads: DiskIOThreads | null;
  IOMMU: string;
};
export const controllerDriverCodec = struct<ControllerDriver>('ControllerDriver', () => ({
  IOThread: attr('iothread', ptr(uint), OMITEMPTY),
  Queues: attr('queues', ptr(uint), OMITEMPTY),
  IOThreads: elem('iothreads', ptr(diskIOThreadsCodec), OMITEMPTY),
  IOMMU: attr('iommu', str, OMITEMPTY),
}));

export type PCIHole64 = {
  Value: number;
  Unit: string;
};
export const pciHole64Codec = struct<PCIHole64>('PCIHole64', () => ({
  Value: chardata(uint),
  Unit: attr('unit', str, OMITEMPTY),
}));

// video, graphics

export type Video = {
  Model: VideoModel;
};
export const videoCodec = struct<Video>('Video', () => ({
  Model: elem('model', videoModelCodec),
}));

export type VideoModel = {
  Type: string;
  Heads: number | null;
  Ram: number | null;
  VRam: number | null;
  VGAMem: number | null;
};
export const videoModelCodec = struct<VideoModel>('VideoModel', () => ({
  Type: attr('type', str),
  Heads: attr('heads', ptr(uint), OMITEMPTY),
  Ram: attr('ram', ptr(uint), OMITEMPTY),
  VRam: attr('vram', ptr(uint), OMITEMPTY),
  VGAMem: attr('vgamem', ptr(uint), OMITEMPTY),
}));

export type Graphics = {
  AutoPort: string;
  DefaultMode: string;
  Listen: GraphicsListen | null;
  PasswdValidTo: string;
  Port: number;
  TLSPort: number;
  Type: string;
};
export const graphicsCodec = struct<Graphics>('Graphics', () => ({
  AutoPort: attr('autoport', str, OMITEMPTY),
  DefaultMode: attr('defaultMode', str, OMITEMPTY),
  Listen: elem('listen', ptr(graphicsListenCodec), OMITEMPTY),
  PasswdValidTo: attr('passwdValidTo', str, OMITEMPTY),
  Port: attr('port', int, OMITEMPTY),
  TLSPort: attr('tlsPort', int, OMITEMPTY),
  Type: attr('type', str),
}));

export type GraphicsListen = {
  Type: string;
  Address: string;
  Network: string;
  Socket: string;
};
export const graphicsListenCodec = struct<GraphicsListen>('GraphicsListen', () => ({
  Type: attr('type', str),
  Address: attr('address', str, OMITEMPTY),
  // sic: KubeVirt's tag is misspelt, so libvirt's `network` attribute is never read back
  Network: attr('newtork', str, OMITEMPTY),
  Socket: attr('socket', str, OMITEMPTY),
}));

// memballoon

export type MemBalloon = {
  Model: string;
  Stats: Stats | null;
  Address: Address | null;
  Driver: MemBalloonDriver | null;
  FreePageReporting: string;
};
export const memBalloonCodec = struct<MemBalloon>('MemBalloon', () => ({
  Model: attr('model', str),
  Stats: elem('stats', ptr(statsCodec), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  Driver: elem('driver', ptr(memBalloonDriverCodec), OMITEMPTY),
  FreePageReporting: attr('freePageReporting', str, OMITEMPTY),
}));

export type Stats = {
  Period: number;
};
export const statsCodec = struct<Stats>('Stats', () => ({
  Period: attr('period', uint),
}));

export type MemBalloonDriver = {
  IOMMU: string;
};
export const memBalloonDriverCodec = struct<MemBalloonDriver>('MemBalloonDriver', () => ({
  IOMMU: attr('iommu', str, OMITEMPTY),
}));

// disk

export type Disk = {
  Device: string;
  Snapshot: string;
  Type: string;
  Source: DiskSource;
  Target: DiskTarget;
  Serial: string;
  Driver: DiskDriver | null;
  ReadOnly: ReadOnly | null;
  Auth: DiskAuth | null;
  Alias: Alias | null;
  BackingStore: BackingStore | null;
  BootOrder: BootOrder | null;
  Address: Address | null;
  Model: string;
  BlockIO: BlockIO | null;
  FilesystemOverhead: string | null;
  Capacity: number | null;
  ExpandDisksEnabled: boolean;
  Shareable: Shareable | null;
};
export const diskCodec = struct<Disk>('Disk', () => ({
  Device: attr('device', str),
  Snapshot: attr('snapshot', str, OMITEMPTY),
  Type: attr('type', str),
  Source: elem('source', diskSourceCodec),
  Target: elem('target', diskTargetCodec),
  Serial: elem('serial', str, OMITEMPTY),
  Driver: elem('driver', ptr(diskDriverCodec), OMITEMPTY),
  ReadOnly: elem('readonly', ptr(readOnlyCodec), OMITEMPTY),
  Auth: elem('auth', ptr(diskAuthCodec), OMITEMPTY),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  BackingStore: elem('backingStore', ptr(backingStoreCodec), OMITEMPTY),
  BootOrder: elem('boot', ptr(bootOrderCodec), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  Model: attr('model', str, OMITEMPTY),
  BlockIO: elem('blockio', ptr(blockIOCodec), OMITEMPTY),
  FilesystemOverhead: elem('filesystemOverhead', ptr(str), OMITEMPTY),
  Capacity: elem('capacity', ptr(int), OMITEMPTY),
  ExpandDisksEnabled: elem('expandDisksEnabled', bool, OMITEMPTY),
  Shareable: elem('shareable', ptr(shareableCodec), OMITEMPTY),
}));

export type DiskSource = {
  Dev: string;
  File: string;
  StartupPolicy: string;
  Protocol: string;
  Name: string;
  Host: DiskSourceHost | null;
  Reservations: Reservations | null;
  Slices: Slice[] | null;
  DataStore: DataStore | null;
};
export const diskSourceCodec: Codec<DiskSource> = struct<DiskSource>('DiskSource', () => ({
  Dev: attr('dev', str, OMITEMPTY),
  File: attr('file', str, OMITEMPTY),
  StartupPolicy: attr('startupPolicy', str, OMITEMPTY),
  Protocol: attr('protocol', str, OMITEMPTY),
  Name: attr('name', str, OMITEMPTY),
  Host: elem('host', ptr(diskSourceHostCodec), OMITEMPTY),
  Reservations: elem('reservations', ptr(reservationsCodec), OMITEMPTY),
  Slices: elem('slices', slice(sliceCodec), OMITEMPTY),
  DataStore: elem('dataStore', ptr(dataStoreCodec), OMITEMPTY),
}));

export type DiskTarget = {
  Bus: string;
  Device: string;
  Tray: string;
};
export const diskTargetCodec = struct<DiskTarget>('DiskTarget', () => ({
  Bus: attr('bus', str, OMITEMPTY),
  Device: attr('dev', str, OMITEMPTY),
  Tray: attr('tray', str, OMITEMPTY),
}));

export type DiskDriver = {
  Cache: string;
  ErrorPolicy: string;
  IO: string;
  Name: string;
  Type: string;
  IOThread: number | null;
  IOThreads: DiskIOThreads | null;
  Queues: number | null;
  Discard: string;
  IOMMU: string;
};
export const diskDriverCodec = struct<DiskDriver>('DiskDriver', () => ({
  Cache: attr('cache', str, OMITEMPTY),
  ErrorPolicy: attr('error_policy', str, OMITEMPTY),
  IO: attr('io', str, OMITEMPTY),
  Name: attr('name', str),
  Type: attr('type', str),
  IOThread: attr('iothread', ptr(uint), OMITEMPTY),
  IOThreads: elem('iothreads', ptr(diskIOThreadsCodec)),
  Queues: attr('queues', ptr(uint), OMITEMPTY),
  Discard: attr('discard', str, OMITEMPTY),
  IOMMU: attr('iommu', str, OMITEMPTY),
}));

export type DiskIOThreads = {
  IOThread: DiskIOThread[] | null;
};
export const diskIOThreadsCodec = struct<DiskIOThreads>('DiskIOThreads', () => ({
  IOThread: elem('iothread', slice(diskIOThreadCodec)),
}));

export type DiskIOThread = {
  Id: number;
};
export const diskIOThreadCodec = struct<DiskIOThread>('DiskIOThread', () => ({
  Id: attr('id', uint),
}));

export type ReadOnly = Record<string, never>;
export const readOnlyCodec = struct<ReadOnly>('ReadOnly', () => ({}));

export type Shareable = Record<string, never>;
export const shareableCodec = struct<Shareable>('Shareable', () => ({}));

export type DiskAuth = {
  Username: string;
  Secret: DiskSecret | null;
};
export const diskAuthCodec = struct<DiskAuth>('DiskAuth', () => ({
  Username: attr('username', str),
  Secret: elem('secret', ptr(diskSecretCodec), OMITEMPTY),
}));

export type DiskSecret = {
  Type: string;
  Usage: string;
  UUID: string;
};
export const diskSecretCodec = struct<DiskSecret>('DiskSecret', () => ({
  Type: attr('type', str),
  Usage: attr('usage', str, OMITEMPTY),
  UUID: attr('uuid', str, OMITEMPTY),
}));

export type DiskSourceHost = {
  Name: string;
  Port: string;
};
export const diskSourceHostCodec = struct<DiskSourceHost>('DiskSourceHost', () => ({
  Name: attr('name', str),
  Port: attr('port', str, OMITEMPTY),
}));

export type Reservations = {
  Managed: string;
  SourceReservations: SourceReservations | null;
};
export const reservationsCodec = struct<Reservations>('Reservations', () => ({
  Managed: attr('managed', str, OMITEMPTY),
  SourceReservations: elem('source', ptr(sourceReservationsCodec), OMITEMPTY),
}));

export type SourceReservations = {
  Type: string;
  Path: string;
  Mode: string;
};
export const sourceReservationsCodec = struct<SourceReservations>('SourceReservations', () => ({
  Type: attr('type', str),
  Path: attr('path', str, OMITEMPTY),
  Mode: attr('mode', str, OMITEMPTY),
}));

export type Slice = {
  Slice: SliceType;
};
export const sliceCodec = struct<Slice>('Slice', () => ({
  Slice: elem('slice', sliceTypeCodec, OMITEMPTY),
}));

export type SliceType = {
  Type: string;
  Offset: number;
  Size: number;
};
export const sliceTypeCodec = struct<SliceType>('SliceType', () => ({
  Type: attr('type', str),
  Offset: attr('offset', int),
  Size: attr('size', int),
}));

export type DataStore = {
  Type: string;
  Format: DataStoreFormat | null;
  Source: DiskSource | null;
};
export const dataStoreCodec: Codec<DataStore> = struct<DataStore>('DataStore', () => ({
  Type: attr('type', str, OMITEMPTY),
  Format: elem('format', ptr(dataStoreFormatCodec), OMITEMPTY),
  Source: elem('source', ptr(diskSourceCodec), OMITEMPTY),
}));

export type DataStoreFormat = {
  Type: string;
};
export const dataStoreFormatCodec = struct<DataStoreFormat>('DataStoreFormat', () => ({
  Type: attr('type', str),
}));

export type BackingStore = {
  Type: string;
  Format: BackingStoreFormat | null;
  Source: DiskSource | null;
};
export const backingStoreCodec = struct<BackingStore>('BackingStore', () => ({
  Type: attr('type', str, OMITEMPTY),
  Format: elem('format', ptr(backingStoreFormatCodec), OMITEMPTY),
  Source: elem('source', ptr(diskSourceCodec), OMITEMPTY),
}));

export type BackingStoreFormat = {
  Type: string;
};
export const backingStoreFormatCodec = struct<BackingStoreFormat>('BackingStoreFormat', () => ({
  Type: attr('type', str),
}));

export type BlockIO = {
  LogicalBlockSize: number;
  PhysicalBlockSize: number;
  DiscardGranularity: number | null;
};
export const blockIOCodec = struct<BlockIO>('BlockIO', () => ({
  LogicalBlockSize: attr('logical_block_size', uint, OMITEMPTY),
  PhysicalBlockSize: attr('physical_block_size', uint, OMITEMPTY),
  DiscardGranularity: attr('discard_granularity', ptr(uint), OMITEMPTY),
}));

// input, serial, console

export type Input = {
  Type: string;
  Bus: string;
  Alias: Alias | null;
  Address: Address | null;
  Model: string;
};
export const inputCodec = struct<Input>('Input', () => ({
  Type: attr('type', str),
  Bus: attr('bus', str),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  Model: attr('model', str, OMITEMPTY),
}));

export type Serial = {
  Type: string;
  Target: SerialTarget | null;
  Source: SerialSource | null;
  Alias: Alias | null;
  Log: SerialLog | null;
};
export const serialCodec = struct<Serial>('Serial', () => ({
  Type: attr('type', str),
  Target: elem('target', ptr(serialTargetCodec), OMITEMPTY),
  Source: elem('source', ptr(serialSourceCodec), OMITEMPTY),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Log: elem('log', ptr(serialLogCodec), OMITEMPTY),
}));

export type SerialTarget = {
  Port: number | null;
};
export const serialTargetCodec = struct<SerialTarget>('SerialTarget', () => ({
  Port: attr('port', ptr(uint), OMITEMPTY),
}));

export type SerialSource = {
  Mode: string;
  Path: string;
};
export const serialSourceCodec = struct<SerialSource>('SerialSource', () => ({
  Mode: attr('mode', str, OMITEMPTY),
  Path: attr('path', str, OMITEMPTY),
}));

export type SerialLog = {
  File: string;
  Append: string;
};
export const serialLogCodec = struct<SerialLog>('SerialLog', () => ({
  File: attr('file', str, OMITEMPTY),
  Append: attr('append', str, OMITEMPTY),
}));

export type Console = {
  Type: string;
  Target: ConsoleTarget | null;
  Source: ConsoleSource | null;
  Alias: Alias | null;
};
export const consoleCodec = struct<Console>('Console', () => ({
  Type: attr('type', str),
  Target: elem('target', ptr(consoleTargetCodec), OMITEMPTY),
  Source: elem('source', ptr(consoleSourceCodec), OMITEMPTY),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
}));

export type ConsoleTarget = {
  Type: string | null;
  Port: number | null;
};
export const consoleTargetCodec = struct<ConsoleTarget>('ConsoleTarget', () => ({
  Type: attr('type', ptr(str), OMITEMPTY),
  Port: attr('port', ptr(uint), OMITEMPTY),
}));

export type ConsoleSource = {
  Mode: string;
  Path: string;
};
export const consoleSourceCodec = struct<ConsoleSource>('ConsoleSource', () => ({
  Mode: attr('mode', str, OMITEMPTY),
  Path: attr('path', str, OMITEMPTY),
}));

// watchdog, rng

export type Watchdog = {
  Model: string;
  Action: string;
  Alias: Alias | null;
  Address: Address | null;
};
export const watchdogCodec = struct<Watchdog>('Watchdog', () => ({
  Model: attr('model', str),
  Action: attr('action', str),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
}));

export type Rng = {
  Model: string;
  Backend: RngBackend | null;
  Address: Address | null;
  Driver: RngDriver | null;
};
export const rngCodec = struct<Rng>('Rng', () => ({
  Model: attr('model', str),
  Backend: elem('backend', ptr(rngBackendCodec), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
  Driver: elem('driver', ptr(rngDriverCodec), OMITEMPTY),
}));

export type RngBackend = {
  Model: string;
  Source: string;
};
export const rngBackendCodec = struct<RngBackend>('RngBackend', () => ({
  Model: attr('model', str),
  Source: chardata(str),
}));

export type RngDriver = {
  IOMMU: string;
};
export const rngDriverCodec = struct<RngDriver>('RngDriver', () => ({
  IOMMU: attr('iommu', str, OMITEMPTY),
}));

// filesystem, redirdev, sound, tpm, vsock, memory

export type FilesystemDevice = {
  Type: string;
  AccessMode: string;
  Source: FilesystemSource | null;
  Target: FilesystemTarget | null;
  Driver: FilesystemDriver | null;
  Binary: FilesystemBinary | null;
};
export const filesystemDeviceCodec = struct<FilesystemDevice>('FilesystemDevice', () => ({
  Type: attr('type', str),
  AccessMode: attr('accessMode', str),
  Source: elem('source', ptr(filesystemSourceCodec), OMITEMPTY),
  Target: elem('target', ptr(filesystemTargetCodec), OMITEMPTY),
  Driver: elem('driver', ptr(filesystemDriverCodec), OMITEMPTY),
  Binary: elem('binary', ptr(filesystemBinaryCodec), OMITEMPTY),
}));

export type FilesystemSource = {
  Dir: string;
  Socket: string;
};
export const filesystemSourceCodec = struct<FilesystemSource>('FilesystemSource', () => ({
  Dir: attr('dir', str),
  Socket: attr('socket', str, OMITEMPTY),
}));

export type FilesystemTarget = {
  Dir: string;
};
export const filesystemTargetCodec = struct<FilesystemTarget>('FilesystemTarget', () => ({
  Dir: attr('dir', str, OMITEMPTY),
}));

export type FilesystemDriver = {
  Type: string;
  Queue: string;
};
export const filesystemDriverCodec = struct<FilesystemDriver>('FilesystemDriver', () => ({
  Type: attr('type', str),
  Queue: attr('queue', str, OMITEMPTY),
}));

export type FilesystemBinary = {
  Path: string;
  Xattr: string;
  Cache: FilesystemBinaryCache | null;
  Lock: FilesystemBinaryLock | null;
};
export const filesystemBinaryCodec = struct<FilesystemBinary>('FilesystemBinary', () => ({
  Path: attr('path', str, OMITEMPTY),
  Xattr: attr('xattr', str, OMITEMPTY),
  Cache: elem('cache', ptr(filesystemBinaryCacheCodec), OMITEMPTY),
  Lock: elem('lock', ptr(filesystemBinaryLockCodec), OMITEMPTY),
}));

export type FilesystemBinaryCache = {
  Mode: string;
};
export const filesystemBinaryCacheCodec = struct<FilesystemBinaryCache>('FilesystemBinaryCache', () => ({
  Mode: attr('mode', str, OMITEMPTY),
}));

export type FilesystemBinaryLock = {
  Posix: string;
  Flock: string;
};
export const filesystemBinaryLockCodec = struct<FilesystemBinaryLock>('FilesystemBinaryLock', () => ({
  Posix: attr('posix', str, OMITEMPTY),
  Flock: attr('flock', str, OMITEMPTY),
}));

export type RedirectedDevice = {
  Type: string;
  Bus: string;
  Source: RedirectedDeviceSource;
};
export const redirectedDeviceCodec = struct<RedirectedDevice>('RedirectedDevice', () => ({
  Type: attr('type', str),
  Bus: attr('bus', str),
  Source: elem('source', redirectedDeviceSourceCodec),
}));

export type RedirectedDeviceSource = {
  Mode: string;
  Path: string;
};
export const redirectedDeviceSourceCodec = struct<RedirectedDeviceSource>('RedirectedDeviceSource', () => ({
  Mode: attr('mode', str),
  Path: attr('path', str),
}));

export type SoundCard = {
  Alias: Alias | null;
  Model: string;
};
export const soundCardCodec = struct<SoundCard>('SoundCard', () => ({
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Model: attr('model', str),
}));

export type TPM = {
  Model: string;
  Backend: TPMBackend;
};
export const tpmCodec = struct<TPM>('TPM', () => ({
  Model: attr('model', str),
  Backend: elem('backend', tpmBackendCodec),
}));

export type TPMBackend = {
  Type: string;
  Version: string;
  PersistentState: string;
};
export const tpmBackendCodec = struct<TPMBackend>('TPMBackend', () => ({
  Type: attr('type', str),
  Version: attr('version', str),
  PersistentState: attr('persistent_state', str, OMITEMPTY),
}));

export type VSOCK = {
  Model: string;
  CID: CID;
};
export const vsockCodec = struct<VSOCK>('VSOCK', () => ({
  Model: attr('model', str, OMITEMPTY),
  CID: elem('cid', cidCodec),
}));

export type CID = {
  Auto: string;
  Address: number;
};
export const cidCodec = struct<CID>('CID', () => ({
  Auto: attr('auto', str),
  Address: attr('address', uint, OMITEMPTY),
}));

export type MemoryDevice = {
  XMLName: XMLName;
  Model: string;
  Target: MemoryTarget | null;
  Alias: Alias | null;
  Address: Address | null;
};
export const memoryDeviceCodec = struct<MemoryDevice>('MemoryDevice', () => ({
  XMLName: XMLNameField,
  Model: attr('model', str),
  Target: elem('target', ptr(memoryTargetCodec)),
  Alias: elem('alias', ptr(alias), OMITEMPTY),
  Address: elem('address', ptr(addressCodec), OMITEMPTY),
}));

export type MemoryTarget = {
  Size: Memory;
  Requested: Memory;
  Current: Memory;
  Node: string;
  Block: Memory;
  Address: MemoryAddress | null;
};
export const memoryTargetCodec = struct<MemoryTarget>('MemoryTarget', () => ({
  Size: elem('size', memoryCodec),
  Requested: elem('requested', memoryCodec),
  Current: elem('current', memoryCodec),
  Node: elem('node', str),
  Block: elem('block', memoryCodec),
  Address: elem('address', ptr(memoryAddressCodec), OMITEMPTY),
}));

export type MemoryAddress = {
  Base: string;
};
export const memoryAddressCodec = struct<MemoryAddress>('MemoryAddress', () => ({
  Base: attr('base', str),
}));

// --- clock, resource, qemu:commandline ----------------------------------------------------------

export type Clock = {
  Offset: string;
  Timezone: string;
  Adjustment: string;
  Timer: Timer[] | null;
};
export const clockCodec = struct<Clock>('Clock', () => ({
  Offset: attr('offset', str, OMITEMPTY),
  Timezone: attr('timezone', str, OMITEMPTY),
  Adjustment: attr('adjustment', str, OMITEMPTY),
  Timer: elem('timer', slice(timerCodec), OMITEMPTY),
}));

export type Timer = {
  Name: string;
  TickPolicy: string;
  Present: string;
  Track: string;
  Frequency: string;
};
export const timerCodec = struct<Timer>('Timer', () => ({
  Name: attr('name', str),
  TickPolicy: attr('tickpolicy', str, OMITEMPTY),
  Present: attr('present', str, OMITEMPTY),
  Track: attr('track', str, OMITEMPTY),
  Frequency: attr('frequency', str, OMITEMPTY),
}));

export type Resource = {
  Partition: string;
};
export const resourceCodec = struct<Resource>('Resource', () => ({
  Partition: elem('partition', str),
}));

export type Commandline = {
  QEMUEnv: Env[] | null;
  QEMUArg: Arg[] | null;
};
export const commandlineCodec = struct<Commandline>('Commandline', () => ({
  QEMUEnv: elem('qemu:env', slice(envCodec), OMITEMPTY),
  QEMUArg: elem('qemu:arg', slice(argCodec), OMITEMPTY),
}));

export type Env = {
  Name: string;
  Value: string;
};
export const envCodec = struct<Env>('Env', () => ({
  Name: attr('name', str),
  Value: attr('value', str),
}));

export type Arg = {
  Value: string;
};
export const argCodec = struct<Arg>('Arg', () => ({
  Value: attr('value', str),
}));

// --- metadata ------------------------------------------------------------------------------------

export type Metadata = {
  KubeVirt: KubeVirtMetadata;
};
export const metadataCodec = struct<Metadata>('Metadata', () => ({
  // libvirt keeps one element per namespace under <metadata>; ours is <kubevirt xmlns="http://kubevirt.io">
  KubeVirt: elem('kubevirt', kubeVirtMetadataCodec, { ns: KubeVirtMetadataNamespace }),
}));

export type KubeVirtMetadata = {
  UID: string;
  GracePeriod: GracePeriodMetadata | null;
  Migration: MigrationMetadata | null;
  /** not modelled: always null */
  Backup: null;
  AccessCredential: AccessCredentialMetadata | null;
  MemoryDump: MemoryDumpMetadata | null;
};
export const kubeVirtMetadataCodec = struct<KubeVirtMetadata>('KubeVirtMetadata', () => ({
  UID: elem('uid', str),
  GracePeriod: elem('graceperiod', ptr(gracePeriodMetadataCodec), OMITEMPTY),
  Migration: elem('migration', ptr(migrationMetadataCodec), OMITEMPTY),
  Backup: jsonOnly(unmodelled),
  AccessCredential: elem('accessCredential', ptr(accessCredentialMetadataCodec), OMITEMPTY),
  MemoryDump: elem('memoryDump', ptr(memoryDumpMetadataCodec), OMITEMPTY),
}));

export type GracePeriodMetadata = {
  DeletionGracePeriodSeconds: number;
  /** metav1.Time, RFC3339 */
  DeletionTimestamp: string | null;
  MarkedForGracefulShutdown: boolean | null;
};
export const gracePeriodMetadataCodec = struct<GracePeriodMetadata>('GracePeriodMetadata', () => ({
  DeletionGracePeriodSeconds: elem('deletionGracePeriodSeconds', int),
  DeletionTimestamp: elem('deletionTimestamp', ptr(time), OMITEMPTY),
  MarkedForGracefulShutdown: elem('markedForGracefulShutdown', ptr(bool), OMITEMPTY),
}));

export type MigrationMetadata = {
  UID: string;
  StartTimestamp: string | null;
  EndTimestamp: string | null;
  Failed: boolean;
  FailureReason: string;
  AbortStatus: string;
  Mode: string;
};
export const migrationMetadataCodec = struct<MigrationMetadata>('MigrationMetadata', () => ({
  UID: elem('uid', str, OMITEMPTY),
  StartTimestamp: elem('startTimestamp', ptr(time), OMITEMPTY),
  EndTimestamp: elem('endTimestamp', ptr(time), OMITEMPTY),
  Failed: elem('failed', bool, OMITEMPTY),
  FailureReason: elem('failureReason', str, OMITEMPTY),
  AbortStatus: elem('abortStatus', str, OMITEMPTY),
  Mode: elem('mode', str, OMITEMPTY),
}));

export type AccessCredentialMetadata = {
  Succeeded: boolean;
  Message: string;
};
export const accessCredentialMetadataCodec = struct<AccessCredentialMetadata>('AccessCredentialMetadata', () => ({
  Succeeded: elem('succeeded', bool, OMITEMPTY),
  Message: elem('message', str, OMITEMPTY),
}));

export type MemoryDumpMetadata = {
  FileName: string;
  StartTimestamp: string | null;
  EndTimestamp: string | null;
  Completed: boolean;
  Failed: boolean;
  FailureReason: string;
};
export const memoryDumpMetadataCodec = struct<MemoryDumpMetadata>('MemoryDumpMetadata', () => ({
  FileName: elem('fileName', str, OMITEMPTY),
  StartTimestamp: elem('startTimestamp', ptr(time), OMITEMPTY),
  EndTimestamp: elem('endTimestamp', ptr(time), OMITEMPTY),
  Completed: elem('completed', bool, OMITEMPTY),
  Failed: elem('failed', bool, OMITEMPTY),
  FailureReason: elem('failureReason', str, OMITEMPTY),
}));

// --- features ------------------------------------------------------------------------------------

export type Features = {
  ACPI: FeatureEnabled | null;
  APIC: FeatureEnabled | null;
  Hyperv: FeatureHyperv | null;
  SMM: FeatureEnabled | null;
  KVM: FeatureKVM | null;
  PVSpinlock: FeaturePVSpinlock | null;
  PMU: FeatureState | null;
  VMPort: FeatureState | null;
};
export const featuresCodec = struct<Features>('Features', () => ({
  ACPI: elem('acpi', ptr(featureEnabledCodec), OMITEMPTY),
  APIC: elem('apic', ptr(featureEnabledCodec), OMITEMPTY),
  Hyperv: elem('hyperv', ptr(featureHypervCodec), OMITEMPTY),
  SMM: elem('smm', ptr(featureEnabledCodec), OMITEMPTY),
  KVM: elem('kvm', ptr(featureKVMCodec), OMITEMPTY),
  PVSpinlock: elem('pvspinlock', ptr(featurePVSpinlockCodec), OMITEMPTY),
  PMU: elem('pmu', ptr(featureStateCodec), OMITEMPTY),
  VMPort: elem('vmport', ptr(featureStateCodec), OMITEMPTY),
}));

export type FeatureEnabled = Record<string, never>;
export const featureEnabledCodec = struct<FeatureEnabled>('FeatureEnabled', () => ({}));

export type FeatureState = {
  State: string;
};
export const featureStateCodec = struct<FeatureState>('FeatureState', () => ({
  State: attr('state', str, OMITEMPTY),
}));

export type FeatureHyperv = {
  Mode: string;
  Relaxed: FeatureState | null;
  VAPIC: FeatureState | null;
  Spinlocks: FeatureSpinlocks | null;
  VPIndex: FeatureState | null;
  Runtime: FeatureState | null;
  SyNIC: FeatureState | null;
  SyNICTimer: SyNICTimer | null;
  Reset: FeatureState | null;
  VendorID: FeatureVendorID | null;
  Frequencies: FeatureState | null;
  Reenlightenment: FeatureState | null;
  TLBFlush: FeatureState | null;
  IPI: FeatureState | null;
  EVMCS: FeatureState | null;
};
export const featureHypervCodec = struct<FeatureHyperv>('FeatureHyperv', () => ({
  Mode: attr('mode', str, OMITEMPTY),
  Relaxed: elem('relaxed', ptr(featureStateCodec), OMITEMPTY),
  VAPIC: elem('vapic', ptr(featureStateCodec), OMITEMPTY),
  Spinlocks: elem('spinlocks', ptr(featureSpinlocksCodec), OMITEMPTY),
  VPIndex: elem('vpindex', ptr(featureStateCodec), OMITEMPTY),
  Runtime: elem('runtime', ptr(featureStateCodec), OMITEMPTY),
  SyNIC: elem('synic', ptr(featureStateCodec), OMITEMPTY),
  SyNICTimer: elem('stimer', ptr(syNICTimerCodec), OMITEMPTY),
  Reset: elem('reset', ptr(featureStateCodec), OMITEMPTY),
  VendorID: elem('vendor_id', ptr(featureVendorIDCodec), OMITEMPTY),
  Frequencies: elem('frequencies', ptr(featureStateCodec), OMITEMPTY),
  Reenlightenment: elem('reenlightenment', ptr(featureStateCodec), OMITEMPTY),
  TLBFlush: elem('tlbflush', ptr(featureStateCodec), OMITEMPTY),
  IPI: elem('ipi', ptr(featureStateCodec), OMITEMPTY),
  EVMCS: elem('evmcs', ptr(featureStateCodec), OMITEMPTY),
}));

export type FeatureSpinlocks = {
  State: string;
  Retries: number | null;
};
export const featureSpinlocksCodec = struct<FeatureSpinlocks>('FeatureSpinlocks', () => ({
  State: attr('state', str, OMITEMPTY),
  Retries: attr('retries', ptr(uint), OMITEMPTY),
}));

export type SyNICTimer = {
  Direct: FeatureState | null;
  State: string;
};
export const syNICTimerCodec = struct<SyNICTimer>('SyNICTimer', () => ({
  Direct: elem('direct', ptr(featureStateCodec), OMITEMPTY),
  State: attr('state', str, OMITEMPTY),
}));

export type FeaturePVSpinlock = {
  State: string;
};
export const featurePVSpinlockCodec = struct<FeaturePVSpinlock>('FeaturePVSpinlock', () => ({
  State: attr('state', str, OMITEMPTY),
}));

export type FeatureVendorID = {
  State: string;
  Value: string;
};
export const featureVendorIDCodec = struct<FeatureVendorID>('FeatureVendorID', () => ({
  State: attr('state', str, OMITEMPTY),
  Value: attr('value', str, OMITEMPTY),
}));

export type FeatureKVM = {
  Hidden: FeatureState | null;
  HintDedicated: FeatureState | null;
};
export const featureKVMCodec = struct<FeatureKVM>('FeatureKVM', () => ({
  Hidden: elem('hidden', ptr(featureStateCodec), OMITEMPTY),
  HintDedicated: elem('hint-dedicated', ptr(featureStateCodec), OMITEMPTY),
}));

// --- cpu -----------------------------------------------------------------------------------------

export type CPU = {
  Mode: string;
  Model: string;
  Features: CPUFeature[] | null;
  Topology: CPUTopology | null;
  NUMA: NUMA | null;
};
export const cpuCodec = struct<CPU>('CPU', () => ({
  Mode: attr('mode', str, OMITEMPTY),
  Model: elem('model', str, OMITEMPTY),
  Features: elem('feature', slice(cpuFeatureCodec)),
  Topology: elem('topology', ptr(cpuTopologyCodec)),
  NUMA: elem('numa', ptr(numaCodec), OMITEMPTY),
}));

export type CPUFeature = {
  Name: string;
  Policy: string;
};
export const cpuFeatureCodec = struct<CPUFeature>('CPUFeature', () => ({
  Name: attr('name', str),
  Policy: attr('policy', str, OMITEMPTY),
}));

export type CPUTopology = {
  Sockets: number;
  Cores: number;
  Threads: number;
};
export const cpuTopologyCodec = struct<CPUTopology>('CPUTopology', () => ({
  Sockets: attr('sockets', uint, OMITEMPTY),
  Cores: attr('cores', uint, OMITEMPTY),
  Threads: attr('threads', uint, OMITEMPTY),
}));

export type NUMA = {
  Cells: NUMACell[] | null;
};
export const numaCodec = struct<NUMA>('NUMA', () => ({
  Cells: elem('cell', slice(numaCellCodec)),
}));

export type NUMACell = {
  ID: string;
  CPUs: string;
  Memory: number | null;
  Unit: string;
  MemoryAccess: string;
};
export const numaCellCodec = struct<NUMACell>('NUMACell', () => ({
  ID: attr('id', str),
  CPUs: attr('cpus', str),
  Memory: attr('memory', ptr(uint), OMITEMPTY),
  Unit: attr('unit', str, OMITEMPTY),
  MemoryAccess: attr('memAccess', str, OMITEMPTY),
}));

export type VCPU = {
  Placement: string;
  CPUs: number;
};
export const vcpuCodec = struct<VCPU>('VCPU', () => ({
  Placement: attr('placement', str),
  CPUs: chardata(uint),
}));

export type VCPUs = {
  VCPU: VCPUsVCPU[] | null;
};
export const vcpusCodec = struct<VCPUs>('VCPUs', () => ({
  VCPU: elem('vcpu', slice(vcpusVCPUCodec)),
}));

export type VCPUsVCPU = {
  ID: number;
  Enabled: string;
  Hotpluggable: string;
  Order: number;
};
export const vcpusVCPUCodec = struct<VCPUsVCPU>('VCPUsVCPU', () => ({
  ID: attr('id', uint),
  Enabled: attr('enabled', str, OMITEMPTY),
  Hotpluggable: attr('hotpluggable', str, OMITEMPTY),
  Order: attr('order', uint, OMITEMPTY),
}));

export type CPUTune = {
  VCPUPin: CPUTuneVCPUPin[] | null;
  IOThreadPin: CPUTuneIOThreadPin[] | null;
  EmulatorPin: CPUEmulatorPin | null;
};
export const cpuTuneCodec = struct<CPUTune>('CPUTune', () => ({
  VCPUPin: elem('vcpupin', slice(cpuTuneVCPUPinCodec)),
  IOThreadPin: elem('iothreadpin', slice(cpuTuneIOThreadPinCodec), OMITEMPTY),
  EmulatorPin: elem('emulatorpin', ptr(cpuEmulatorPinCodec)),
}));

export type CPUTuneVCPUPin = {
  VCPU: number;
  CPUSet: string;
};
export const cpuTuneVCPUPinCodec = struct<CPUTuneVCPUPin>('CPUTuneVCPUPin', () => ({
  VCPU: attr('vcpu', uint),
  CPUSet: attr('cpuset', str),
}));

export type CPUTuneIOThreadPin = {
  IOThread: number;
  CPUSet: string;
};
export const cpuTuneIOThreadPinCodec = struct<CPUTuneIOThreadPin>('CPUTuneIOThreadPin', () => ({
  IOThread: attr('iothread', uint),
  CPUSet: attr('cpuset', str),
}));

export type CPUEmulatorPin = {
  CPUSet: string;
};
export const cpuEmulatorPinCodec = struct<CPUEmulatorPin>('CPUEmulatorPin', () => ({
  CPUSet: attr('cpuset', str),
}));

export type NUMATune = {
  Memory: NumaTuneMemory;
  MemNodes: MemNode[] | null;
};
export const numaTuneCodec = struct<NUMATune>('NUMATune', () => ({
  Memory: elem('memory', numaTuneMemoryCodec),
  MemNodes: elem('memnode', slice(memNodeCodec)),
}));

export type NumaTuneMemory = {
  Mode: string;
  NodeSet: string;
};
export const numaTuneMemoryCodec = struct<NumaTuneMemory>('NumaTuneMemory', () => ({
  Mode: attr('mode', str),
  NodeSet: attr('nodeset', str),
}));

export type MemNode = {
  CellID: number;
  Mode: string;
  NodeSet: string;
};
export const memNodeCodec = struct<MemNode>('MemNode', () => ({
  CellID: attr('cellid', uint),
  Mode: attr('mode', str),
  NodeSet: attr('nodeset', str),
}));

export type IOThreads = {
  IOThreads: number;
};
export const ioThreadsCodec = struct<IOThreads>('IOThreads', () => ({
  IOThreads: chardata(uint),
}));

export type LaunchSecurity = {
  Type: string;
  DHCert: string;
  Session: string;
  Cbitpos: string;
  ReducedPhysBits: string;
  Policy: string;
};
export const launchSecurityCodec = struct<LaunchSecurity>('LaunchSecurity', () => ({
  Type: attr('type', str),
  DHCert: elem('dhCert', str, OMITEMPTY),
  Session: elem('session', str, OMITEMPTY),
  Cbitpos: elem('cbitpos', str, OMITEMPTY),
  ReducedPhysBits: elem('reducedPhysBits', str, OMITEMPTY),
  Policy: elem('policy', str, OMITEMPTY),
}));
