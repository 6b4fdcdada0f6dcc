// compute.HypervisorDomainConfigurator: software emulation when the caller says so; the launcher's
// defaults make it `kvm` otherwise.
import type { DomainConfigurator } from '../configurator.ts';

export const configureHypervisor: DomainConfigurator = (_vmi, spec, ctx) => {
  if (ctx.useEmulation) spec.Type = 'qemu';
};
