// compute.WatchdogDomainConfigurator on amd64: the VMI's i6300esb watchdog with its action.
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';

/** v1.Watchdog (shared keeps it opaque) */
export interface VMIWatchdog {
  name?: string;
  i6300esb?: { action?: string };
}

export const configureWatchdog: DomainConfigurator = (vmi, spec) => {
  const watchdog = vmi.spec.domain.devices?.watchdog as VMIWatchdog | undefined;
  if (!watchdog) return;
  if (!watchdog.i6300esb) {
    throw new ConversionError(
      'spec.domain.devices.watchdog',
      `watchdog ${watchdog.name ?? ''} can't be mapped, no watchdog type specified`,
    );
  }
  spec.Devices.Watchdogs = [
    ...(spec.Devices.Watchdogs ?? []),
    {
      Model: 'i6300esb',
      Action: watchdog.i6300esb.action ?? '',
      Alias: { Name: watchdog.name ?? '', UserDefined: true },
      Address: null,
    },
  ];
};
