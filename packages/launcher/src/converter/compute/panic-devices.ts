// compute.PanicDevicesDomainConfigurator: the VMI's panic devices (isa, hyperv, pvpanic), through
// which a crashing guest tells the host; virt-api's webhook checks the model.
import type { DomainConfigurator } from '../configurator.ts';

/** v1.PanicDevice (shared keeps it opaque) */
export interface VMIPanicDevice {
  model?: string;
}

export const configurePanicDevices: DomainConfigurator = (vmi, spec) => {
  for (const panic of (vmi.spec.domain.devices?.panicDevices ?? []) as VMIPanicDevice[]) {
    spec.Devices.PanicDevices = [...(spec.Devices.PanicDevices ?? []), { Model: panic.model ?? null }];
  }
};
