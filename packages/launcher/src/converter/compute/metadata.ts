// metadata.DomainConfigurator plus the KubeVirt metadata the launcher writes at define time: the
// libvirt name `<namespace>_<name>`, the VMI's UID (the handler ignores a domain whose UID differs)
// and the grace period the handler's shutdown waits.
import { vmiNameToDomainName } from '@kubevirt-ts/shared';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';

/** v1.DefaultGracePeriodSeconds */
export const DefaultGracePeriodSeconds = 30;

export const configureMetadata: DomainConfigurator = (vmi, spec) => {
  const { name, namespace, uid } = vmi.metadata;
  if (!name || !namespace || !uid) throw new ConversionError('metadata', 'name, namespace and uid are required');
  spec.Name = vmiNameToDomainName(namespace, name);
  spec.Metadata.KubeVirt.UID = uid;
  spec.Metadata.KubeVirt.GracePeriod = {
    DeletionGracePeriodSeconds: gracePeriodSeconds(vmi),
    DeletionTimestamp: null,
    MarkedForGracefulShutdown: null,
  };
};

/** converter.GracePeriodSeconds */
export function gracePeriodSeconds(vmi: Parameters<DomainConfigurator>[0]): number {
  return vmi.spec.terminationGracePeriodSeconds ?? DefaultGracePeriodSeconds;
}
