// compute.GraphicsDomainConfigurator on amd64: VNC on a unix socket the handler proxies, and a VGA
// card (KubeVirt picks bochs only for EFI guests with BochsForEFIGuests; EFI is not supported here).
import { vncSocketPath } from '@kubevirt-ts/shared';
import { graphicsCodec, newStruct, videoModelCodec } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

const DefaultHeads = 1;
const DefaultVRAM = 16384;

export const configureGraphics: DomainConfigurator = (vmi, spec, ctx) => {
  if (vmi.spec.domain.devices?.autoattachGraphicsDevice === false) return;
  spec.Devices.Graphics = [
    newStruct(graphicsCodec, {
      Type: 'vnc',
      Listen: { Type: 'socket', Address: '', Network: '', Socket: vncSocketPath(vmi.metadata.uid, ctx.privateDir) },
    }),
  ];
  spec.Devices.Video = [{ Model: newStruct(videoModelCodec, { Type: 'vga', Heads: DefaultHeads, VRam: DefaultVRAM }) }];
};
