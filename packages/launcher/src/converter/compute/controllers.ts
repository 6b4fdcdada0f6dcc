// compute.ControllersDomainConfigurator on amd64: USB (qemu-xhci) only for a USB input or USB
// redirection, else off, the SCSI controller hotplug relies on, and the virtio-serial controller the
// console sits on; with a SCSI disk on a dedicated IOThread the controller gets a shared one.
import type { Controller } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { virtioModel } from '../virtio.ts';
import { isUSBNeeded } from './input.ts';
import { requestedVCPUs } from './cpu.ts';
import { ioThreadsPlan, scsiControllerIOThread } from '../iothreads.ts';

function controller(type: string, model: string): Controller {
  return { Type: type, Index: '0', Model: model, Driver: null, Alias: null, Address: null, PCIHole64: null, Target: null };
}

export const configureControllers: DomainConfigurator = (vmi, spec) => {
  const devices = vmi.spec.domain.devices;
  const controllers = [...(spec.Devices.Controllers ?? []), controller('usb', isUSBNeeded(vmi) ? 'qemu-xhci' : 'none')];
  const scsiDisk = (devices?.disks ?? []).some((d) => (d.disk?.bus ?? d.cdrom?.bus) === 'scsi');
  if (!devices?.disableHotplug || scsiDisk) {
    const scsi = controller('scsi', virtioModel(vmi));
    const ioThread = scsiControllerIOThread(vmi, ioThreadsPlan(vmi));
    if (ioThread !== null) {
      scsi.Driver = {
        IOThread: ioThread,
        Queues: Math.max(1, requestedVCPUs(vmi)),
        IOThreads: null,
        IOMMU: '',
      };
    }
    controllers.push(scsi);
  }
  if (devices?.autoattachSerialConsole !== false) controllers.push(controller('virtio-serial', virtioModel(vmi)));
  spec.Devices.Controllers = controllers;
};
