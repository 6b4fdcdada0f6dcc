// The node labeller (pkg/virt-handler/node-labeller): reads what node-labeller.sh (the `virt-launcher` init
// container of the DaemonSet) wrote into the node-labeller volume — libvirt's domain capabilities, the host
// CPU's supported features and the host capabilities — and keeps the node's KubeVirt labels in step with it:
// CPU models and features, the host-model CPU, machine types, TSC timer, SEV/TDX. virt-controller puts
// `machine-type.node.kubevirt.io/<type>` (and CPU model/feature labels) into every launcher pod's node selector.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { XMLParser } from 'fast-xml-parser';
import * as z from 'zod/mini';
import { errorMessage, withReason, type Logger } from '@kubevirt-ts/shared';
import { DefaultObsoleteCPUModels, type ClusterConfig } from './cluster-config.ts';
import type { EventRecorder } from './recorder.ts';

export const CPUFeatureLabel = 'cpu-feature.node.kubevirt.io/';
export const CPUModelLabel = 'cpu-model.node.kubevirt.io/';
export const SupportedHostModelMigrationCPU = 'cpu-model-migration.node.kubevirt.io/';
export const CPUTimerLabel = 'cpu-timer.node.kubevirt.io/';
export const HypervLabel = 'hyperv.node.kubevirt.io/';
export const CPUModelVendorLabel = 'cpu-vendor.node.kubevirt.io/';
export const SupportedMachineTypeLabel = 'machine-type.node.kubevirt.io/';
export const HostModelCPULabel = 'host-model-cpu.node.kubevirt.io/';
export const HostModelRequiredFeaturesLabel = 'host-model-required-features.node.kubevirt.io/';
export const NodeHostModelIsObsoleteLabel = 'node-labeller.kubevirt.io/obsolete-host-model';
export const LabellerSkipNodeAnnotation = 'node-labeller.kubevirt.io/skip-node';
export const RealtimeLabel = 'kubevirt.io/realtime';
export const SEVLabel = 'kubevirt.io/sev';
export const SEVESLabel = 'kubevirt.io/sev-es';
export const SEVSNPLabel = 'kubevirt.io/sev-snp';
export const SecureExecutionLabel = 'kubevirt.io/s390-pv';
export const TDXLabel = 'kubevirt.io/tdx';
export const VMArchLabel = 'kubevirt.io/vm-arch-';

/** nodeLabellerLabels: the prefixes the labeller owns and removes when they no longer apply (the vendor label is not one). */
export const NodeLabellerLabels = [
  CPUFeatureLabel,
  CPUModelLabel,
  SupportedHostModelMigrationCPU,
  CPUTimerLabel,
  HypervLabel,
  RealtimeLabel,
  SEVLabel,
  SEVESLabel,
  SEVSNPLabel,
  TDXLabel,
  HostModelCPULabel,
  HostModelRequiredFeaturesLabel,
  NodeHostModelIsObsoleteLabel,
  SupportedMachineTypeLabel,
  VMArchLabel,
];

export function isNodeLabellerLabel(label: string): boolean {
  return NodeLabellerLabels.some((prefix) => label.startsWith(prefix));
}

export const DomCapabilitiesFile = 'virsh_domcapabilities.xml';
export const SupportedFeaturesFile = 'supported_features.xml';
export const CapabilitiesFile = 'capabilities.xml';
/** Run's JitterUntil period. */
export const NodeLabellerInterval = 180_000;

// --- the files ------------------------------------------------------------------------------------------

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  alwaysCreateTextNode: true,
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ['mode', 'model', 'feature', 'guest', 'machine', 'value', 'counter'].includes(name),
});

const text = z.optional(z.string());
const named = z.looseObject({ '#text': z._default(z.string(), ''), '@usable': text, '@fallback': text });
const featureSchema = z.looseObject({ '@name': z._default(z.string(), ''), '@policy': text });
const supportedAttr = z.optional(z.looseObject({ '@supported': text }));

const domCapabilitiesSchema = z.looseObject({
  domainCapabilities: z.looseObject({
    cpu: z._default(
      z.looseObject({
        mode: z._default(
          z.array(
            z.looseObject({
              '@name': z._default(z.string(), ''),
              vendor: z.optional(z.looseObject({ '#text': z._default(z.string(), '') })),
              model: z._default(z.array(named), []),
              feature: z._default(z.array(featureSchema), []),
            }),
          ),
          [],
        ),
      }),
      { mode: [] },
    ),
    features: z.optional(
      z.looseObject({
        sev: z.optional(
          z.looseObject({ '@supported': text, maxESGuests: z.optional(z.looseObject({ '#text': z._default(z.string(), '') })) }),
        ),
        's390-pv': supportedAttr,
        tdx: supportedAttr,
        launchSecurity: z.optional(
          z.looseObject({
            '@supported': text,
            enum: z.optional(z.looseObject({ value: z._default(z.array(z.looseObject({ '#text': z._default(z.string(), '') })), []) })),
          }),
        ),
      }),
    ),
  }),
});

const supportedFeaturesSchema = z.looseObject({
  cpu: z.looseObject({ feature: z._default(z.array(featureSchema), []) }),
});

const capabilitiesSchema = z.looseObject({
  capabilities: z.looseObject({
    host: z.optional(
      z.looseObject({
        cpu: z.optional(
          z.looseObject({
            counter: z._default(z.array(z.looseObject({ '@name': text, '@frequency': text, '@scaling': text })), []),
          }),
        ),
      }),
    ),
    guest: z._default(
      z.array(
        z.looseObject({
          arch: z.optional(z.looseObject({ machine: z._default(z.array(z.looseObject({ '#text': z._default(z.string(), '') })), []) })),
        }),
      ),
      [],
    ),
  }),
});

function readXML<S extends z.core.$ZodType>(dir: string, file: string, schema: S): z.output<S> {
  const raw: unknown = parser.parse(readFileSync(path.join(dir, file), 'utf8'));
  const res = z.safeParse(schema, raw);
  if (!res.success)
    throw new Error(`${file}: ${res.error.issues[0]?.message ?? 'not the expected XML'} at ${res.error.issues[0]?.path.join('.') ?? ''}`);
  return res.data;
}

/** What the node labeller knows about the node once the files are read (NodeLabeller's loaded state). */
export interface NodeLabellerData {
  /** Named CPU models libvirt can run (usable != no) and all it knows of. */
  usableModels: string[];
  knownModels: string[];
  hostCPUModel: { name: string; fallback: string; requiredFeatures: string[] };
  cpuModelVendor: string;
  /** Host CPU features with policy "require" in supported_features.xml. */
  supportedFeatures: string[];
  /** capabilities.xml guests' machine types (getMachines). */
  machines: string[];
  /** capabilities.xml host cpu counter (tsc). */
  cpuCounter: { name: string; frequency: number; scaling: string } | undefined;
  sev: { supported: boolean; es: boolean; snp: boolean };
  secureExecution: boolean;
  tdx: boolean;
}

/** loadAll + the capabilities read in cmd/virt-handler, from node-labeller.sh's files in `dir`. Throws on a missing or bad file. */
export function loadNodeLabellerData(dir: string): NodeLabellerData {
  const supported = readXML(dir, SupportedFeaturesFile, supportedFeaturesSchema);
  const domCaps = readXML(dir, DomCapabilitiesFile, domCapabilitiesSchema).domainCapabilities;
  const caps = readXML(dir, CapabilitiesFile, capabilitiesSchema).capabilities;

  const data: NodeLabellerData = {
    usableModels: [],
    knownModels: [],
    hostCPUModel: { name: '', fallback: '', requiredFeatures: [] },
    cpuModelVendor: '',
    supportedFeatures: supported.cpu.feature.filter((f) => f['@policy'] === 'require').map((f) => f['@name']),
    machines: caps.guest
      .flatMap((g) => g.arch?.machine ?? [])
      .map((m) => m['#text'].trim())
      .filter(Boolean),
    cpuCounter: undefined,
    sev: { supported: false, es: false, snp: false },
    secureExecution: domCaps.features?.['s390-pv']?.['@supported'] === 'yes',
    tdx: domCaps.features?.tdx?.['@supported'] === 'yes',
  };
  for (const mode of domCaps.cpu.mode) {
    if (mode['@name'] === 'host-model') {
      data.cpuModelVendor = mode.vendor?.['#text'].trim() ?? '';
      const model = mode.model[0];
      if (model === undefined) throw new Error('host model mode is expected to contain a model');
      data.hostCPUModel = {
        name: model['#text'].trim(),
        fallback: model['@fallback'] ?? '',
        requiredFeatures: mode.feature.filter((f) => f['@policy'] === 'require').map((f) => f['@name']),
      };
    }
    for (const model of mode.model) {
      const name = model['#text'].trim();
      if (!model['@usable'] || name === '') continue;
      data.knownModels.push(name);
      if (model['@usable'] !== 'no') data.usableModels.push(name);
    }
  }
  const counter = caps.host?.cpu?.counter.find((c) => c['@name'] === 'tsc');
  if (counter) data.cpuCounter = { name: 'tsc', frequency: Number(counter['@frequency'] ?? 0), scaling: counter['@scaling'] ?? '' };
  const sev = domCaps.features?.sev;
  const sevSupported = sev?.['@supported'] === 'yes';
  const es = sevSupported && Number(sev?.maxESGuests?.['#text'] ?? 0) > 0;
  const ls = domCaps.features?.launchSecurity;
  data.sev = {
    supported: sevSupported,
    es,
    snp: es && ls?.['@supported'] === 'yes' && (ls.enum?.value ?? []).some((v) => v['#text'].trim() === 'sev-snp'),
  };
  return data;
}

// --- the labels -----------------------------------------------------------------------------------------

export interface LabelInputs {
  data: NodeLabellerData;
  /** The CR's ObsoleteCPUModels; undefined: DefaultObsoleteCPUModels filter the models, and no host model is obsolete (as KubeVirt's nil map). */
  obsoleteCPUModels: Readonly<Record<string, boolean>> | undefined;
  /** Hyper-V enlightenments KVM offers (getCapLabels); empty where they cannot be probed. */
  hypervFeatures: readonly string[];
  realtimeCapable: boolean;
}

/** prepareLabels (amd64: host features, named models, host-model). */
export function prepareLabels(i: LabelInputs): Record<string, string> {
  const { data } = i;
  const filter = i.obsoleteCPUModels ?? DefaultObsoleteCPUModels;
  const obsolete = (m: string) => filter[m] !== undefined;
  const labels: Record<string, string> = {};
  for (const f of data.supportedFeatures) labels[CPUFeatureLabel + f] = 'true';
  for (const m of data.usableModels.filter((m) => !obsolete(m))) labels[CPUModelLabel + m] = 'true';
  for (const m of data.knownModels.filter((m) => !obsolete(m))) labels[SupportedHostModelMigrationCPU + m] = 'true';
  for (const m of data.machines) labels[SupportedMachineTypeLabel + m] = 'true';
  for (const h of i.hypervFeatures) labels[HypervLabel + h] = 'true';
  if (data.cpuCounter?.name === 'tsc') {
    labels[`${CPUTimerLabel}tsc-frequency`] = String(data.cpuCounter.frequency);
    labels[`${CPUTimerLabel}tsc-scalable`] = String(data.cpuCounter.scaling === 'yes');
  }
  if (i.obsoleteCPUModels?.[data.hostCPUModel.name] !== undefined) labels[NodeHostModelIsObsoleteLabel] = 'true';
  for (const f of data.hostCPUModel.requiredFeatures) labels[HostModelRequiredFeaturesLabel + f] = 'true';
  labels[CPUModelVendorLabel + data.cpuModelVendor] = 'true';
  labels[HostModelCPULabel + data.hostCPUModel.name] = 'true';
  if (i.realtimeCapable) labels[RealtimeLabel] = 'true';
  if (data.sev.supported) labels[SEVLabel] = 'true';
  if (data.sev.es) labels[SEVESLabel] = 'true';
  if (data.sev.snp) labels[SEVSNPLabel] = 'true';
  if (data.secureExecution) labels[SecureExecutionLabel] = 'true';
  if (data.tdx) labels[TDXLabel] = 'true';
  return labels;
}

/** The node's labels with the labeller's own replaced by `wanted` (removeLabellerLabels + addLabellerLabels). */
export function relabel(current: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): Record<string, string> {
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(current)) if (!isNodeLabellerLabel(k)) next[k] = v;
  return { ...next, ...wanted };
}

/** isNodeRealtimeCapable: `sysctl kernel.sched_rt_runtime_us` is -1 (no RT throttling). */
export function isNodeRealtimeCapable(procSys = '/proc/sys'): boolean {
  try {
    return readFileSync(path.join(procSys, 'kernel/sched_rt_runtime_us'), 'utf8').trim() === '-1';
  } catch {
    return false;
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

// --- the controller -------------------------------------------------------------------------------------

export interface NodeLabellerOptions {
  kc: KubeConfig;
  host: string;
  logger: Logger;
  clusterConfig: Pick<ClusterConfig, 'getObsoleteCPUModels' | 'onChange'>;
  /** node-labeller.sh's output directory (--node-labeller-dir). */
  volumePath: string;
  /** For HostModelIsObsolete warnings on the node. */
  recorder?: Pick<EventRecorder, 'event'>;
  hypervFeatures?: readonly string[];
  intervalMs?: number;
}

export class NodeLabeller {
  readonly #o: NodeLabellerOptions;
  readonly #api: CoreV1Api;
  readonly #data: NodeLabellerData;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #queued = false;
  #inFlight: Promise<void> = Promise.resolve();
  #retryMs = 5;

  /** Reads the files now (NewNodeLabeller fails when they are missing or bad). */
  constructor(o: NodeLabellerOptions) {
    this.#o = o;
    this.#api = o.kc.makeApiClient(CoreV1Api);
    this.#data = loadNodeLabellerData(o.volumePath);
  }

  get data(): NodeLabellerData {
    return this.#data;
  }

  /** Labels the node now, again every interval (jitter 1.2) and whenever the KubeVirt CR changes. */
  run(): void {
    if (this.#running) return;
    this.#running = true;
    this.#o.logger.info('node-labeller is running');
    if (this.#data.cpuCounter?.name !== 'tsc')
      this.#o.logger.error('failed to get tsc cpu frequency, will continue without the tsc frequency label');
    this.#o.clusterConfig.onChange(() => this.#enqueue());
    this.#enqueue();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  #enqueue(): void {
    if (!this.#running || this.#queued) return;
    this.#queued = true;
    this.#inFlight = this.#inFlight.then(async () => {
      this.#queued = false;
      clearTimeout(this.#timer);
      let delay = (this.#o.intervalMs ?? NodeLabellerInterval) * (1 + Math.random() * 1.2);
      try {
        await this.execute();
        this.#retryMs = 5;
      } catch (err) {
        withReason(this.#o.logger, err).error(`node-labeller sync error encountered: ${errorMessage(err)}`);
        // the workqueue's rate limiter: 5 ms doubling up to 1000 s
        delay = this.#retryMs;
        this.#retryMs = Math.min(this.#retryMs * 2, 1_000_000);
      }
      if (!this.#running) return;
      this.#timer = setTimeout(() => this.#enqueue(), delay);
      this.#timer.unref();
    });
  }

  /** One pass (NodeLabeller.run): the wanted labels, patched in with a test of the labels read. */
  async execute(): Promise<void> {
    const node: V1Node = await this.#api.readNode({ name: this.#o.host });
    if (node.metadata?.annotations?.[LabellerSkipNodeAnnotation] !== undefined) return;
    const obsoleteCPUModels = this.#o.clusterConfig.getObsoleteCPUModels();
    const wanted = prepareLabels({
      data: this.#data,
      obsoleteCPUModels,
      hypervFeatures: this.#o.hypervFeatures ?? [],
      realtimeCapable: isNodeRealtimeCapable(),
    });
    if (wanted[NodeHostModelIsObsoleteLabel] === 'true') {
      const list = Object.keys(obsoleteCPUModels ?? {})
        .map((m) => `${m}:true`)
        .join(' ');
      this.#o.recorder?.event(
        { kind: 'Node', apiVersion: 'v1', metadata: { name: this.#o.host, uid: node.metadata?.uid } },
        'Warning',
        'HostModelIsObsolete',
        `This node has ${this.#data.hostCPUModel.name} host-model cpu that is included in ObsoleteCPUModels: map[${list}]`,
      );
    }
    const current = node.metadata?.labels ?? {};
    const next = relabel(current, wanted);
    if (sameLabels(current, next)) return;
    await this.#api.patchNode(
      {
        name: this.#o.host,
        body: [
          { op: 'test', path: '/metadata/labels', value: current },
          { op: 'replace', path: '/metadata/labels', value: next },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    this.#o.logger.debug({ labels: Object.keys(wanted).length }, 'node labels updated');
  }
}
