// The protocol as data: each procedure is its program, its number, an encoder for its arguments
// (remote_*_args) and a decoder for its result (remote_*_ret). Connection turns every entry into a
// method of the same name; nothing else knows a procedure number.
import {
  DOMAIN_JOB_TYPES,
  domainStateWithReason,
  MEMORY_STAT_NR,
  MEMORY_STAT_TAGS,
  Program,
  QemuProc,
  RemoteProc,
  type DomainJobTypeName,
  type DomainStateWithReason,
  type MemoryStatTag,
} from './constants.ts';
import {
  readTypedParams,
  typedParamsToRecord,
  writeTypedParams,
  XdrError,
  type TypedParam,
  type TypedParamValue,
  type XdrReader,
  type XdrWriter,
} from './xdr.ts';

// --- shared structures ---------------------------------------------------------------------------

/** remote_nonnull_domain: how a domain travels in every call; there is no server-side handle. */
export interface Domain {
  name: string;
  /** Canonical 8-4-4-4-12 form. */
  uuid: string;
  /** -1 while the domain is not running. */
  id: number;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function uuidToBytes(uuid: string): Buffer {
  if (!UUID_RE.test(uuid)) throw new XdrError(`invalid UUID ${JSON.stringify(uuid)}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

export function uuidFromBytes(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function writeDomain(w: XdrWriter, d: Domain): void {
  w.string(d.name).fixedOpaque(uuidToBytes(d.uuid), 16).int(d.id);
}

export function readDomain(r: XdrReader): Domain {
  return { name: r.string(), uuid: uuidFromBytes(r.fixedOpaque(16)), id: r.int() };
}

const optString = (w: XdrWriter, s: string | null | undefined) => w.optional(s, (x, v) => x.string(v));
const readOptString = (r: XdrReader) => r.optional((x) => x.string());
const hyperIn = (v: bigint | number) => (typeof v === 'bigint' ? v : BigInt(v));

export interface DomainInfo {
  /** virDomainState */
  state: number;
  /** KiB */
  maxMem: bigint;
  /** KiB */
  memory: bigint;
  nrVirtCpu: number;
  /** ns */
  cpuTime: bigint;
}

export interface DomainMemoryStat {
  tag: number;
  name: MemoryStatTag | `tag_${number}`;
  value: bigint;
}

export interface DomainStatsRecord {
  domain: Domain;
  params: Record<string, TypedParamValue>;
}

export interface VcpuInfo {
  number: number;
  /** virVcpuState */
  state: number;
  cpuTime: bigint;
  /** Host CPU, or -1 offline / -2 unavailable. */
  cpu: number;
}

export interface DomainBlockStats {
  rdReq: bigint;
  rdBytes: bigint;
  wrReq: bigint;
  wrBytes: bigint;
  errs: bigint;
}

export interface DomainInterfaceStats {
  rxBytes: bigint;
  rxPackets: bigint;
  rxErrs: bigint;
  rxDrop: bigint;
  txBytes: bigint;
  txPackets: bigint;
  txErrs: bigint;
  txDrop: bigint;
}

export interface DomainJobInfo {
  type: DomainJobTypeName;
  typeCode: number;
  timeElapsed: bigint;
  timeRemaining: bigint;
  dataTotal: bigint;
  dataProcessed: bigint;
  dataRemaining: bigint;
  memTotal: bigint;
  memProcessed: bigint;
  memRemaining: bigint;
  fileTotal: bigint;
  fileProcessed: bigint;
  fileRemaining: bigint;
}

export interface DomainJobStats {
  type: DomainJobTypeName;
  typeCode: number;
  params: Record<string, TypedParamValue>;
}

export interface DomainFSInfo {
  mountpoint: string;
  name: string;
  fstype: string;
  devAliases: string[];
}

export interface DomainIPAddress {
  /** virIPAddrType: 0 IPv4, 1 IPv6 */
  type: number;
  addr: string;
  prefix: number;
}

export interface DomainInterface {
  name: string;
  hwaddr: string | null;
  addrs: DomainIPAddress[];
}

export interface DomainBlockInfo {
  allocation: bigint;
  capacity: bigint;
  physical: bigint;
}

export interface DomainDiskError {
  disk: string;
  /** virDomainDiskErrorCode */
  error: number;
}

export interface DomainControlInfo {
  state: number;
  details: number;
  stateTime: bigint;
}

export interface NodeInfo {
  model: string;
  /** KiB */
  memory: bigint;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface DomainScreenshot {
  mime: string | null;
  data: Buffer;
}

function jobType(code: number): DomainJobTypeName {
  return DOMAIN_JOB_TYPES[code] ?? 'NONE';
}

// --- the table -----------------------------------------------------------------------------------

export interface Procedure<A extends unknown[], R> {
  readonly program: number;
  readonly proc: number;
  /** Number of declared arguments; a call with one more passes CallOptions last. */
  readonly arity: number;
  /** The reply is followed by a stream of data from the daemon (libvirt's @readstream). */
  readonly readStream: boolean;
  readonly encode: (w: XdrWriter, ...args: A) => void;
  /** `stream` holds the streamed bytes of a readStream procedure, else nothing. */
  readonly decode: (r: XdrReader, stream: Buffer) => R;
}

function procedure<A extends unknown[], R>(
  program: number,
  proc: number,
  encode: (w: XdrWriter, ...args: A) => void,
  decode: (r: XdrReader, stream: Buffer) => R,
  readStream = false,
): Procedure<A, R> {
  // encode's parameters never have defaults, so its length counts every declared argument.
  return { program, proc, arity: encode.length - 1, readStream, encode, decode };
}

const remote = <A extends unknown[], R>(proc: number, encode: (w: XdrWriter, ...args: A) => void, decode: (r: XdrReader) => R) =>
  procedure(Program.REMOTE, proc, encode, decode);

const noArgs = (_w: XdrWriter) => {};
const noResult = (_r: XdrReader) => {};
const readDomainResult = (r: XdrReader) => readDomain(r);
const domOnly = (w: XdrWriter, dom: Domain) => writeDomain(w, dom);
/** A domain, an unsigned 64-bit value (bytes, KiB, ms…), flags. */
const domHyperFlags = (w: XdrWriter, dom: Domain, value: bigint | number, flags?: number) => {
  writeDomain(w, dom);
  w.uhyper(hyperIn(value)).uint(flags ?? 0);
};
const domFlags = (w: XdrWriter, dom: Domain, flags?: number) => {
  writeDomain(w, dom);
  w.uint(flags ?? 0);
};
const domXmlFlags = (w: XdrWriter, dom: Domain, xml: string, flags?: number) => {
  writeDomain(w, dom);
  w.string(xml).uint(flags ?? 0);
};
const domMountpointsFlags = (w: XdrWriter, dom: Domain, mountpoints?: readonly string[], flags?: number) => {
  writeDomain(w, dom);
  w.array(mountpoints ?? [], (x, m) => x.string(m)).uint(flags ?? 0);
};

export const procedures = {
  // --- connection ---
  authList: remote(RemoteProc.AUTH_LIST, noArgs, (r) => r.array((x) => x.int())),
  authPolkit: remote(RemoteProc.AUTH_POLKIT, noArgs, (r) => r.int() !== 0),
  connectOpen: remote(
    RemoteProc.CONNECT_OPEN,
    (w, name: string | null, flags?: number) => {
      optString(w, name);
      w.uint(flags ?? 0);
    },
    noResult,
  ),
  connectClose: remote(RemoteProc.CONNECT_CLOSE, noArgs, noResult),
  connectSupportsFeature: remote(
    RemoteProc.CONNECT_SUPPORTS_FEATURE,
    (w, feature: number) => w.int(feature),
    (r) => r.int() !== 0,
  ),
  connectGetType: remote(RemoteProc.CONNECT_GET_TYPE, noArgs, (r) => r.string()),
  /** Hypervisor (QEMU) version: major * 1,000,000 + minor * 1,000 + release. */
  connectGetVersion: remote(RemoteProc.CONNECT_GET_VERSION, noArgs, (r) => r.uhyper()),
  /** libvirt version: major * 1,000,000 + minor * 1,000 + release. */
  connectGetLibVersion: remote(RemoteProc.CONNECT_GET_LIB_VERSION, noArgs, (r) => r.uhyper()),
  connectGetHostname: remote(RemoteProc.CONNECT_GET_HOSTNAME, noArgs, (r) => r.string()),
  connectGetURI: remote(RemoteProc.CONNECT_GET_URI, noArgs, (r) => r.string()),
  connectGetCapabilities: remote(RemoteProc.CONNECT_GET_CAPABILITIES, noArgs, (r) => r.string()),
  /** virConnectGetDomainCapabilities; null picks libvirt's default (the host arch, its emulator, …). */
  connectGetDomainCapabilities: remote(
    RemoteProc.CONNECT_GET_DOMAIN_CAPABILITIES,
    (w, emulatorbin: string | null, arch: string | null, machine: string | null, virttype: string | null, flags?: number) => {
      optString(w, emulatorbin);
      optString(w, arch);
      optString(w, machine);
      optString(w, virttype);
      w.uint(flags ?? 0);
    },
    (r) => r.string(),
  ),
  nodeGetInfo: remote(RemoteProc.NODE_GET_INFO, noArgs, (r): NodeInfo => {
    // char model[32]: XDR encodes each char as a 4-byte word.
    const chars: number[] = [];
    for (let i = 0; i < 32; i++) chars.push(r.int() & 0xff);
    const end = chars.indexOf(0);
    return {
      model: Buffer.from(end === -1 ? chars : chars.slice(0, end)).toString('latin1'),
      memory: r.uhyper(),
      cpus: r.int(),
      mhz: r.int(),
      nodes: r.int(),
      sockets: r.int(),
      cores: r.int(),
      threads: r.int(),
    };
  }),
  connectListAllDomains: remote(
    RemoteProc.CONNECT_LIST_ALL_DOMAINS,
    (w, flags?: number) => w.int(1).uint(flags ?? 0),
    (r) => {
      const domains = r.array(readDomain);
      r.uint();
      return domains;
    },
  ),
  /** Pass an empty list for every domain, as virConnectGetAllDomainStats does. */
  connectGetAllDomainStats: remote(
    RemoteProc.CONNECT_GET_ALL_DOMAIN_STATS,
    (w, doms: readonly Domain[], stats: number, flags?: number) => {
      w.array(doms, writeDomain)
        .uint(stats)
        .uint(flags ?? 0);
    },
    (r) => r.array((x): DomainStatsRecord => ({ domain: readDomain(x), params: typedParamsToRecord(readTypedParams(x)) })),
  ),
  connectDomainEventCallbackRegisterAny: remote(
    RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
    (w, eventId: number, dom: Domain | null) => {
      w.int(eventId).optional(dom, writeDomain);
    },
    (r) => r.int(),
  ),
  connectDomainEventCallbackDeregisterAny: remote(
    RemoteProc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
    (w, callbackId: number) => w.int(callbackId),
    noResult,
  ),

  // --- domain lookup, definition, lifecycle ---
  domainLookupByName: remote(RemoteProc.DOMAIN_LOOKUP_BY_NAME, (w, name: string) => w.string(name), readDomainResult),
  domainLookupByUUID: remote(RemoteProc.DOMAIN_LOOKUP_BY_UUID, (w, uuid: string) => w.fixedOpaque(uuidToBytes(uuid), 16), readDomainResult),
  domainLookupByID: remote(RemoteProc.DOMAIN_LOOKUP_BY_ID, (w, id: number) => w.int(id), readDomainResult),
  domainDefineXMLFlags: remote(
    RemoteProc.DOMAIN_DEFINE_XML_FLAGS,
    (w, xml: string, flags?: number) => w.string(xml).uint(flags ?? 0),
    readDomainResult,
  ),
  domainCreateXML: remote(
    RemoteProc.DOMAIN_CREATE_XML,
    (w, xml: string, flags?: number) => w.string(xml).uint(flags ?? 0),
    readDomainResult,
  ),
  /** Resolves with the domain as started (its `id` is now set). */
  domainCreateWithFlags: remote(RemoteProc.DOMAIN_CREATE_WITH_FLAGS, domFlags, readDomainResult),
  domainSuspend: remote(RemoteProc.DOMAIN_SUSPEND, domOnly, noResult),
  domainResume: remote(RemoteProc.DOMAIN_RESUME, domOnly, noResult),
  domainShutdownFlags: remote(RemoteProc.DOMAIN_SHUTDOWN_FLAGS, domFlags, noResult),
  domainReboot: remote(RemoteProc.DOMAIN_REBOOT, domFlags, noResult),
  domainReset: remote(RemoteProc.DOMAIN_RESET, domFlags, noResult),
  domainDestroyFlags: remote(RemoteProc.DOMAIN_DESTROY_FLAGS, domFlags, noResult),
  domainUndefineFlags: remote(RemoteProc.DOMAIN_UNDEFINE_FLAGS, domFlags, noResult),
  domainIsActive: remote(RemoteProc.DOMAIN_IS_ACTIVE, domOnly, (r) => r.int() !== 0),
  domainIsPersistent: remote(RemoteProc.DOMAIN_IS_PERSISTENT, domOnly, (r) => r.int() !== 0),

  // --- domain state and description ---
  domainGetState: remote(RemoteProc.DOMAIN_GET_STATE, domFlags, (r): DomainStateWithReason => domainStateWithReason(r.int(), r.int())),
  domainGetInfo: remote(
    RemoteProc.DOMAIN_GET_INFO,
    domOnly,
    (r): DomainInfo => ({
      state: r.int(),
      maxMem: r.uhyper(),
      memory: r.uhyper(),
      nrVirtCpu: r.uint(),
      cpuTime: r.uhyper(),
    }),
  ),
  domainGetControlInfo: remote(
    RemoteProc.DOMAIN_GET_CONTROL_INFO,
    domFlags,
    (r): DomainControlInfo => ({ state: r.uint(), details: r.uint(), stateTime: r.uhyper() }),
  ),
  domainGetXMLDesc: remote(RemoteProc.DOMAIN_GET_XML_DESC, domFlags, (r) => r.string()),
  domainGetMetadata: remote(
    RemoteProc.DOMAIN_GET_METADATA,
    (w, dom: Domain, type: number, uri: string | null, flags?: number) => {
      writeDomain(w, dom);
      w.int(type);
      optString(w, uri);
      w.uint(flags ?? 0);
    },
    (r) => r.string(),
  ),
  domainSetMetadata: remote(
    RemoteProc.DOMAIN_SET_METADATA,
    (w, dom: Domain, type: number, metadata: string | null, key: string | null, uri: string | null, flags?: number) => {
      writeDomain(w, dom);
      w.int(type);
      optString(w, metadata);
      optString(w, key);
      optString(w, uri);
      w.uint(flags ?? 0);
    },
    noResult,
  ),
  domainGetHostname: remote(RemoteProc.DOMAIN_GET_HOSTNAME, domFlags, (r) => r.string()),

  // --- devices ---
  domainAttachDeviceFlags: remote(RemoteProc.DOMAIN_ATTACH_DEVICE_FLAGS, domXmlFlags, noResult),
  domainDetachDeviceFlags: remote(RemoteProc.DOMAIN_DETACH_DEVICE_FLAGS, domXmlFlags, noResult),
  domainUpdateDeviceFlags: remote(RemoteProc.DOMAIN_UPDATE_DEVICE_FLAGS, domXmlFlags, noResult),
  domainDetachDeviceAlias: remote(
    RemoteProc.DOMAIN_DETACH_DEVICE_ALIAS,
    (w, dom: Domain, alias: string, flags?: number) => {
      writeDomain(w, dom);
      w.string(alias).uint(flags ?? 0);
    },
    noResult,
  ),
  domainGetBlockInfo: remote(
    RemoteProc.DOMAIN_GET_BLOCK_INFO,
    (w, dom: Domain, path: string, flags?: number) => {
      writeDomain(w, dom);
      w.string(path).uint(flags ?? 0);
    },
    (r): DomainBlockInfo => ({ allocation: r.uhyper(), capacity: r.uhyper(), physical: r.uhyper() }),
  ),
  domainBlockResize: remote(
    RemoteProc.DOMAIN_BLOCK_RESIZE,
    (w, dom: Domain, disk: string, size: bigint | number, flags?: number) => {
      writeDomain(w, dom);
      w.string(disk)
        .uhyper(hyperIn(size))
        .uint(flags ?? 0);
    },
    noResult,
  ),
  domainGetDiskErrors: remote(
    RemoteProc.DOMAIN_GET_DISK_ERRORS,
    (w, dom: Domain, maxErrors: number, flags?: number) => {
      writeDomain(w, dom);
      w.uint(maxErrors).uint(flags ?? 0);
    },
    (r) => {
      const errors = r.array((x): DomainDiskError => ({ disk: x.string(), error: x.int() }));
      r.int();
      return errors;
    },
  ),

  // --- statistics ---
  domainMemoryStats: remote(
    RemoteProc.DOMAIN_MEMORY_STATS,
    (w, dom: Domain, maxStats?: number, flags?: number) => {
      writeDomain(w, dom);
      w.uint(maxStats ?? MEMORY_STAT_NR).uint(flags ?? 0);
    },
    (r) =>
      r.array((x): DomainMemoryStat => {
        const tag = x.int();
        return { tag, name: MEMORY_STAT_TAGS[tag] ?? `tag_${tag}`, value: x.uhyper() };
      }),
  ),
  domainBlockStats: remote(
    RemoteProc.DOMAIN_BLOCK_STATS,
    (w, dom: Domain, path: string) => {
      writeDomain(w, dom);
      w.string(path);
    },
    (r): DomainBlockStats => ({
      rdReq: r.hyper(),
      rdBytes: r.hyper(),
      wrReq: r.hyper(),
      wrBytes: r.hyper(),
      errs: r.hyper(),
    }),
  ),
  domainInterfaceStats: remote(
    RemoteProc.DOMAIN_INTERFACE_STATS,
    (w, dom: Domain, device: string) => {
      writeDomain(w, dom);
      w.string(device);
    },
    (r): DomainInterfaceStats => ({
      rxBytes: r.hyper(),
      rxPackets: r.hyper(),
      rxErrs: r.hyper(),
      rxDrop: r.hyper(),
      txBytes: r.hyper(),
      txPackets: r.hyper(),
      txErrs: r.hyper(),
      txDrop: r.hyper(),
    }),
  ),
  domainGetVcpus: remote(
    RemoteProc.DOMAIN_GET_VCPUS,
    (w, dom: Domain, maxInfo: number, mapLen: number) => {
      writeDomain(w, dom);
      w.int(maxInfo).int(mapLen);
    },
    (r) => ({
      info: r.array((x): VcpuInfo => ({ number: x.uint(), state: x.int(), cpuTime: x.uhyper(), cpu: x.int() })),
      /** maxInfo maps of mapLen bytes each; bit n of a map = host CPU n usable. */
      cpumaps: r.opaque(),
    }),
  ),
  domainGetVcpuPinInfo: remote(
    RemoteProc.DOMAIN_GET_VCPU_PIN_INFO,
    (w, dom: Domain, nCpuMaps: number, mapLen: number, flags?: number) => {
      writeDomain(w, dom);
      w.int(nCpuMaps)
        .int(mapLen)
        .uint(flags ?? 0);
    },
    (r) => ({ cpumaps: r.opaque(), num: r.int() }),
  ),
  domainGetVcpusFlags: remote(RemoteProc.DOMAIN_GET_VCPUS_FLAGS, domFlags, (r) => r.int()),
  domainGetJobInfo: remote(RemoteProc.DOMAIN_GET_JOB_INFO, domOnly, (r): DomainJobInfo => {
    const typeCode = r.int();
    return {
      type: jobType(typeCode),
      typeCode,
      timeElapsed: r.uhyper(),
      timeRemaining: r.uhyper(),
      dataTotal: r.uhyper(),
      dataProcessed: r.uhyper(),
      dataRemaining: r.uhyper(),
      memTotal: r.uhyper(),
      memProcessed: r.uhyper(),
      memRemaining: r.uhyper(),
      fileTotal: r.uhyper(),
      fileProcessed: r.uhyper(),
      fileRemaining: r.uhyper(),
    };
  }),
  domainGetJobStats: remote(RemoteProc.DOMAIN_GET_JOB_STATS, domFlags, (r): DomainJobStats => {
    const typeCode = r.int();
    return { type: jobType(typeCode), typeCode, params: typedParamsToRecord(readTypedParams(r)) };
  }),
  domainAbortJob: remote(RemoteProc.DOMAIN_ABORT_JOB, domOnly, noResult),
  domainMigrateStartPostCopy: remote(RemoteProc.DOMAIN_MIGRATE_START_POST_COPY, domFlags, noResult),
  domainMigrateSetMaxDowntime: remote(RemoteProc.DOMAIN_MIGRATE_SET_MAX_DOWNTIME, domHyperFlags, noResult),
  /**
   * virDomainMigrateToURI3 with VIR_MIGRATE_PEER2PEER: this libvirt drives the whole migration to the
   * libvirt at `dconnuri`; returns once the migration ended. Call it without a timeout.
   */
  domainMigratePerform3Params: remote(
    RemoteProc.DOMAIN_MIGRATE_PERFORM3_PARAMS,
    (w, dom: Domain, dconnuri: string | null, params: readonly TypedParam[], flags: number) => {
      writeDomain(w, dom);
      w.optional(dconnuri, (x, s) => x.string(s));
      writeTypedParams(w, params);
      w.opaque(Buffer.alloc(0)).uint(flags);
    },
    (r) => r.opaque(),
  ),
  domainMigrateSetMaxSpeed: remote(RemoteProc.DOMAIN_MIGRATE_SET_MAX_SPEED, domHyperFlags, noResult),

  /** virDomainStartDirtyRateCalc: QEMU measures the memory dirty rate for `seconds`; read it from the DIRTYRATE stats. */
  domainStartDirtyRateCalc: remote(
    RemoteProc.DOMAIN_START_DIRTY_RATE_CALC,
    (w, dom: Domain, seconds: number, flags?: number) => {
      writeDomain(w, dom);
      w.int(seconds).uint(flags ?? 0);
    },
    noResult,
  ),

  // --- resources ---
  domainSetVcpusFlags: remote(
    RemoteProc.DOMAIN_SET_VCPUS_FLAGS,
    (w, dom: Domain, nvcpus: number, flags?: number) => {
      writeDomain(w, dom);
      w.uint(nvcpus).uint(flags ?? 0);
    },
    noResult,
  ),
  domainSetMemoryFlags: remote(RemoteProc.DOMAIN_SET_MEMORY_FLAGS, domHyperFlags, noResult),
  domainSetMemoryStatsPeriod: remote(
    RemoteProc.DOMAIN_SET_MEMORY_STATS_PERIOD,
    (w, dom: Domain, periodSeconds: number, flags?: number) => {
      writeDomain(w, dom);
      w.int(periodSeconds).uint(flags ?? 0);
    },
    noResult,
  ),
  domainCoreDumpWithFormat: remote(
    RemoteProc.DOMAIN_CORE_DUMP_WITH_FORMAT,
    (w, dom: Domain, to: string, dumpFormat: number, flags?: number) => {
      writeDomain(w, dom);
      w.string(to)
        .uint(dumpFormat)
        .uint(flags ?? 0);
    },
    noResult,
  ),

  /** The console framebuffer as an image (PNG with QEMU); needs a graphics device. */
  domainScreenshot: procedure(
    Program.REMOTE,
    RemoteProc.DOMAIN_SCREENSHOT,
    (w, dom: Domain, screen: number, flags?: number) => {
      writeDomain(w, dom);
      w.uint(screen).uint(flags ?? 0);
    },
    (r, data): DomainScreenshot => ({ mime: readOptString(r), data }),
    true,
  ),

  // --- guest agent ---
  domainGetTime: remote(RemoteProc.DOMAIN_GET_TIME, domFlags, (r) => ({ seconds: r.hyper(), nseconds: r.uint() })),
  domainSetTime: remote(
    RemoteProc.DOMAIN_SET_TIME,
    (w, dom: Domain, seconds: bigint | number, nseconds: number, flags?: number) => {
      writeDomain(w, dom);
      w.hyper(hyperIn(seconds))
        .uint(nseconds)
        .uint(flags ?? 0);
    },
    noResult,
  ),
  /** Resolves with the number of frozen filesystems. */
  domainFSFreeze: remote(RemoteProc.DOMAIN_FSFREEZE, domMountpointsFlags, (r) => r.int()),
  /** Resolves with the number of thawed filesystems. */
  domainFSThaw: remote(RemoteProc.DOMAIN_FSTHAW, domMountpointsFlags, (r) => r.int()),
  domainGetFSInfo: remote(RemoteProc.DOMAIN_GET_FSINFO, domFlags, (r) => {
    const info = r.array(
      (x): DomainFSInfo => ({
        mountpoint: x.string(),
        name: x.string(),
        fstype: x.string(),
        devAliases: x.array((y) => y.string()),
      }),
    );
    r.uint();
    return info;
  }),
  domainGetGuestInfo: remote(
    RemoteProc.DOMAIN_GET_GUEST_INFO,
    (w, dom: Domain, types: number, flags?: number) => {
      writeDomain(w, dom);
      w.uint(types).uint(flags ?? 0);
    },
    (r) => typedParamsToRecord(readTypedParams(r)),
  ),
  domainGetGuestVcpus: remote(RemoteProc.DOMAIN_GET_GUEST_VCPUS, domFlags, (r) => typedParamsToRecord(readTypedParams(r))),
  domainInterfaceAddresses: remote(
    RemoteProc.DOMAIN_INTERFACE_ADDRESSES,
    (w, dom: Domain, source: number, flags?: number) => {
      writeDomain(w, dom);
      w.uint(source).uint(flags ?? 0);
    },
    (r) =>
      r.array(
        (x): DomainInterface => ({
          name: x.string(),
          hwaddr: readOptString(x),
          addrs: x.array((y): DomainIPAddress => ({ type: y.int(), addr: y.string(), prefix: y.uint() })),
        }),
      ),
  ),
  domainSetUserPassword: remote(
    RemoteProc.DOMAIN_SET_USER_PASSWORD,
    (w, dom: Domain, user: string, password: string, flags?: number) => {
      writeDomain(w, dom);
      optString(w, user);
      optString(w, password);
      w.uint(flags ?? 0);
    },
    noResult,
  ),
  domainAuthorizedSSHKeysGet: remote(
    RemoteProc.DOMAIN_AUTHORIZED_SSH_KEYS_GET,
    (w, dom: Domain, user: string, flags?: number) => {
      writeDomain(w, dom);
      w.string(user).uint(flags ?? 0);
    },
    (r) => r.array((x) => x.string()),
  ),
  domainAuthorizedSSHKeysSet: remote(
    RemoteProc.DOMAIN_AUTHORIZED_SSH_KEYS_SET,
    (w, dom: Domain, user: string, keys: readonly string[], flags?: number) => {
      writeDomain(w, dom);
      w.string(user)
        .array(keys, (x, k) => x.string(k))
        .uint(flags ?? 0);
    },
    noResult,
  ),
  domainAgentSetResponseTimeout: remote(
    RemoteProc.DOMAIN_AGENT_SET_RESPONSE_TIMEOUT,
    (w, dom: Domain, timeoutSeconds: number, flags?: number) => {
      writeDomain(w, dom);
      w.int(timeoutSeconds).uint(flags ?? 0);
    },
    (r) => r.int(),
  ),
  /**
   * Runs a guest-agent command (JSON text, e.g. `{"execute":"guest-ping"}`); `timeoutSeconds` is
   * DomainQemuAgentCommandTimeout or seconds. Resolves with the agent's JSON reply.
   */
  domainQemuAgentCommand: procedure(
    Program.QEMU,
    QemuProc.DOMAIN_AGENT_COMMAND,
    (w, dom: Domain, command: string, timeoutSeconds?: number, flags?: number) => {
      writeDomain(w, dom);
      w.string(command)
        .int(timeoutSeconds ?? -1)
        .uint(flags ?? 0);
    },
    (r) => readOptString(r),
  ),
  domainQemuMonitorCommand: procedure(
    Program.QEMU,
    QemuProc.MONITOR_COMMAND,
    (w, dom: Domain, command: string, flags?: number) => {
      writeDomain(w, dom);
      w.string(command).uint(flags ?? 0);
    },
    (r) => r.string(),
  ),
};

export type Procedures = typeof procedures;
export type ProcedureName = keyof Procedures;
export type ProcedureArgs<K extends ProcedureName> = Procedures[K] extends Procedure<infer A, infer _R> ? A : never;
export type ProcedureResult<K extends ProcedureName> = Procedures[K] extends Procedure<infer _A, infer R> ? R : never;
