// compute.HypervisorFeaturesDomainConfigurator on amd64: ACPI unless turned off, APIC and SMM when
// asked for, and the VMware I/O port off.
import { newStruct, featuresCodec } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

export const configureHypervisorFeatures: DomainConfigurator = (vmi, spec) => {
  const source = vmi.spec.domain.features;
  if (!source) return;
  spec.Features = newStruct(featuresCodec, {
    ACPI: source.acpi?.enabled === false ? null : {},
    APIC: source.apic && source.apic.enabled !== false ? {} : null,
    SMM: source.smm && source.smm.enabled !== false ? {} : null,
    VMPort: { State: 'off' },
  });
};
