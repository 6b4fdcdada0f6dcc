// compute.SoundDomainConfigurator: the VMI's sound card, ich9 unless it asks for ac97.
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';

/** v1.SoundDevice (shared keeps it opaque) */
export interface VMISound {
  name: string;
  model?: string;
}

export const configureSound: DomainConfigurator = (vmi, spec) => {
  const sound = vmi.spec.domain.devices?.sound as VMISound | undefined;
  if (!sound) return;
  const model = sound.model || 'ich9';
  if (model !== 'ich9' && model !== 'ac97') throw new ConversionError('spec.domain.devices.sound.model', `invalid model: ${model}`);
  spec.Devices.SoundCards = [{ Alias: { Name: sound.name, UserDefined: true }, Model: model }];
};
