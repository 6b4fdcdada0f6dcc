// compute.SysInfoDomainConfigurator: SMBIOS system entries, the firmware UUID first, and the VMI's
// chassis. libvirt takes the domain's own UUID from the system entry, which is why KubeVirt never
// writes `<uuid>`.
import type { Entry } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

export const configureSysInfo: DomainConfigurator = (vmi, spec, ctx) => {
  const firmware = vmi.spec.domain.firmware;
  let system: Entry[] | null = null;
  if (firmware) {
    system = [{ Name: 'uuid', Value: firmware.uuid ?? '' }];
    if (firmware.serial) system.push({ Name: 'serial', Value: firmware.serial });
  }
  const smbios = ctx.smbios;
  if (smbios) {
    system = [
      ...(system ?? []),
      { Name: 'manufacturer', Value: smbios.manufacturer },
      { Name: 'family', Value: smbios.family },
      { Name: 'product', Value: smbios.product },
      { Name: 'sku', Value: smbios.sku },
      { Name: 'version', Value: smbios.version },
    ];
  }
  const chassis = vmi.spec.domain.chassis;
  spec.SysInfo = {
    Type: 'smbios',
    System: system,
    BIOS: null,
    BaseBoard: null,
    // buildChassis: every entry, empty ones too
    Chassis: chassis
      ? [
          { Name: 'manufacturer', Value: chassis.manufacturer ?? '' },
          { Name: 'version', Value: chassis.version ?? '' },
          { Name: 'serial', Value: chassis.serial ?? '' },
          { Name: 'asset', Value: chassis.asset ?? '' },
          { Name: 'sku', Value: chassis.sku ?? '' },
        ]
      : null,
    OEMStrings: null,
  };
};
