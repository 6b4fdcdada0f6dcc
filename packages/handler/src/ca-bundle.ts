// The client CA bundle virt-handler trusts for virt-api's (and peer handlers') client certificates: KubeVirt's
// KubeVirtCAConfigMap informer (configmap `kubevirt-ca`, key `ca-bundle`, in the handler's namespace) behind its
// ClientCAManager; or, for a handler run outside a cluster, a PEM file (--ca-bundle-file) re-read when it changes.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { validate, withReason, type Logger } from '@kubevirt-ts/shared';
import * as z from 'zod/mini';
import { createInformer, type ListResult } from './informers.ts';

export const DefaultCAConfigMapName = 'kubevirt-ca';
export const CABundleKey = 'ca-bundle';
export const DefaultKubeVirtNamespace = 'kubevirt';
export const ServiceAccountNamespaceFile = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** The handler's namespace: $POD_NAMESPACE, else the in-cluster service-account namespace, else `kubevirt`. */
export function handlerNamespace(env: NodeJS.ProcessEnv = process.env, namespaceFile = ServiceAccountNamespaceFile): string {
  const fromEnv = env['POD_NAMESPACE']?.trim();
  if (fromEnv) return fromEnv;
  try {
    const fromFile = readFileSync(namespaceFile, 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // not in a pod
  }
  return DefaultKubeVirtNamespace;
}

// Only what is read: the typed list (client-node) has Date timestamps where the watch has strings.
const configMapSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), namespace: z.optional(z.string()), resourceVersion: z.optional(z.string()) }),
  data: z.optional(z.record(z.string(), z.string())),
});
type ConfigMap = z.infer<typeof configMapSchema>;

export interface CABundleWatcher {
  /** Starts watching; resolves once the source has been read (the informer synced, or the file read). */
  start(): Promise<void>;
  /** Starts watching if need be and resolves with the first bundle (waiting for the configmap to appear). */
  first(): Promise<string>;
  /** Called with the bundle on every later change of its content. */
  onChange(fn: (pem: string) => void): void;
  /** The PEM bundle last seen; undefined while there is none. */
  current(): string | undefined;
  stop(): void;
}

export interface CABundleOptions {
  logger: Logger;
  /** A PEM file used instead of the configmap (--ca-bundle-file). */
  file?: string | undefined;
  /** Required without `file`. */
  kc?: KubeConfig | undefined;
  /** Default: handlerNamespace(). */
  namespace?: string | undefined;
  /** Default: kubevirt-ca (--ca-configmap-name). */
  configMapName?: string | undefined;
}

/** Where the bundle comes from: read it once (start), then report every new content (changed). */
interface BundleSource {
  start(changed: (pem: string) => void): Promise<void>;
  stop(): void;
}

/** The client CA bundle from the kubevirt-ca configmap, or from a file when `file` is given. */
export function watchCABundle(opts: CABundleOptions): CABundleWatcher {
  let source: BundleSource;
  if (opts.file) {
    source = fileSource(opts.file, opts.logger);
  } else if (opts.kc) {
    source = configMapSource(opts.kc, opts.logger, opts.namespace ?? handlerNamespace(), opts.configMapName ?? DefaultCAConfigMapName);
  } else {
    throw new Error('watchCABundle: a KubeConfig (kc) or a file is required');
  }
  const listeners: ((pem: string) => void)[] = [];
  const waiters: ((pem: string) => void)[] = [];
  let bundle: string | undefined;
  let started: Promise<void> | undefined;

  const changed = (pem: string) => {
    const initial = bundle === undefined;
    bundle = pem;
    for (const resolve of waiters.splice(0)) resolve(pem);
    if (initial) return;
    for (const fn of listeners) {
      try {
        fn(pem);
      } catch (err) {
        withReason(opts.logger, err).error('CA bundle listener failed');
      }
    }
  };

  const start = () => (started ??= source.start(changed));
  return {
    start,
    async first() {
      await start();
      if (bundle !== undefined) return bundle;
      return new Promise<string>((resolve) => waiters.push(resolve));
    },
    onChange: (fn) => void listeners.push(fn),
    current: () => bundle,
    stop: () => source.stop(),
  };
}

function configMapSource(kc: KubeConfig, parentLogger: Logger, namespace: string, name: string): BundleSource {
  const logger = parentLogger.child({ configMap: `${namespace}/${name}` });
  const api = kc.makeApiClient(CoreV1Api);
  const fieldSelector = `metadata.name=${name}`;
  const informer = createInformer<ConfigMap>({
    kc,
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    fieldSelector,
    list: async () => (await api.listNamespacedConfigMap({ namespace, fieldSelector })) as ListResult,
    parse: (raw) => validate(configMapSchema, raw, 'ConfigMap'),
    kind: 'ConfigMap',
    logger,
  });
  let last: string | undefined;
  return {
    async start(changed) {
      const seen = (cm: ConfigMap) => {
        const pem = cm.data?.[CABundleKey];
        if (!pem?.trim()) {
          logger.error(`configmap has no ${CABundleKey}; keeping the CA bundle seen before`);
          return;
        }
        if (pem === last) return;
        last = pem;
        logger.info('CA bundle updated');
        changed(pem);
      };
      informer.on('add', seen);
      informer.on('update', seen);
      informer.on('delete', () => logger.warn('configmap deleted; keeping the CA bundle seen before'));
      await informer.start();
      if (last === undefined) logger.warn('no CA bundle yet: client certificates cannot be verified until the configmap appears');
    },
    stop: () => informer.stop(),
  };
}

function fileSource(file: string, parentLogger: Logger): BundleSource {
  const logger = parentLogger.child({ caBundleFile: file });
  let last: string | undefined;
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  return {
    async start(changed) {
      const pem = await readFile(file, 'utf8');
      if (!pem.trim()) throw new Error(`CA bundle file ${file} is empty`);
      last = pem;
      changed(pem);
      const reread = async () => {
        let next: string;
        try {
          next = await readFile(file, 'utf8');
        } catch (err) {
          withReason(logger, err).error('cannot read the CA bundle file; keeping the bundle seen before');
          return;
        }
        if (!next.trim() || next === last) return;
        last = next;
        logger.info('CA bundle updated');
        changed(next);
      };
      // The directory, not the file: a file replaced by rename (editors, kubelet's ..data swap) keeps no watch.
      watcher = watch(path.dirname(file), { persistent: false }, () => {
        clearTimeout(debounce);
        debounce = setTimeout(() => void reread(), 50);
      });
      watcher.on('error', (err) => withReason(logger, err).error('watching the CA bundle file failed'));
    },
    stop() {
      clearTimeout(debounce);
      watcher?.close();
      watcher = undefined;
    },
  };
}
