// The KubeVirt CR as virt-operator leaves it: spec.configuration as given and status.phase Deployed (the
// handler reads only a deployed CR, as KubeVirt's GetConfigFromKubeVirtCR). Always with
// developerConfiguration.useEmulation: the test bed's guests run under TCG, and a pod gets no /dev/kvm.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';

export const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;

/** `configuration` with useEmulation on, as a KubeVirt CR for this machine says. */
function withEmulation(configuration: Record<string, unknown>): Record<string, unknown> {
  const developer = (configuration['developerConfiguration'] ?? {}) as Record<string, unknown>;
  return { ...configuration, developerConfiguration: { ...developer, useEmulation: true } };
}

/** Creates the CR, or gives the one of that name its new configuration (only the oldest CR counts). */
export async function createKubeVirtCR(
  kc: KubeConfig,
  namespace: string,
  configuration: Record<string, unknown>,
  name = 'kubevirt',
): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const spec = { configuration: withEmulation(configuration) };
  try {
    await api.createNamespacedCustomObject({
      ...KUBEVIRT,
      namespace,
      body: { apiVersion: 'kubevirt.io/v1', kind: 'KubeVirt', metadata: { name }, spec },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    const existing = (await api.getNamespacedCustomObject({ ...KUBEVIRT, namespace, name })) as Record<string, unknown>;
    await api.replaceNamespacedCustomObject({ ...KUBEVIRT, namespace, name, body: { ...existing, spec } });
  }
  await api.patchNamespacedCustomObjectStatus(
    { ...KUBEVIRT, namespace, name, body: { status: { phase: 'Deployed' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
