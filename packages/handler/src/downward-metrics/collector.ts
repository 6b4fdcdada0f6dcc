// scraper.RunDownwardMetricsCollector: every 5 s, each running VMI of the node that has a
// downwardMetrics volume gets its metrics written into the vhostmd disk its launcher made, where the
// guest reads them. A VMI whose figures or disk cannot be had is skipped until the next round.
import { closeSync, openSync } from 'node:fs';
import {
  DownwardMetricDisk,
  errorMessage,
  forObject,
  writeVhostmdDisk,
  type Logger,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';
import { metricsXML, type Metric } from './metrics.ts';

const REFRESH_MS = 5000;

export interface DownwardMetricsCollectorOptions {
  logger: Logger;
  vmis(): VirtualMachineInstance[];
  pathInLauncher(vmiUID: string, podPath: string): string;
  report(vmi: VirtualMachineInstance): Promise<Metric[]>;
  refreshMs?: number;
}

export const hasDownwardMetricDisk = (vmi: VirtualMachineInstance) => (vmi.spec.volumes ?? []).some((v) => v.downwardMetrics);

export class DownwardMetricsCollector {
  readonly #o: DownwardMetricsCollectorOptions;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;

  constructor(o: DownwardMetricsCollectorOptions) {
    this.#o = o;
  }

  run(): void {
    this.#timer = setInterval(() => {
      this.#round ??= this.scrape().finally(() => {
        this.#round = undefined;
      });
    }, this.#o.refreshMs ?? REFRESH_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#round;
  }

  /** One round (Scrape for each VMI, one at a time as KubeVirt's collector of concurrency 1). */
  async scrape(): Promise<void> {
    for (const vmi of this.#o.vmis()) {
      if (vmi.status?.phase !== 'Running' || !hasDownwardMetricDisk(vmi)) continue;
      const log = forObject(this.#o.logger, { kind: 'VirtualMachineInstance', ...vmi });
      let metrics: Metric[];
      try {
        metrics = await this.#o.report(vmi);
      } catch (err) {
        log.info({ reason: errorMessage(err) }, 'failed to collect the metrics');
        continue;
      }
      try {
        const fd = openSync(this.#o.pathInLauncher(vmi.metadata.uid, DownwardMetricDisk), 'r+');
        try {
          writeVhostmdDisk(fd, metricsXML(metrics));
        } finally {
          closeSync(fd);
        }
      } catch (err) {
        log.info({ reason: errorMessage(err) }, 'failed to write metrics to disk');
      }
    }
  }
}
