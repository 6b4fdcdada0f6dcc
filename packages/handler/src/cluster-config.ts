// KubeVirt's ClusterConfig (pkg/virt-config) as far as virt-handler reads it: the KubeVirt CR's
// spec.configuration laid over KubeVirt's defaults, live-updated from a KubeVirt informer. As in KubeVirt, only
// a deployed CR counts (non-empty status.phase, not being deleted), an invalid configuration is logged and the
// last valid one kept, and a vanished CR leaves the last valid configuration in place.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { objectMetaSchema, validate, withReason, type Known, type Logger } from '@kubevirt-ts/shared';
import * as z from 'zod/mini';
import { createInformer, type Informer, type ListResult } from './informers.ts';

// --- KubeVirt's defaults (pkg/virt-config/virt-config.go) -------------------------------------------------

export const DefaultMemBalloonStatsPeriod = 10;
export const DefaultAllowEmulation = false;
export const DefaultLessPVCSpaceToleration = 10;
export const DefaultMinimumReservePVCBytes = 131072;
export const SmbiosConfigDefaultFamily = 'KubeVirt';
export const SmbiosConfigDefaultManufacturer = 'KubeVirt';
export const SmbiosConfigDefaultProduct = 'None';
export const SupportedGuestAgentVersions = '2.*,3.*,4.*,5.*';
export const DefaultVirtHandlerLogVerbosity = 2;
export const DefaultVirtLauncherLogVerbosity = 2;
/** kvtls: without a tlsConfiguration the handler's servers and clients use TLS 1.2 and Go's cipher suites. */
export const DefaultMinTLSVersion = 'VersionTLS12';
/** kubevirt.io/api/core/v1 VGADisplayForEFIGuestsX86Annotation: on the KubeVirt CR, x86 EFI guests get VGA, not Bochs. */
export const VGADisplayForEFIGuestsX86Annotation = 'kubevirt.io/vga-display-efi-x86';

export const TLSProtocolVersions = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'] as const;
export type TLSProtocolVersion = (typeof TLSProtocolVersions)[number];

// --- spec.configuration (kubevirt.io/api/core/v1 KubeVirtConfiguration), the parts the handler reads --------

const uint = () => z.int().check(z.nonnegative());
const presence = () => z.looseObject({});

const smbiosSchema = z.looseObject({
  manufacturer: z.optional(z.string()),
  product: z.optional(z.string()),
  version: z.optional(z.string()),
  sku: z.optional(z.string()),
  family: z.optional(z.string()),
});

const tlsConfigurationSchema = z.looseObject({
  minTLSVersion: z.optional(z.enum(TLSProtocolVersions)),
  ciphers: z.optional(z.array(z.string())),
});

const virtualMachineOptionsSchema = z.looseObject({
  disableFreePageReporting: z.optional(presence()),
  disableSerialConsoleLog: z.optional(presence()),
});

// metav1.LabelSelector
const labelSelectorSchema = z.looseObject({
  matchLabels: z.optional(z.record(z.string(), z.string())),
  matchExpressions: z.optional(
    z.array(
      z.looseObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.optional(z.array(z.string())),
      }),
    ),
  ),
});
export type LabelSelector = Known<z.infer<typeof labelSelectorSchema>>;

// PermittedHostDevices: only the PCI devices' selectors and resource names are read here
const permittedHostDevicesSchema = z.looseObject({
  pciHostDevices: z.optional(
    z.array(
      z.looseObject({
        pciVendorSelector: z._default(z.string(), ''),
        resourceName: z._default(z.string(), ''),
        externalResourceProvider: z.optional(z.boolean()),
      }),
    ),
  ),
});
export type PermittedHostDevices = Known<z.infer<typeof permittedHostDevicesSchema>>;

const developerConfigurationSchema = z.looseObject({
  featureGates: z.optional(z.array(z.string())),
  useEmulation: z.optional(z.boolean()),
  clusterProfiler: z.optional(z.boolean()),
  memoryOvercommit: z.optional(z.int()),
  cpuAllocationRatio: z.optional(z.int()),
  // LessPVCSpaceToleration: how much smaller than asked a disk image on a claim may be
  pvcTolerateLessSpaceUpToPercent: z.optional(z.int().check(z.minimum(0), z.maximum(100))),
  minimumReservePVCBytes: z.optional(z.int().check(z.minimum(0))),
  logVerbosity: z.optional(
    z.looseObject({
      virtAPI: z.optional(uint()),
      virtController: z.optional(uint()),
      virtHandler: z.optional(uint()),
      virtLauncher: z.optional(uint()),
      virtOperator: z.optional(uint()),
      nodeVerbosity: z.optional(z.record(z.string(), uint())),
    }),
  ),
});

/**
 * MigrationConfiguration (the CR's `migrations`), which is also the VMI's
 * `status.migrationState.migrationConfiguration` (VMIMConfigurationOptions): the fields a handler reads.
 */
export const migrationConfigurationSchema = z.looseObject({
  bandwidthPerMigration: z.optional(z.union([z.string(), z.number()])),
  completionTimeoutPerGiB: z.optional(z.int()),
  progressTimeout: z.optional(z.int()),
  maxDowntimeMs: z.optional(uint()),
  unsafeMigrationOverride: z.optional(z.boolean()),
  allowAutoConverge: z.optional(z.boolean()),
  allowPostCopy: z.optional(z.boolean()),
  allowWorkloadDisruption: z.optional(z.boolean()),
  disableTLS: z.optional(z.boolean()),
  network: z.optional(z.string()),
});
export type MigrationConfiguration = Known<z.infer<typeof migrationConfigurationSchema>>;

/** virt-config's migration defaults (configuration.go). */
export const DefaultMigrationConfiguration = Object.freeze({
  bandwidthPerMigration: '0Mi',
  progressTimeout: 150,
  completionTimeoutPerGiB: 150,
  maxDowntimeMs: 900,
  unsafeMigrationOverride: false,
  allowAutoConverge: false,
  allowPostCopy: false,
} satisfies MigrationConfiguration);

const kubeVirtConfigurationSchema = z
  .looseObject({
    migrations: z.optional(migrationConfigurationSchema),
    developerConfiguration: z.optional(developerConfigurationSchema),
    memBalloonStatsPeriod: z.optional(uint()),
    smbios: z.optional(smbiosSchema),
    supportedGuestAgentVersions: z.optional(z.array(z.string())),
    tlsConfiguration: z.optional(tlsConfigurationSchema),
    virtualMachineOptions: z.optional(virtualMachineOptionsSchema),
    permittedHostDevices: z.optional(permittedHostDevicesSchema),
    imagePullPolicy: z.optional(z.enum(['', 'Always', 'Never', 'IfNotPresent'])),
    selinuxLauncherType: z.optional(z.string()),
    ovmfPath: z.optional(z.string()),
    machineType: z.optional(z.string()),
    cpuModel: z.optional(z.string()),
    obsoleteCPUModels: z.optional(z.record(z.string(), z.boolean())),
    minCPUModel: z.optional(z.string()),
    ksmConfiguration: z.optional(z.looseObject({ nodeLabelSelector: z.optional(labelSelectorSchema) })),
  })
  .check(
    z.refine((c) => !(c.tlsConfiguration?.minTLSVersion === 'VersionTLS13' && (c.tlsConfiguration.ciphers?.length ?? 0) > 0), {
      message: 'You cannot specify ciphers when setting min TLS version to 1.3',
      path: ['tlsConfiguration', 'ciphers'],
    }),
  );

/** The KubeVirt CR as the informer keeps it; spec.configuration is validated separately, with KubeVirt's message. */
const kubeVirtSchema = z.looseObject({
  apiVersion: z.optional(z.string()),
  kind: z.optional(z.string()),
  metadata: objectMetaSchema,
  spec: z.optional(z.looseObject({ configuration: z.optional(z.unknown()) })),
  status: z.optional(z.looseObject({ phase: z.optional(z.string()) })),
});

export type KubeVirt = Known<z.infer<typeof kubeVirtSchema>>;
export type KubeVirtConfiguration = Known<z.infer<typeof kubeVirtConfigurationSchema>>;
export type SMBiosConfiguration = Known<z.infer<typeof smbiosSchema>>;
export type VirtualMachineOptions = Known<z.infer<typeof virtualMachineOptionsSchema>>;

export interface TLSConfiguration {
  minTLSVersion: TLSProtocolVersion;
  /** Go cipher-suite names; empty: the runtime's defaults. */
  ciphers: string[];
}

/** node-labeller/util DefaultObsoleteCPUModels */
export const DefaultObsoleteCPUModels: Readonly<Record<string, boolean>> = Object.freeze(
  Object.fromEntries(
    [
      '486',
      'pentium',
      'pentium2',
      'pentium3',
      'pentiumpro',
      'coreduo',
      'n270',
      'core2duo',
      'Conroe',
      'athlon',
      'phenom',
      'qemu64',
      'qemu32',
      'kvm64',
      'kvm32',
      'Opteron_G1',
      'Opteron_G2',
    ].flatMap((m) => [
      [m, true],
      [`${m}-v1`, true],
    ]),
  ),
);

/** The handler's view of KubeVirt's defaultClusterConfig(). */
export function defaultClusterConfig(): KubeVirtConfiguration {
  return {
    developerConfiguration: {
      useEmulation: DefaultAllowEmulation,
      featureGates: [],
      memoryOvercommit: 100,
      cpuAllocationRatio: 10,
      pvcTolerateLessSpaceUpToPercent: DefaultLessPVCSpaceToleration,
      minimumReservePVCBytes: DefaultMinimumReservePVCBytes,
      logVerbosity: {
        virtAPI: 2,
        virtController: 2,
        virtHandler: DefaultVirtHandlerLogVerbosity,
        virtLauncher: DefaultVirtLauncherLogVerbosity,
        virtOperator: 2,
      },
    },
    memBalloonStatsPeriod: DefaultMemBalloonStatsPeriod,
    migrations: { ...DefaultMigrationConfiguration },
    smbios: {
      family: SmbiosConfigDefaultFamily,
      manufacturer: SmbiosConfigDefaultManufacturer,
      product: SmbiosConfigDefaultProduct,
    },
    supportedGuestAgentVersions: SupportedGuestAgentVersions.split(','),
    imagePullPolicy: 'IfNotPresent',
    selinuxLauncherType: '',
    // DefaultARCHOVMFPath (amd64)
    ovmfPath: '/usr/share/edk2/ovmf',
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go's json.Unmarshal onto a filled struct: objects merge key by key, lists and scalars replace, null keeps. */
function overlay(base: unknown, over: unknown): unknown {
  if (over === null || over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = overlay(base[key], value);
  return out;
}

/** setConfigFromKubeVirt: the CR's spec.configuration over the defaults; throws a ValidationError if invalid. */
export function clusterConfigFromKubeVirt(kv: Pick<KubeVirt, 'spec'>): KubeVirtConfiguration {
  const merged = overlay(defaultClusterConfig(), kv.spec?.configuration ?? {});
  return validate(kubeVirtConfigurationSchema, merged, 'KubeVirt spec.configuration');
}

/** GetConfigFromKubeVirtCR: the deployed, not deleted CR; the oldest if there are several. */
export function selectKubeVirt(kvs: readonly KubeVirt[]): KubeVirt | undefined {
  return kvs
    .filter((kv) => !kv.metadata.deletionTimestamp && (kv.status?.phase ?? '') !== '')
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    )[0];
}

export interface ClusterConfig {
  /** Starts the KubeVirt informer; resolves once it has synced (defaults apply until then and without a CR). */
  start(): Promise<void>;
  stop(): void;
  /** The effective configuration: the CR's over KubeVirt's defaults. Do not mutate. */
  getConfig(): KubeVirtConfiguration;
  /** The resourceVersion of the CR the configuration came from; '' for the defaults. */
  getResourceVersion(): string;
  allowEmulation(): boolean;
  /** developerConfiguration.pvcTolerateLessSpaceUpToPercent */
  getLessPVCSpaceToleration(): number;
  /** developerConfiguration.minimumReservePVCBytes */
  getMinimumReservePVCBytes(): number;
  getMemBalloonStatsPeriod(): number;
  getSMBIOS(): SMBiosConfiguration;
  getSupportedAgentVersions(): string[];
  getTLSConfiguration(): TLSConfiguration;
  getVirtualMachineOptions(): VirtualMachineOptions;
  isFreePageReportingDisabled(): boolean;
  isSerialConsoleLogDisabled(): boolean;
  /** VGADisplayForEFIGuestsEnabled: the deployed CR carries the kubevirt.io/vga-display-efi-x86 annotation. */
  vgaDisplayForEFIGuestsEnabled(): boolean;
  /** permittedHostDevices; undefined when the CR sets none. */
  getPermittedHostDevices(): PermittedHostDevices | undefined;
  getFeatureGates(): string[];
  isFeatureGateEnabled(name: string): boolean;
  /** developerConfiguration.logVerbosity: the node's own level if set, else virtHandler's. */
  getVirtHandlerVerbosity(nodeName: string): number;
  getVirtLauncherVerbosity(): number;
  getSELinuxLauncherType(): string;
  /** developerConfiguration.clusterProfiler */
  clusterProfilerEnabled(): boolean;
  /** ObsoleteCPUModels as the CR sets it; unset, node-labeller falls back to DefaultObsoleteCPUModels. */
  getObsoleteCPUModels(): Record<string, boolean> | undefined;
  /** ksmConfiguration; undefined: KSM not handled. */
  getKSMConfiguration(): { nodeLabelSelector?: LabelSelector } | undefined;
  /** GetMigrationConfiguration: allowWorkloadDisruption follows allowPostCopy when unset. */
  getMigrationConfiguration(): MigrationConfiguration;
  /** SetConfigModifiedCallback: called (asynchronously) whenever the effective configuration changes. */
  onChange(fn: (config: KubeVirtConfiguration) => void): void;
}

export interface ClusterConfigOptions {
  kc: KubeConfig;
  logger: Logger;
  /** KubeVirt watches the CR in its own namespace (the handler's); all namespaces when omitted. */
  namespace?: string;
}

const KUBEVIRT_RESOURCE = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;

export function createKubeVirtInformer(kc: KubeConfig, logger: Logger, namespace?: string): Informer<KubeVirt> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural } = KUBEVIRT_RESOURCE;
  return createInformer({
    kc,
    path: namespace ? `/apis/${group}/${version}/namespaces/${namespace}/${plural}` : `/apis/${group}/${version}/${plural}`,
    list: async () =>
      (namespace
        ? await api.listNamespacedCustomObject({ ...KUBEVIRT_RESOURCE, namespace })
        : await api.listClusterCustomObject(KUBEVIRT_RESOURCE)) as ListResult,
    parse: (raw) => validate(kubeVirtSchema, raw, 'KubeVirt'),
    kind: 'KubeVirt',
    logger,
  });
}

export function createClusterConfig(opts: ClusterConfigOptions): ClusterConfig {
  const logger = opts.logger;
  const informer = createKubeVirtInformer(opts.kc, logger, opts.namespace);
  const callbacks: ((config: KubeVirtConfiguration) => void)[] = [];
  let config = defaultClusterConfig();
  let validVersion = '';
  let invalidVersion = '';

  const refresh = () => {
    const kv = selectKubeVirt(informer.list());
    if (!kv) return;
    const resourceVersion = kv.metadata.resourceVersion ?? '';
    if (resourceVersion === validVersion || resourceVersion === invalidVersion) return;
    try {
      config = clusterConfigFromKubeVirt(kv);
    } catch (err) {
      invalidVersion = resourceVersion;
      withReason(logger, err).error(
        `Invalid cluster config using KubeVirt resource version '${resourceVersion}', falling back to last good resource version '${validVersion}'`,
      );
      return;
    }
    validVersion = resourceVersion;
    logger.info(`Updating cluster config from KubeVirt to resource version '${resourceVersion}'`);
    const current = config;
    for (const fn of callbacks) {
      queueMicrotask(() => {
        try {
          fn(current);
        } catch (err) {
          withReason(logger, err).error('cluster config callback failed');
        }
      });
    }
  };
  informer.on('add', refresh);
  informer.on('update', refresh);
  informer.on('delete', refresh);

  const dev = () => config.developerConfiguration ?? {};
  const vmOptions = () => config.virtualMachineOptions ?? {};

  return {
    start: () => informer.start(),
    stop: () => informer.stop(),
    getConfig: () => config,
    getResourceVersion: () => validVersion,
    allowEmulation: () => dev().useEmulation ?? DefaultAllowEmulation,
    getLessPVCSpaceToleration: () => dev().pvcTolerateLessSpaceUpToPercent ?? DefaultLessPVCSpaceToleration,
    getMinimumReservePVCBytes: () => dev().minimumReservePVCBytes ?? DefaultMinimumReservePVCBytes,
    getMemBalloonStatsPeriod: () => config.memBalloonStatsPeriod ?? DefaultMemBalloonStatsPeriod,
    getSMBIOS: () => config.smbios ?? {},
    getSupportedAgentVersions: () => config.supportedGuestAgentVersions ?? [],
    getTLSConfiguration: () => ({
      minTLSVersion: config.tlsConfiguration?.minTLSVersion ?? DefaultMinTLSVersion,
      ciphers: config.tlsConfiguration?.ciphers ?? [],
    }),
    getVirtualMachineOptions: vmOptions,
    isFreePageReportingDisabled: () => vmOptions().disableFreePageReporting !== undefined,
    isSerialConsoleLogDisabled: () => vmOptions().disableSerialConsoleLog !== undefined,
    // KubeVirt reads the annotation off the CR itself, not off the validated configuration
    vgaDisplayForEFIGuestsEnabled: () =>
      Object.hasOwn(selectKubeVirt(informer.list())?.metadata.annotations ?? {}, VGADisplayForEFIGuestsX86Annotation),
    getPermittedHostDevices: () => config.permittedHostDevices,
    getFeatureGates: () => dev().featureGates ?? [],
    isFeatureGateEnabled: (name) => (dev().featureGates ?? []).includes(name),
    getVirtHandlerVerbosity: (nodeName) => {
      const verbosity = dev().logVerbosity;
      const forNode = nodeName ? verbosity?.nodeVerbosity?.[nodeName] : undefined;
      return forNode || (verbosity?.virtHandler ?? DefaultVirtHandlerLogVerbosity);
    },
    getVirtLauncherVerbosity: () => dev().logVerbosity?.virtLauncher ?? DefaultVirtLauncherLogVerbosity,
    getSELinuxLauncherType: () => config.selinuxLauncherType ?? '',
    clusterProfilerEnabled: () => dev().clusterProfiler === true,
    getObsoleteCPUModels: () => config.obsoleteCPUModels,
    getKSMConfiguration: () => config.ksmConfiguration,
    getMigrationConfiguration: () => {
      const m = config.migrations ?? {};
      return { ...m, allowWorkloadDisruption: m.allowWorkloadDisruption ?? m.allowPostCopy ?? false };
    },
    onChange: (fn) => void callbacks.push(fn),
  };
}
