// compute.InputDeviceDomainConfigurator on amd64: the VMI's input devices (a tablet, on usb unless
// virtio is asked for); amd64 adds none of its own.
import type { Input } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';

/** v1.Input (shared keeps inputs opaque) */
export interface VMIInput {
  name?: string;
  bus?: string;
  type?: string;
}

export function vmiInputs(vmi: Parameters<DomainConfigurator>[0]): VMIInput[] {
  return (vmi.spec.domain.devices?.inputs ?? []) as VMIInput[];
}

export const configureInputDevices: DomainConfigurator = (vmi, spec) => {
  const inputs = vmi.spec.domain.devices?.inputs;
  if (!inputs) return;
  spec.Devices.Inputs = vmiInputs(vmi).map((input, i): Input => {
    const path = `spec.domain.devices.inputs[${i}]`;
    const bus = input.bus || 'usb';
    if (bus !== 'usb' && bus !== 'virtio') throw new ConversionError(`${path}.bus`, `input contains unsupported bus ${bus}`);
    if (input.type !== 'tablet') {
      throw new ConversionError(`${path}.type`, `input contains unsupported type ${input.type ?? ''}`);
    }
    return {
      Type: input.type,
      Bus: bus,
      Alias: { Name: input.name ?? '', UserDefined: true },
      Address: null,
      Model: bus === 'virtio' ? 'virtio' : '',
    };
  });
};

/** arch IsUSBNeeded on amd64: an input on the usb bus, or USB redirection, needs a USB controller. */
export function isUSBNeeded(vmi: Parameters<DomainConfigurator>[0]): boolean {
  return vmiInputs(vmi).some((input) => !input.bus || input.bus === 'usb') || Boolean(vmi.spec.domain.devices?.clientPassthrough);
}
