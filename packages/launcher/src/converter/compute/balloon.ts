// compute.BalloonDomainConfigurator: a virtio memballoon with statistics and free page reporting,
// or model `none` when the VMI turns it off.
import { memBalloonCodec, newStruct } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { virtioModel } from '../virtio.ts';

export const configureBalloon: DomainConfigurator = (vmi, spec, ctx) => {
  if (vmi.spec.domain.devices?.autoattachMemBalloon === false) {
    spec.Devices.Ballooning = newStruct(memBalloonCodec, { Model: 'none' });
    return;
  }
  spec.Devices.Ballooning = newStruct(memBalloonCodec, {
    Model: virtioModel(vmi),
    Stats: ctx.memBalloonStatsPeriod === 0 ? null : { Period: ctx.memBalloonStatsPeriod },
    FreePageReporting: freePageReporting(vmi, ctx) ? 'on' : 'off',
  });
};

/** isFreePageReportingEnabled, for the VMIs this converter accepts (none is high-performance). */
function freePageReporting(vmi: Parameters<DomainConfigurator>[0], ctx: Parameters<DomainConfigurator>[2]): boolean {
  const annotation = vmi.metadata.annotations?.['kubevirt.io/free-page-reporting-disabled'];
  return !ctx.freePageReportingDisabled && annotation !== 'true';
}
