// compute.TPMDomainConfigurator: a TPM 2.0 emulated by swtpm (tpm-crb when its state persists).
import type { DomainConfigurator } from '../configurator.ts';

/** v1.TPMDevice (shared keeps it opaque) */
export interface VMITPM {
  enabled?: boolean;
  persistent?: boolean;
}

export const configureTPM: DomainConfigurator = (vmi, spec) => {
  const tpm = (vmi.spec.domain.devices as { tpm?: VMITPM } | undefined)?.tpm;
  // tpm.HasDevice
  if (!tpm || tpm.enabled === false) return;
  const persistent = tpm.persistent === true;
  spec.Devices.TPMs = [
    {
      Model: persistent ? 'tpm-crb' : 'tpm-tis',
      Backend: { Type: 'emulator', Version: '2.0', PersistentState: persistent ? 'yes' : '' },
    },
  ];
};
