// Numbers from libvirt's public headers (libvirt-domain.h, libvirt-host.h, virterror.h) and its RPC
// definitions (virnetprotocol.x, virkeepaliveprotocol.x, remote_protocol.x, qemu_protocol.x).
// libvirt only ever appends to these enums, so the values are stable across versions.

// --- RPC framing ---------------------------------------------------------------------------------

export const Program = {
  REMOTE: 0x20008086,
  QEMU: 0x20008087,
  KEEPALIVE: 0x6b656570,
} as const;

export const PROTOCOL_VERSION = 1;

export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;

export const MessageStatus = {
  OK: 0,
  ERROR: 1,
  CONTINUE: 2,
} as const;

export const KeepaliveProc = {
  PING: 1,
  PONG: 2,
} as const;

/** Length word + 24-byte header. */
export const PACKET_HEADER_SIZE = 28;
/** VIR_NET_MESSAGE_MAX (32 MiB since libvirt 5.x; 16 MiB before). */
export const MAX_PACKET_SIZE = 32 * 1024 * 1024;

export const AuthType = {
  NONE: 0,
  SASL: 1,
  POLKIT: 2,
} as const;

/** virDrvFeature values accepted by connectSupportsFeature. */
export const DrvFeature = {
  MIGRATION_V1: 1,
  REMOTE: 2,
  MIGRATION_V2: 3,
  MIGRATION_P2P: 4,
  MIGRATION_DIRECT: 5,
  FD_PASSING: 8,
  TYPED_PARAM_STRING: 9,
  PROGRAM_KEEPALIVE: 10,
  MIGRATION_PARAMS: 13,
  REMOTE_EVENT_CALLBACK: 15,
} as const;

// --- procedure numbers (remote_procedure / qemu_procedure) ---------------------------------------

export const RemoteProc = {
  CONNECT_OPEN: 1,
  CONNECT_CLOSE: 2,
  CONNECT_GET_TYPE: 3,
  CONNECT_GET_VERSION: 4,
  NODE_GET_INFO: 6,
  CONNECT_GET_CAPABILITIES: 7,
  DOMAIN_CREATE_XML: 10,
  DOMAIN_GET_XML_DESC: 14,
  DOMAIN_GET_INFO: 16,
  DOMAIN_GET_VCPUS: 20,
  DOMAIN_LOOKUP_BY_ID: 22,
  DOMAIN_LOOKUP_BY_NAME: 23,
  DOMAIN_LOOKUP_BY_UUID: 24,
  DOMAIN_REBOOT: 27,
  DOMAIN_RESUME: 28,
  DOMAIN_SUSPEND: 34,
  CONNECT_GET_HOSTNAME: 59,
  CONNECT_SUPPORTS_FEATURE: 60,
  DOMAIN_BLOCK_STATS: 64,
  DOMAIN_INTERFACE_STATS: 65,
  AUTH_LIST: 66,
  AUTH_POLKIT: 70,
  CONNECT_GET_URI: 110,
  DOMAIN_IS_ACTIVE: 150,
  DOMAIN_IS_PERSISTENT: 151,
  CONNECT_GET_LIB_VERSION: 157,
  DOMAIN_MEMORY_STATS: 159,
  DOMAIN_ATTACH_DEVICE_FLAGS: 160,
  DOMAIN_DETACH_DEVICE_FLAGS: 161,
  DOMAIN_GET_JOB_INFO: 163,
  DOMAIN_ABORT_JOB: 164,
  DOMAIN_MIGRATE_SET_MAX_DOWNTIME: 166,
  DOMAIN_UPDATE_DEVICE_FLAGS: 174,
  DOMAIN_GET_BLOCK_INFO: 194,
  DOMAIN_CREATE_WITH_FLAGS: 196,
  DOMAIN_SET_VCPUS_FLAGS: 199,
  DOMAIN_GET_VCPUS_FLAGS: 200,
  DOMAIN_SET_MEMORY_FLAGS: 204,
  DOMAIN_MIGRATE_SET_MAX_SPEED: 207,
  DOMAIN_SCREENSHOT: 211,
  DOMAIN_GET_STATE: 212,
  DOMAIN_GET_CONTROL_INFO: 229,
  DOMAIN_GET_VCPU_PIN_INFO: 230,
  DOMAIN_UNDEFINE_FLAGS: 231,
  DOMAIN_DESTROY_FLAGS: 234,
  DOMAIN_BLOCK_STATS_FLAGS: 243,
  DOMAIN_RESET: 245,
  DOMAIN_BLOCK_RESIZE: 251,
  DOMAIN_SHUTDOWN_FLAGS: 258,
  DOMAIN_GET_DISK_ERRORS: 263,
  DOMAIN_SET_METADATA: 264,
  DOMAIN_GET_METADATA: 265,
  CONNECT_LIST_ALL_DOMAINS: 273,
  DOMAIN_GET_HOSTNAME: 277,
  DOMAIN_GET_JOB_STATS: 298,
  DOMAIN_MIGRATE_PERFORM3_PARAMS: 305,
  DOMAIN_SET_MEMORY_STATS_PERIOD: 308,
  CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: 316,
  CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY: 317,
  DOMAIN_EVENT_CALLBACK_LIFECYCLE: 318,
  DOMAIN_EVENT_CALLBACK_REBOOT: 319,
  DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED: 333,
  DOMAIN_CORE_DUMP_WITH_FORMAT: 334,
  DOMAIN_FSFREEZE: 335,
  DOMAIN_FSTHAW: 336,
  DOMAIN_GET_TIME: 337,
  DOMAIN_SET_TIME: 338,
  CONNECT_GET_DOMAIN_CAPABILITIES: 342,
  CONNECT_GET_ALL_DOMAIN_STATS: 344,
  DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE: 348,
  DOMAIN_GET_FSINFO: 349,
  DOMAIN_DEFINE_XML_FLAGS: 350,
  DOMAIN_INTERFACE_ADDRESSES: 353,
  DOMAIN_EVENT_CALLBACK_DEVICE_ADDED: 354,
  DOMAIN_SET_USER_PASSWORD: 357,
  DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION: 359,
  DOMAIN_EVENT_CALLBACK_JOB_COMPLETED: 363,
  DOMAIN_MIGRATE_START_POST_COPY: 364,
  DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED: 367,
  DOMAIN_GET_GUEST_VCPUS: 371,
  DOMAIN_DETACH_DEVICE_ALIAS: 392,
  DOMAIN_GET_GUEST_INFO: 418,
  DOMAIN_AGENT_SET_RESPONSE_TIMEOUT: 420,
  DOMAIN_AUTHORIZED_SSH_KEYS_GET: 424,
  DOMAIN_AUTHORIZED_SSH_KEYS_SET: 425,
  DOMAIN_START_DIRTY_RATE_CALC: 427,
  DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE: 438,
} as const;

export const QemuProc = {
  MONITOR_COMMAND: 1,
  DOMAIN_AGENT_COMMAND: 3,
} as const;

// --- domain state and reasons (virDomainState, vir*Reason) --------------------------------------

/** Each state's reason names, indexed by the reason number. */
export const DomainStateReasons = {
  NOSTATE: ['UNKNOWN'],
  RUNNING: [
    'UNKNOWN',
    'BOOTED',
    'MIGRATED',
    'RESTORED',
    'FROM_SNAPSHOT',
    'UNPAUSED',
    'MIGRATION_CANCELED',
    'SAVE_CANCELED',
    'WAKEUP',
    'CRASHED',
    'POSTCOPY',
    'POSTCOPY_FAILED',
  ],
  BLOCKED: ['UNKNOWN'],
  PAUSED: [
    'UNKNOWN',
    'USER',
    'MIGRATION',
    'SAVE',
    'DUMP',
    'IOERROR',
    'WATCHDOG',
    'FROM_SNAPSHOT',
    'SHUTTING_DOWN',
    'SNAPSHOT',
    'CRASHED',
    'STARTING_UP',
    'POSTCOPY',
    'POSTCOPY_FAILED',
    'API_ERROR',
  ],
  SHUTDOWN: ['UNKNOWN', 'USER'],
  SHUTOFF: ['UNKNOWN', 'SHUTDOWN', 'DESTROYED', 'CRASHED', 'MIGRATED', 'SAVED', 'FAILED', 'FROM_SNAPSHOT', 'DAEMON'],
  CRASHED: ['UNKNOWN', 'PANICKED'],
  PMSUSPENDED: ['UNKNOWN'],
} as const;

export type DomainStateName = keyof typeof DomainStateReasons;

/** State names indexed by virDomainState. */
export const DOMAIN_STATES: readonly DomainStateName[] = [
  'NOSTATE',
  'RUNNING',
  'BLOCKED',
  'PAUSED',
  'SHUTDOWN',
  'SHUTOFF',
  'CRASHED',
  'PMSUSPENDED',
];

export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const satisfies Record<DomainStateName, number>;

/** A state with its reason; `reason` is one of that state's reasons. The raw numbers are kept. */
export type DomainStateWithReason = {
  [S in DomainStateName]: {
    state: S;
    reason: (typeof DomainStateReasons)[S][number];
    stateCode: number;
    reasonCode: number;
  };
}[DomainStateName];

export function domainStateWithReason(stateCode: number, reasonCode: number): DomainStateWithReason {
  const state = DOMAIN_STATES[stateCode] ?? 'NOSTATE';
  const reasons: readonly string[] = DomainStateReasons[state];
  // A daemon newer than this table may report a reason we do not know: keep its number, name it UNKNOWN.
  const reason = reasons[reasonCode] ?? 'UNKNOWN';
  return { state, reason, stateCode, reasonCode } as DomainStateWithReason;
}

// --- lifecycle events (virDomainEventType, virDomainEvent*DetailType) -----------------------------

export const DomainEventDetails = {
  DEFINED: ['ADDED', 'UPDATED', 'RENAMED', 'FROM_SNAPSHOT'],
  UNDEFINED: ['REMOVED', 'RENAMED'],
  STARTED: ['BOOTED', 'MIGRATED', 'RESTORED', 'FROM_SNAPSHOT', 'WAKEUP'],
  SUSPENDED: ['PAUSED', 'MIGRATED', 'IOERROR', 'WATCHDOG', 'RESTORED', 'FROM_SNAPSHOT', 'API_ERROR', 'POSTCOPY', 'POSTCOPY_FAILED'],
  RESUMED: ['UNPAUSED', 'MIGRATED', 'FROM_SNAPSHOT', 'POSTCOPY', 'POSTCOPY_FAILED'],
  STOPPED: ['SHUTDOWN', 'DESTROYED', 'CRASHED', 'MIGRATED', 'SAVED', 'FAILED', 'FROM_SNAPSHOT'],
  SHUTDOWN: ['FINISHED', 'GUEST', 'HOST'],
  PMSUSPENDED: ['MEMORY', 'DISK'],
  CRASHED: ['PANICKED', 'CRASHLOADED'],
} as const;

export type DomainEventName = keyof typeof DomainEventDetails;

export const DOMAIN_EVENTS: readonly DomainEventName[] = [
  'DEFINED',
  'UNDEFINED',
  'STARTED',
  'SUSPENDED',
  'RESUMED',
  'STOPPED',
  'SHUTDOWN',
  'PMSUSPENDED',
  'CRASHED',
];

export const DomainEventType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const satisfies Record<DomainEventName, number>;

export type DomainLifecycleDetail = {
  [E in DomainEventName]: {
    event: E;
    detail: (typeof DomainEventDetails)[E][number] | 'UNKNOWN';
    eventCode: number;
    detailCode: number;
  };
}[DomainEventName];

export function domainLifecycleDetail(eventCode: number, detailCode: number): DomainLifecycleDetail {
  const event = DOMAIN_EVENTS[eventCode];
  if (event === undefined) {
    return { event: 'DEFINED', detail: 'UNKNOWN', eventCode, detailCode };
  }
  const details: readonly string[] = DomainEventDetails[event];
  return { event, detail: details[detailCode] ?? 'UNKNOWN', eventCode, detailCode } as DomainLifecycleDetail;
}

/** virDomainEventID */
export const DomainEventId = {
  LIFECYCLE: 0,
  REBOOT: 1,
  RTC_CHANGE: 2,
  WATCHDOG: 3,
  IO_ERROR: 4,
  GRAPHICS: 5,
  IO_ERROR_REASON: 6,
  CONTROL_ERROR: 7,
  BLOCK_JOB: 8,
  DISK_CHANGE: 9,
  TRAY_CHANGE: 10,
  PMWAKEUP: 11,
  PMSUSPEND: 12,
  BALLOON_CHANGE: 13,
  PMSUSPEND_DISK: 14,
  DEVICE_REMOVED: 15,
  BLOCK_JOB_2: 16,
  TUNABLE: 17,
  AGENT_LIFECYCLE: 18,
  DEVICE_ADDED: 19,
  MIGRATION_ITERATION: 20,
  JOB_COMPLETED: 21,
  DEVICE_REMOVAL_FAILED: 22,
  METADATA_CHANGE: 23,
  BLOCK_THRESHOLD: 24,
  MEMORY_FAILURE: 25,
  MEMORY_DEVICE_SIZE_CHANGE: 26,
} as const;

export const AgentLifecycleState = {
  CONNECTED: 1,
  DISCONNECTED: 2,
} as const;
export type AgentLifecycleStateName = keyof typeof AgentLifecycleState;

export const AgentLifecycleReason = {
  UNKNOWN: 0,
  DOMAIN_STARTED: 1,
  CHANNEL: 2,
} as const;
export type AgentLifecycleReasonName = keyof typeof AgentLifecycleReason;

// --- flags ---------------------------------------------------------------------------------------

/** virDomainModificationImpact; also VIR_DOMAIN_DEVICE_MODIFY_*, VIR_DOMAIN_MEM_*, VIR_DOMAIN_VCPU_*. */
export const DomainAffect = {
  CURRENT: 0,
  LIVE: 1 << 0,
  CONFIG: 1 << 1,
} as const;

export const DomainDeviceModifyFlags = { ...DomainAffect, FORCE: 1 << 2 } as const;
export const DomainMemoryModFlags = { ...DomainAffect, MAXIMUM: 1 << 2 } as const;
export const DomainVcpuFlags = { ...DomainAffect, MAXIMUM: 1 << 2, GUEST: 1 << 3, HOTPLUGGABLE: 1 << 4 } as const;

export const DomainCreateFlags = {
  NONE: 0,
  START_PAUSED: 1 << 0,
  START_AUTODESTROY: 1 << 1,
  START_BYPASS_CACHE: 1 << 2,
  START_FORCE_BOOT: 1 << 3,
  START_VALIDATE: 1 << 4,
  START_RESET_NVRAM: 1 << 5,
} as const;

/** virConnectFlags */
export const ConnectFlags = { RO: 1 << 0, NO_ALIASES: 1 << 1 } as const;

export const DomainDefineFlags = { VALIDATE: 1 << 0 } as const;

export const DomainShutdownFlags = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1 << 0,
  GUEST_AGENT: 1 << 1,
  INITCTL: 1 << 2,
  SIGNAL: 1 << 3,
  PARAVIRT: 1 << 4,
} as const;

export const DomainRebootFlags = DomainShutdownFlags;

export const DomainDestroyFlags = {
  DEFAULT: 0,
  GRACEFUL: 1 << 0,
  REMOVE_LOGS: 1 << 1,
} as const;

export const DomainUndefineFlags = {
  MANAGED_SAVE: 1 << 0,
  SNAPSHOTS_METADATA: 1 << 1,
  NVRAM: 1 << 2,
  KEEP_NVRAM: 1 << 3,
  CHECKPOINTS_METADATA: 1 << 4,
  TPM: 1 << 5,
  KEEP_TPM: 1 << 6,
} as const;

export const DomainXMLFlags = {
  SECURE: 1 << 0,
  INACTIVE: 1 << 1,
  UPDATE_CPU: 1 << 2,
  MIGRATABLE: 1 << 3,
} as const;

export const ConnectListAllDomainsFlags = {
  ACTIVE: 1 << 0,
  INACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  RUNNING: 1 << 4,
  PAUSED: 1 << 5,
  SHUTOFF: 1 << 6,
  OTHER: 1 << 7,
  MANAGEDSAVE: 1 << 8,
  NO_MANAGEDSAVE: 1 << 9,
  AUTOSTART: 1 << 10,
  NO_AUTOSTART: 1 << 11,
  HAS_SNAPSHOT: 1 << 12,
  NO_SNAPSHOT: 1 << 13,
  HAS_CHECKPOINT: 1 << 14,
  NO_CHECKPOINT: 1 << 15,
} as const;

export const DomainStatsTypes = {
  STATE: 1 << 0,
  CPU_TOTAL: 1 << 1,
  BALLOON: 1 << 2,
  VCPU: 1 << 3,
  INTERFACE: 1 << 4,
  BLOCK: 1 << 5,
  PERF: 1 << 6,
  IOTHREAD: 1 << 7,
  MEMORY: 1 << 8,
  DIRTYRATE: 1 << 9,
  VM: 1 << 10,
} as const;

/** virDomainDirtyRateCalcFlags: the measuring mode of virDomainStartDirtyRateCalc. */
export const DomainDirtyRateCalcFlags = { PAGE_SAMPLING: 0, DIRTY_BITMAP: 1 << 0, DIRTY_RING: 1 << 1 } as const;
/** virDomainDirtyRateStatus: `dirtyrate.calc_status` of the DIRTYRATE stats group. */
export const DomainDirtyRateStatus = { UNSTARTED: 0, MEASURING: 1, MEASURED: 2 } as const;

export const ConnectGetAllDomainStatsFlags = {
  ACTIVE: 1 << 0,
  INACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  RUNNING: 1 << 4,
  PAUSED: 1 << 5,
  SHUTOFF: 1 << 6,
  OTHER: 1 << 7,
  NOWAIT: 1 << 29,
  BACKING: 1 << 30,
  ENFORCE_STATS: 2 ** 31,
} as const;

/** virDomainMemoryStatTags, indexed by tag. */
export const MEMORY_STAT_TAGS = [
  'swap_in',
  'swap_out',
  'major_fault',
  'minor_fault',
  'unused',
  'available',
  'actual_balloon',
  'rss',
  'usable',
  'last_update',
  'disk_caches',
  'hugetlb_pgalloc',
  'hugetlb_pgfail',
] as const;
export type MemoryStatTag = (typeof MEMORY_STAT_TAGS)[number];
/** VIR_DOMAIN_MEMORY_STAT_NR */
export const MEMORY_STAT_NR = 13;

export const DomainCoreDumpFormat = {
  RAW: 0,
  KDUMP_ZLIB: 1,
  KDUMP_LZO: 2,
  KDUMP_SNAPPY: 3,
  WIN_DMP: 4,
} as const;

export const DomainCoreDumpFlags = {
  CRASH: 1 << 0,
  LIVE: 1 << 1,
  BYPASS_CACHE: 1 << 2,
  RESET: 1 << 3,
  MEMORY_ONLY: 1 << 4,
} as const;

export const DomainJobType = {
  NONE: 0,
  BOUNDED: 1,
  UNBOUNDED: 2,
  COMPLETED: 3,
  FAILED: 4,
  CANCELLED: 5,
} as const;
export const DOMAIN_JOB_TYPES = ['NONE', 'BOUNDED', 'UNBOUNDED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type DomainJobTypeName = (typeof DOMAIN_JOB_TYPES)[number];

/** virDomainMigrateFlags */
export const DomainMigrateFlags = {
  LIVE: 1 << 0,
  PEER2PEER: 1 << 1,
  TUNNELLED: 1 << 2,
  PERSIST_DEST: 1 << 3,
  UNDEFINE_SOURCE: 1 << 4,
  PAUSED: 1 << 5,
  NON_SHARED_DISK: 1 << 6,
  NON_SHARED_INC: 1 << 7,
  CHANGE_PROTECTION: 1 << 8,
  UNSAFE: 1 << 9,
  OFFLINE: 1 << 10,
  COMPRESSED: 1 << 11,
  ABORT_ON_ERROR: 1 << 12,
  AUTO_CONVERGE: 1 << 13,
  RDMA_PIN_ALL: 1 << 14,
  POSTCOPY: 1 << 15,
  TLS: 1 << 16,
  PARALLEL: 1 << 17,
} as const;

/** The VIR_MIGRATE_PARAM_* names of virDomainMigrateToURI3's typed parameters. */
export const MigrateParam = {
  URI: 'migrate_uri',
  DEST_NAME: 'destination_name',
  DEST_XML: 'destination_xml',
  PERSIST_XML: 'persistent_xml',
  BANDWIDTH: 'bandwidth',
  MIGRATE_DISKS: 'migrate_disks',
  DISKS_URI: 'disks_uri',
  COMPRESSION: 'compression',
  PARALLEL_CONNECTIONS: 'parallel.connections',
} as const;

/** virDomainJobOperation: what a job (GetJobStats' `operation` field) is doing. */
export const DomainJobOperation = {
  UNKNOWN: 0,
  START: 1,
  SAVE: 2,
  RESTORE: 3,
  MIGRATION_IN: 4,
  MIGRATION_OUT: 5,
} as const;

export const DomainGetJobStatsFlags = {
  COMPLETED: 1 << 0,
  KEEP_COMPLETED: 1 << 1,
} as const;

export const DomainMetadataType = {
  DESCRIPTION: 0,
  TITLE: 1,
  ELEMENT: 2,
} as const;

export const DomainInterfaceAddressesSource = {
  LEASE: 0,
  AGENT: 1,
  ARP: 2,
} as const;

/** virIPAddrType */
export const IPAddrType = {
  IPV4: 0,
  IPV6: 1,
} as const;

export const DomainGuestInfoTypes = {
  USERS: 1 << 0,
  OS: 1 << 1,
  TIMEZONE: 1 << 2,
  HOSTNAME: 1 << 3,
  FILESYSTEM: 1 << 4,
  DISKS: 1 << 5,
  INTERFACES: 1 << 6,
} as const;

export const DomainSetTimeFlags = { SYNC: 1 << 0 } as const;
export const DomainSetUserPasswordFlags = { ENCRYPTED: 1 << 0 } as const;
export const DomainBlockResizeFlags = { BYTES: 1 << 0 } as const;
export const DomainAuthorizedSSHKeysSetFlags = { APPEND: 1 << 0, REMOVE: 1 << 1 } as const;

/** Timeouts (seconds) for domainQemuAgentCommand; positive values are seconds. */
export const DomainQemuAgentCommandTimeout = {
  BLOCK: -2,
  DEFAULT: -1,
  NOWAIT: 0,
} as const;

export const VcpuState = {
  OFFLINE: 0,
  RUNNING: 1,
  BLOCKED: 2,
} as const;

// --- errors (virterror.h) ------------------------------------------------------------------------

export const ErrorLevel = {
  NONE: 0,
  WARNING: 1,
  ERROR: 2,
} as const;

/** virErrorDomain: where an error came from. */
export const ErrorDomain = {
  NONE: 0,
  XEN: 1,
  XML: 5,
  DOM: 6,
  RPC: 7,
  CONF: 9,
  QEMU: 10,
  NET: 11,
  TEST: 12,
  REMOTE: 13,
  STORAGE: 18,
  NETWORK: 19,
  DOMAIN: 20,
  NODEDEV: 22,
  SECURITY: 24,
  INTERFACE: 26,
  SECRET: 30,
  CPU: 31,
  NWFILTER: 33,
  HOOK: 34,
  DOMAIN_SNAPSHOT: 35,
  AUDIT: 36,
  SYSINFO: 37,
  STREAMS: 38,
  EVENT: 40,
  LOCKING: 42,
  CAPABILITIES: 44,
  URI: 45,
  AUTH: 46,
  DBUS: 47,
  DEVICE: 49,
  LOCKSPACE: 51,
  IDENTITY: 53,
  CGROUP: 54,
  ACCESS: 55,
  SYSTEMD: 56,
  CRYPTO: 58,
  FIREWALL: 59,
  POLKIT: 60,
  THREAD: 61,
  ADMIN: 62,
  LOGGING: 63,
  PERF: 65,
  RESCTRL: 67,
  FIREWALLD: 68,
  DOMAIN_CHECKPOINT: 69,
  TPM: 70,
  BPF: 71,
  CH: 72,
} as const;

/** virErrorNumber: the full list KubeVirt (and anyone) can branch on. */
export const ErrorNumber = {
  OK: 0,
  INTERNAL_ERROR: 1,
  NO_MEMORY: 2,
  NO_SUPPORT: 3,
  UNKNOWN_HOST: 4,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  GET_FAILED: 10,
  POST_FAILED: 11,
  HTTP_ERROR: 12,
  SEXPR_SERIAL: 13,
  NO_XEN: 14,
  XEN_CALL: 15,
  OS_TYPE: 16,
  NO_KERNEL: 17,
  NO_ROOT: 18,
  NO_SOURCE: 19,
  NO_TARGET: 20,
  NO_NAME: 21,
  NO_OS: 22,
  NO_DEVICE: 23,
  NO_XENSTORE: 24,
  DRIVER_FULL: 25,
  CALL_FAILED: 26,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  OPEN_FAILED: 30,
  READ_FAILED: 31,
  PARSE_FAILED: 32,
  CONF_SYNTAX: 33,
  WRITE_FAILED: 34,
  XML_DETAIL: 35,
  INVALID_NETWORK: 36,
  NETWORK_EXIST: 37,
  SYSTEM_ERROR: 38,
  RPC: 39,
  GNUTLS_ERROR: 40,
  WAR_NO_NETWORK: 41,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  INVALID_MAC: 44,
  AUTH_FAILED: 45,
  INVALID_STORAGE_POOL: 46,
  INVALID_STORAGE_VOL: 47,
  WAR_NO_STORAGE: 48,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  WAR_NO_NODE: 51,
  INVALID_NODE_DEVICE: 52,
  NO_NODE_DEVICE: 53,
  NO_SECURITY_MODEL: 54,
  OPERATION_INVALID: 55,
  WAR_NO_INTERFACE: 56,
  NO_INTERFACE: 57,
  INVALID_INTERFACE: 58,
  MULTIPLE_INTERFACES: 59,
  WAR_NO_NWFILTER: 60,
  INVALID_NWFILTER: 61,
  NO_NWFILTER: 62,
  BUILD_FIREWALL: 63,
  WAR_NO_SECRET: 64,
  INVALID_SECRET: 65,
  NO_SECRET: 66,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  MIGRATE_PERSIST_FAILED: 69,
  HOOK_SCRIPT_FAILED: 70,
  INVALID_DOMAIN_SNAPSHOT: 71,
  NO_DOMAIN_SNAPSHOT: 72,
  INVALID_STREAM: 73,
  ARGUMENT_UNSUPPORTED: 74,
  STORAGE_PROBE_FAILED: 75,
  STORAGE_POOL_BUILT: 76,
  SNAPSHOT_REVERT_RISKY: 77,
  OPERATION_ABORTED: 78,
  AUTH_CANCELLED: 79,
  NO_DOMAIN_METADATA: 80,
  MIGRATE_UNSAFE: 81,
  OVERFLOW: 82,
  BLOCK_COPY_ACTIVE: 83,
  OPERATION_UNSUPPORTED: 84,
  SSH: 85,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  DBUS_SERVICE: 89,
  STORAGE_VOL_EXIST: 90,
  CPU_INCOMPATIBLE: 91,
  XML_INVALID_SCHEMA: 92,
  MIGRATE_FINISH_OK: 93,
  AUTH_UNAVAILABLE: 94,
  NO_SERVER: 95,
  NO_CLIENT: 96,
  AGENT_UNSYNCED: 97,
  LIBSSH: 98,
  DEVICE_MISSING: 99,
  INVALID_NWFILTER_BINDING: 100,
  NO_NWFILTER_BINDING: 101,
  INVALID_DOMAIN_CHECKPOINT: 102,
  NO_DOMAIN_CHECKPOINT: 103,
  NO_DOMAIN_BACKUP: 104,
  INVALID_NETWORK_PORT: 105,
  NETWORK_PORT_EXIST: 106,
  NO_NETWORK_PORT: 107,
  NO_HOSTNAME: 108,
  CHECKPOINT_INCONSISTENT: 109,
  MULTIPLE_DOMAINS: 110,
  NO_NETWORK_METADATA: 111,
} as const;

export type ErrorNumberName = keyof typeof ErrorNumber;
