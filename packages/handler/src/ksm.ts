// KSM (pkg/virt-handler/ksm): on nodes the KubeVirt CR's ksmConfiguration.nodeLabelSelector picks, virt-handler
// runs the kernel's same-page merging under memory pressure — it writes run, sleep_millisecs and pages_to_scan
// under /sys/kernel/mm/ksm (every 3 minutes and on every CR change) — and labels the node
// kubevirt.io/ksm-enabled with the eligibility, annotating kubevirt.io/ksm-handler-managed when it turned KSM on.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { errorMessage, withReason, type Logger } from '@kubevirt-ts/shared';
import type { ClusterConfig, LabelSelector } from './cluster-config.ts';

export const KSMEnabledLabel = 'kubevirt.io/ksm-enabled';
export const KSMHandlerManagedAnnotation = 'kubevirt.io/ksm-handler-managed';
export const KSMPagesBoostOverride = 'kubevirt.io/ksm-pages-boost-override';
export const KSMPagesDecayOverride = 'kubevirt.io/ksm-pages-decay-override';
export const KSMPagesMinOverride = 'kubevirt.io/ksm-pages-min-override';
export const KSMPagesMaxOverride = 'kubevirt.io/ksm-pages-max-override';
export const KSMPagesInitOverride = 'kubevirt.io/ksm-pages-init-override';
export const KSMSleepMsBaselineOverride = 'kubevirt.io/ksm-sleep-ms-baseline-override';
export const KSMFreePercentOverride = 'kubevirt.io/ksm-free-percent-override';

const pagesBoostDefault = 300;
const pagesDecayDefault = -50;
const nPagesMinDefault = 64;
const nPagesMaxDefault = 1250;
const nPagesInitDefault = 100;
const sleepMsBaselineDefault = 100;
const freePercentDefault = 0.2;
/** ksmLoopIntervalMinutes */
export const KSMLoopInterval = 180_000;
const MAX_INT = Number.MAX_SAFE_INTEGER;
const MIN_INT = Number.MIN_SAFE_INTEGER;

export interface KSMState {
  running: boolean;
  sleep: number;
  pages: number;
}

/** metav1.LabelSelectorAsSelector(...).Matches(labels); an empty selector matches every node. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false; // a nil selector selects nothing
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(value as string))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value as string)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function boundCheck(value: number, def: number, lower: number, upper: number, message: string, logger: Logger): number {
  if (value < lower || value > upper) {
    if (def > lower && def < upper) {
      logger.error(`${message}, using default (${def})`);
      return def;
    }
    logger.error(`${message}, using lowest possible value (${lower})`);
    return lower;
  }
  return value;
}

function param(node: V1Node, name: string, def: number, lower: number, upper: number, logger: Logger, float = false): number {
  const override = node.metadata?.annotations?.[name];
  if (override === undefined) return def;
  const value = float ? Number.parseFloat(override) : /^[+-]?\d+$/.test(override.trim()) ? Number(override) : Number.NaN;
  if (Number.isNaN(value)) {
    logger.error(`failed to parse ${name} override value, using default`);
    return def;
  }
  return boundCheck(value, def, lower, upper, `${name} override value out of bounds`, logger);
}

/** calculateNewRunSleepAndPages: more pages scanned while memory is short, fewer (then off) once it is not. */
export function calculateNewRunSleepAndPages(
  node: V1Node,
  running: boolean,
  mem: { total: number; available: number },
  currentPages: number,
  logger: Logger,
): KSMState {
  const pagesBoost = param(node, KSMPagesBoostOverride, pagesBoostDefault, 0, MAX_INT, logger);
  const pagesDecay = param(node, KSMPagesDecayOverride, pagesDecayDefault, MIN_INT, 0, logger);
  const nPagesMin = param(node, KSMPagesMinOverride, nPagesMinDefault, 0, MAX_INT, logger);
  const nPagesMax = param(node, KSMPagesMaxOverride, nPagesMaxDefault, nPagesMin, MAX_INT, logger);
  const nPagesInit = param(node, KSMPagesInitOverride, nPagesInitDefault, nPagesMin, nPagesMax, logger);
  const sleepMsBaseline = param(node, KSMSleepMsBaselineOverride, sleepMsBaselineDefault, 1, MAX_INT, logger);
  const freePercent = param(node, KSMFreePercentOverride, freePercentDefault, 0, 1, logger, true);
  const used = mem.total - mem.available;
  let sleep = used > 0 ? Math.floor((sleepMsBaseline * 16 * 1024 * 1024) / used) : sleepMsBaseline;
  if (sleep < Math.floor(sleepMsBaseline / 10)) sleep = Math.floor(sleepMsBaseline / 10);
  const ksm: KSMState = { running, sleep, pages: currentPages };
  if (mem.available > mem.total * freePercent) {
    if (!running) return { running: false, sleep: 0, pages: 0 };
    ksm.pages += pagesDecay;
    if (ksm.pages < nPagesMin) {
      ksm.pages = nPagesMin;
      ksm.running = false;
    }
    return ksm;
  }
  if (running) {
    ksm.pages = Math.min(ksm.pages + pagesBoost, nPagesMax);
    return ksm;
  }
  return { running: true, sleep, pages: nPagesInit };
}

export interface KSMHandlerOptions {
  kc: KubeConfig;
  host: string;
  logger: Logger;
  clusterConfig: Pick<ClusterConfig, 'getKSMConfiguration' | 'onChange'>;
  /** The directory holding run, sleep_millisecs, pages_to_scan (ksmBasePath: /proc/1/root/sys/kernel/mm/ksm). */
  ksmPath: string;
  /** /proc/meminfo */
  memInfoPath?: string;
  intervalMs?: number;
}

export class KSMHandler {
  readonly #o: KSMHandlerOptions;
  readonly #api: CoreV1Api;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(o: KSMHandlerOptions) {
    this.#o = o;
    this.#api = o.kc.makeApiClient(CoreV1Api);
  }

  /** Run: a spin now, then every 3 minutes, and at once whenever the CR changes (the ticker restarts). */
  run(): void {
    if (this.#running) return;
    this.#running = true;
    this.#o.clusterConfig.onChange(() => this.#next(0));
    this.#next(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  #next(delay: number): void {
    if (!this.#running) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#inFlight = this.#inFlight
        .then(() => this.spin())
        .then(
          () => this.#next(this.#o.intervalMs ?? KSMLoopInterval),
          () => this.#next(this.#o.intervalMs ?? KSMLoopInterval),
        );
    }, delay);
    this.#timer.unref();
  }

  #file(name: string): string {
    return path.join(this.#o.ksmPath, name);
  }

  /** loadKSM: whether the node has KSM, and whether it runs. */
  #loadKSM(): { available: boolean; enabled: boolean } {
    try {
      return { available: true, enabled: readFileSync(this.#file('run'), 'utf8').trim() === '1' };
    } catch (err) {
      this.#o.logger.warn(`An error occurred while reading the ksm module file; Maybe it is not available: ${errorMessage(err)}`);
      return { available: false, enabled: false };
    }
  }

  #memInfo(): { total: number; available: number } {
    const text = readFileSync(this.#o.memInfoPath ?? '/proc/meminfo', 'utf8');
    const total = /^MemTotal:\s*(\d+)/m.exec(text)?.[1];
    const available = /^MemAvailable:\s*(\d+)/m.exec(text)?.[1];
    if (total === undefined || available === undefined) throw new Error('failed to find total and available memory');
    return { total: Number(total), available: Number(available) };
  }

  /** spin: eligibility, KSM's files, then the label and annotation. Returns the eligibility. */
  async spin(): Promise<boolean> {
    const log = this.#o.logger;
    const { available, enabled } = this.#loadKSM();
    let node: V1Node | undefined;
    let eligible = false;
    const config = this.#o.clusterConfig.getKSMConfiguration();
    if (available && config) {
      try {
        node = await this.#api.readNode({ name: this.#o.host });
        eligible = selectorMatches(config.nodeLabelSelector, node.metadata?.labels ?? {});
      } catch (err) {
        withReason(log, err).error(`node ${this.#o.host} does not exist`);
      }
    }
    if (!eligible && enabled) {
      // only KSM this handler turned on is turned off
      node ??= await this.#api.readNode({ name: this.#o.host }).catch(() => undefined);
      if (node?.metadata?.annotations?.[KSMHandlerManagedAnnotation] === 'true') {
        try {
          writeFileSync(this.#file('run'), '0\n', { mode: 0o600 });
        } catch (err) {
          log.error(`Unable to write ksm: ${errorMessage(err)}`);
        }
      }
    }
    let enabledByUs = false;
    if (eligible && node) {
      try {
        const pages = Number.parseInt(readFileSync(this.#file('pages_to_scan'), 'utf8').trim(), 10);
        if (Number.isNaN(pages)) throw new Error('pages_to_scan is not a number');
        const ksm = calculateNewRunSleepAndPages(node, enabled, this.#memInfo(), pages, log);
        if (ksm.running) {
          writeFileSync(this.#file('sleep_millisecs'), String(ksm.sleep), { mode: 0o600 });
          writeFileSync(this.#file('pages_to_scan'), String(ksm.pages), { mode: 0o600 });
        }
        writeFileSync(this.#file('run'), ksm.running ? '1' : '0', { mode: 0o600 });
        enabledByUs = ksm.running;
      } catch (err) {
        withReason(log, err).error('An error occurred while writing the new KSM values');
      }
    }
    try {
      await this.#api.patchNode(
        {
          name: this.#o.host,
          body: {
            metadata: {
              labels: { [KSMEnabledLabel]: String(eligible) },
              annotations: { [KSMHandlerManagedAnnotation]: String(enabledByUs) },
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      withReason(log, err).error(`Can't patch node ${this.#o.host}`);
    }
    return eligible;
  }
}
