// The handler's identity on the test bed: deploy/'s namespace and RBAC applied for real, and a
// kubeconfig holding a TokenRequest token of its service account, so the handler runs with exactly the
// permissions the manifests grant it.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiException, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { ControlPlane } from '../control-plane/control-plane.ts';

const DEPLOY = path.resolve(import.meta.dirname, '../../deploy');
export const HANDLER_SERVICE_ACCOUNT = { namespace: 'kubevirt', name: 'kubevirt-handler' } as const;

/** Creates the objects of deploy/<file>s that are missing (409 is fine: another test made them). */
export async function applyManifests(cp: ControlPlane, files: readonly string[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(cp.kubeConfig());
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8'))) {
      const obj = doc.toJS() as KubernetesObject | null;
      if (!obj) continue;
      try {
        await api.create(obj);
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 409)) throw err;
      }
    }
  }
}

/** A kubeconfig file for virt-handler's service account, bound by deploy/virt-handler-rbac.yaml. */
export async function handlerKubeconfig(cp: ControlPlane, file: string): Promise<string> {
  await applyManifests(cp, ['namespace.yaml', 'virt-handler-rbac.yaml']);
  const token = await cp.tokenFor(HANDLER_SERVICE_ACCOUNT, { expirationSeconds: 3600 });
  writeFileSync(file, cp.kubeConfig(token).exportConfig(), { mode: 0o600 });
  return file;
}
