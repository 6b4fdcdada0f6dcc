// compute.RebootPolicyDomainConfigurator: `Terminate` makes a guest reboot end the domain; unset
// keeps libvirt's default (restart).
import { DomainOnRebootDestroy, DomainOnRebootRestart } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';

export const configureRebootPolicy: DomainConfigurator = (vmi, spec) => {
  const policy = (vmi.spec.domain as { rebootPolicy?: string }).rebootPolicy;
  if (policy === undefined) return;
  if (policy === 'Terminate') spec.OnReboot = DomainOnRebootDestroy;
  else if (policy === 'Reboot') spec.OnReboot = DomainOnRebootRestart;
  else {
    const value = JSON.stringify(policy);
    throw new ConversionError('spec.domain.rebootPolicy', `${value} is not one of "Reboot", "Terminate"`);
  }
};
