// KubeVirt's CRDs (test/crds/*.yaml), applied as raw JSON. client-node's typed
// V1CustomResourceDefinition has no room for a raw `x-kubernetes-preserve-unknown-fields` key and drops
// it without a word; the apiserver would then prune every field of every VMI. CustomObjectsApi sends
// its body as it is, so it carries the manifests instead.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

export const CRD_DIR = path.join(import.meta.dirname, '..', 'crds');
const CRD_API = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions' } as const;

export interface CustomResourceDefinition {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [key: string]: unknown };
  spec: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export function loadCRDs(dir = CRD_DIR): CustomResourceDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(path.join(dir, f), 'utf8')) as CustomResourceDefinition);
}

/** The stored CRD, as raw JSON (a typed read would drop the same keys a typed write does). */
export async function readCRD(kc: KubeConfig, name: string): Promise<CustomResourceDefinition> {
  return (await kc.makeApiClient(CustomObjectsApi).getClusterCustomObject({ ...CRD_API, name })) as CustomResourceDefinition;
}

/**
 * Creates each CRD that does not exist yet and waits until all are Established.
 * Returns the names of those it created; existing ones (a cluster's own KubeVirt) are left as they are.
 */
export async function applyCRDs(kc: KubeConfig, crds = loadCRDs(), timeoutMs = 30_000): Promise<string[]> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const created: string[] = [];
  for (const crd of crds) {
    try {
      await api.createClusterCustomObject({ ...CRD_API, body: crd });
      created.push(crd.metadata.name);
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 409)) throw err;
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const stored = await readCRD(kc, crd.metadata.name);
      const established = stored.status?.conditions?.find((c) => c.type === 'Established');
      if (established?.status === 'True') break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established: ${JSON.stringify(stored.status)}`);
      await sleep(50);
    }
  }
  return created;
}

export async function deleteCRDs(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  for (const name of names) {
    await api.deleteClusterCustomObject({ ...CRD_API, name }).catch((err: unknown) => {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    });
  }
}
