// The KubeVirt CR as virt-operator leaves it: spec.configuration as given and status.phase Deployed (the
// handler reads only a deployed CR, as KubeVirt's GetConfigFromKubeVirtCR).
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';

export const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;

export async function createKubeVirtCR(
  kc: KubeConfig,
  namespace: string,
  configuration: Record<string, unknown>,
  name = 'kubevirt',
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    ...KUBEVIRT,
    namespace,
    body: { apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name }, spec: { configuration } },
  });
  await api.patchNamespacedCustomObjectStatus(
    { ...KUBEVIRT, namespace, name, body: { status: { phase: 'Deployed' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
