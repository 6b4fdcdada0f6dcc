// compute.UsbRedirectDeviceDomainConfigurator: a VMI with clientPassthrough gets all four usbredir
// slots (UsbClientPassthroughMaxNumberOf), each a QEMU usb-redir device listening on its own unix
// socket, which virt-handler's usbredir route connects a client to.
import { UsbClientPassthroughMaxNumberOf, usbRedirSocketPath } from '@kubevirt-ts/shared';
import type { RedirectedDevice } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

export const configureUsbRedirect: DomainConfigurator = (vmi, spec, ctx) => {
  if (!vmi.spec.domain.devices?.clientPassthrough) return;
  spec.Devices.Redirs = Array.from(
    { length: UsbClientPassthroughMaxNumberOf },
    (_, slot): RedirectedDevice => ({
      Type: 'unix',
      Bus: 'usb',
      Source: { Mode: 'bind', Path: usbRedirSocketPath(vmi.metadata.uid, slot, ctx.privateDir) },
    }),
  );
};
