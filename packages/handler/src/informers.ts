// The handler's shared informers, as KubeVirt's kubeInformerFactory builds them (pkg/controller/virtinformers.go):
// VMIs on this node (source) and VMIs migrating to it (target), plus the small generic informer the KubeVirt CR
// and the kubevirt-ca configmap are watched with. client-node's ListWatch does the list-then-watch and relists
// after 410 Gone; this module adds what client-go's reflector does on top of it: a watch that failed is restarted
// with backoff, and every object is parsed (zod) before anyone sees it.
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import {
  forObject,
  KubeVirtGroupVersion,
  MigrationTargetNodeNameLabel,
  NodeNameLabel,
  parseVMI,
  VirtualMachineInstanceKind,
  withReason,
  type Logger,
  type VirtualMachineInstance,
} from '@kubevirt-ts/shared';

/** What every cached object has: the metadata its cache key comes from. */
export interface CachedObject {
  metadata?: { name?: string | undefined; namespace?: string | undefined } | undefined;
}

export interface Informer<T extends CachedObject> {
  /** Starts listing and watching; resolves once the first list is in the cache (client-go's HasSynced). */
  start(): Promise<void>;
  stop(): void;
  hasSynced(): boolean;
  /** Cluster-scoped objects have the namespace ''. */
  get(namespace: string, name: string): T | undefined;
  list(): T[];
  on(event: 'add', fn: (obj: T) => void): void;
  on(event: 'update', fn: (obj: T, old: T | undefined) => void): void;
  on(event: 'delete', fn: (obj: T) => void): void;
}

export type VMIInformer = Informer<VirtualMachineInstance>;

/** A list response: raw JSON from CustomObjectsApi, or a typed client-node list. */
export interface ListResult {
  items: unknown[];
  metadata?: { resourceVersion?: string | undefined } | undefined;
}

export interface InformerOptions<T extends CachedObject> {
  kc: KubeConfig;
  /** The collection's API path, e.g. `/apis/kubevirt.io/v1/virtualmachineinstances`. */
  path: string;
  /** Lists the collection with the same selectors as the watch. */
  list: () => Promise<ListResult>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Turns a raw object into a typed one; throws (a ValidationError) when it does not fit. */
  parse: (raw: unknown) => T;
  /** The kind, for log lines. */
  kind: string;
  logger: Logger;
  /** Restart delays after a failed list or watch (client-go's reflector backs off 800 ms … 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
}

type Handlers<T> = {
  add: ((obj: T) => void)[];
  update: ((obj: T, old: T | undefined) => void)[];
  delete: ((obj: T) => void)[];
};

function cacheKey(obj: CachedObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * An informer whose cache holds parsed objects. An object that does not parse is logged and left out; if an
 * earlier version of it did parse, that version stays (a malformed update must not look like a deletion, which
 * would make the handler tear a running VM down). Deletions, including "relabelled off this node" and objects
 * gone while the watch was away (found by the relist), are delivered as `delete`.
 */
export function createInformer<T extends CachedObject>(opts: InformerOptions<T>): Informer<T> {
  const logger = opts.logger.child({ informer: opts.kind, path: opts.path });
  const initialBackoff = opts.backoff?.initialMs ?? 800;
  const maxBackoff = opts.backoff?.maxMs ?? 30_000;
  const cache = new Map<string, T>();
  const handlers: Handlers<T> = { add: [], update: [], delete: [] };

  let stopped = true;
  let everStopped = false;
  let listed = false;
  let synced = false;
  let markSynced!: () => void;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));
  let backoff = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let failedSinceStart = false;

  const lw = new ListWatch<KubernetesObject>(
    opts.path,
    new Watch(opts.kc),
    async () => {
      const result = await opts.list();
      listed = true;
      logger.debug({ items: result.items.length }, 'listed');
      return result as KubernetesListObject<KubernetesObject>;
    },
    false,
    opts.labelSelector,
    opts.fieldSelector,
  );

  const emit = <E extends keyof Handlers<T>>(event: E, ...args: Parameters<Handlers<T>[E][number]>) => {
    for (const fn of handlers[event]) {
      try {
        (fn as (...a: typeof args) => void)(...args);
      } catch (err) {
        withReason(logger, err).error(`${opts.kind} ${event} handler failed`);
      }
    }
  };

  const parse = (raw: KubernetesObject): T | undefined => {
    try {
      return opts.parse(raw);
    } catch (err) {
      withReason(forObject(logger, { kind: opts.kind, metadata: raw.metadata }), err).error(`skipping a ${opts.kind} that does not parse`);
      return undefined;
    }
  };

  lw.on('add', (raw) => upsert(raw));
  lw.on('update', (raw) => upsert(raw));
  lw.on('delete', (raw) => {
    const key = cacheKey(raw);
    const last = cache.get(key);
    if (!last) return;
    cache.delete(key);
    emit('delete', parse(raw) ?? last);
  });
  lw.on('error', (err: unknown) => failed(err));

  function failed(err: unknown): void {
    // Stopping aborts the watch request, which ends in an error too.
    if (stopped) return;
    failedSinceStart = true;
    backoff = backoff === 0 ? initialBackoff : Math.min(backoff * 2, maxBackoff);
    withReason(logger, err).error(`${opts.kind} list/watch failed, restarting in ${backoff} ms`);
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => void connect(), backoff);
  }

  function upsert(raw: KubernetesObject): void {
    const obj = parse(raw);
    if (!obj) return;
    const key = cacheKey(raw);
    const old = cache.get(key);
    cache.set(key, obj);
    if (old) emit('update', obj, old);
    else emit('add', obj);
  }

  async function connect(): Promise<void> {
    restartTimer = undefined;
    if (stopped) return;
    failedSinceStart = false;
    try {
      await lw.start();
    } catch (err) {
      // ListWatch reports list and watch failures itself; this is e.g. credentials that could not be applied.
      failed(err);
      return;
    }
    if (stopped) return;
    if (listed && !synced) {
      synced = true;
      logger.debug('synced');
      markSynced();
    }
    if (!failedSinceStart) backoff = 0;
  }

  return {
    async start() {
      if (!stopped) return syncedPromise;
      stopped = false;
      // A stopped watch reports its abort on a later turn; let it land before a new request replaces it.
      if (everStopped) await nextTurn();
      void connect();
      return syncedPromise;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      everStopped = true;
      clearTimeout(restartTimer);
      restartTimer = undefined;
      void lw.stop();
    },
    hasSynced: () => synced,
    get: (namespace, name) => cache.get(`${namespace}/${name}`),
    list: () => [...cache.values()],
    on(event: keyof Handlers<T>, fn: (obj: T, old?: T) => void) {
      (handlers[event] as ((obj: T, old?: T) => void)[]).push(fn);
    },
  };
}

const VMI_RESOURCE = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;

/** KubeVirt's VMISourceHost / VMITargetHost label selectors. */
export function vmiSourceSelector(host: string): string {
  return `${NodeNameLabel} in (${host})`;
}

export function vmiTargetSelector(host: string): string {
  return `${MigrationTargetNodeNameLabel} in (${host})`;
}

/** A VMI informer over all namespaces for one label selector. */
export function createVMIInformer(kc: KubeConfig, labelSelector: string, logger: Logger): VMIInformer {
  const api = kc.makeApiClient(CustomObjectsApi);
  return createInformer({
    kc,
    path: `/apis/${VMI_RESOURCE.group}/${VMI_RESOURCE.version}/${VMI_RESOURCE.plural}`,
    labelSelector,
    list: async () => (await api.listClusterCustomObject({ ...VMI_RESOURCE, labelSelector })) as ListResult,
    parse: parseVMIFromAPI,
    kind: VirtualMachineInstanceKind,
    logger,
  });
}

/** The handler's two VMI informers: VMIs on `host`, and VMIs migrating to it. */
export function createVMIInformers(kc: KubeConfig, host: string, logger: Logger): { source: VMIInformer; target: VMIInformer } {
  return {
    source: createVMIInformer(kc, vmiSourceSelector(host), logger.child({ vmiInformer: 'source' })),
    target: createVMIInformer(kc, vmiTargetSelector(host), logger.child({ vmiInformer: 'target' })),
  };
}

/** List items and watch objects of a CR carry kind and apiVersion; fill them in when absent, as a typed client would. */
export function parseVMIFromAPI(raw: unknown): VirtualMachineInstance {
  const vmi = parseVMI(raw);
  vmi.kind ??= VirtualMachineInstanceKind;
  vmi.apiVersion ??= KubeVirtGroupVersion;
  return vmi;
}
