// compute.GraphicsDomainConfigurator on amd64: VNC on a unix socket the handler proxies, and the VMI's
// video type, else a VGA card (bochs for EFI guests when the cluster's BochsDisplayForEFIGuests says so).
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
  const video = vmi.spec.domain.devices?.video;
  if (video) {
    // the VMI's video type (VideoConfig), with the default heads and VRAM
    spec.Devices.Video = [{ Model: newStruct(videoModelCodec, { Type: video.type ?? '', Heads: DefaultHeads, VRam: DefaultVRAM }) }];
    return;
  }
  const efi = vmi.spec.domain.firmware?.bootloader?.efi !== undefined;
  spec.Devices.Video = [
    {
      Model:
        ctx.bochsForEFIGuests && efi
          ? newStruct(videoModelCodec, { Type: 'bochs', Heads: DefaultHeads })
          : newStruct(videoModelCodec, { Type: 'vga', Heads: DefaultHeads, VRam: DefaultVRAM }),
    },
  ];
};
