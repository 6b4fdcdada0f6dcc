// compute.RNGDomainConfigurator: a virtio RNG fed from /dev/urandom when the VMI asks for one.
import type { DomainConfigurator } from '../configurator.ts';
import { virtioModel } from '../virtio.ts';

export const configureRNG: DomainConfigurator = (vmi, spec) => {
  if (!vmi.spec.domain.devices?.rng) return;
  spec.Devices.Rng = {
    Model: virtioModel(vmi),
    Backend: { Model: 'random', Source: '/dev/urandom' },
    Address: null,
    Driver: null,
  };
};
