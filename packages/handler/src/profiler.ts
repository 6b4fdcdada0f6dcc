// The component profiler (pkg/monitoring/profiler): /start-profiler, /stop-profiler and /dump-profiler on the
// metrics port, for `virtctl` / virt-operator's cluster profiler, with developerConfiguration.clusterProfiler.
// Go answers pprof files; a Node process has V8's CPU profile instead, dumped as `cpu.cpuprofile` (the
// .cpuprofile JSON Chrome DevTools opens) in the same v1.ProfilerResult envelope ({"pprofData": {name: base64}}).
import { errorMessage } from '@kubevirt-ts/shared';
import { Session } from 'node:inspector/promises';

export interface ProfileResult {
  /** v1.ProfilerResult.PprofData: file name → bytes (base64 in JSON, as Go's []byte) */
  pprofData?: Record<string, string>;
}

/** A refusal or failure, with KubeVirt's status and text. */
export class ProfilerError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

export class ProfileManager {
  readonly #enabled: () => boolean;
  #session: Session | undefined;
  #profiling = false;
  #result: string | undefined;

  constructor(o: { enabled: () => boolean }) {
    this.#enabled = o.enabled;
  }

  #check(what: string): void {
    if (!this.#enabled()) throw new ProfilerError(403, `Unable to ${what}. "ClusterProfiler" feature gate must be enabled`);
  }

  /** HandleStartProfiler: a running profile and old results are dropped, a new profile starts. */
  async start(): Promise<void> {
    this.#check('start profiler');
    try {
      await this.#stop(true);
      this.#session = new Session();
      this.#session.connect();
      await this.#session.post('Profiler.enable');
      await this.#session.post('Profiler.start');
      this.#profiling = true;
    } catch (err) {
      await this.#stop(true).catch(() => undefined);
      throw new ProfilerError(500, `could not start internal profiling: ${errorMessage(err)}`);
    }
  }

  /** HandleStopProfiler: the profile so far is kept for the dump. */
  async stop(): Promise<void> {
    this.#check('stop profiler');
    try {
      await this.#stop(false);
    } catch (err) {
      throw new ProfilerError(500, `could not stop internal profiling: ${errorMessage(err)}`);
    }
  }

  /** HandleDumpProfiler: the stopped profile, if there is one. */
  dump(): ProfileResult {
    this.#check('retrieve profiler data');
    if (this.#result === undefined) return {};
    return { pprofData: { 'cpu.cpuprofile': Buffer.from(this.#result).toString('base64') } };
  }

  async close(): Promise<void> {
    await this.#stop(true).catch(() => undefined);
  }

  async #stop(clearResults: boolean): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session && this.#profiling) {
      const { profile } = await session.post('Profiler.stop');
      this.#result = JSON.stringify(profile);
    }
    this.#profiling = false;
    session?.disconnect();
    if (clearResults) this.#result = undefined;
  }
}
