// compute.ChannelsDomainConfigurator: the guest agent's virtio-serial channel, always. libvirt picks
// the socket path; in the live XML its target carries `state='connected'` once qemu-ga is up. With the
// downwardMetrics device, a second channel whose socket virt-handler's DownwardMetrics server dials.
import { DownwardMetricsChannelSocket, DownwardMetricsSerialDeviceName } from '@kubevirt-ts/shared';
import { channelTargetCodec, newStruct, type Channel } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

export const GuestAgentChannelName = 'org.qemu.guest_agent.0';

export const configureChannels: DomainConfigurator = (vmi, spec) => {
  const agent: Channel = {
    Type: 'unix',
    Source: null,
    Target: newStruct(channelTargetCodec, { Name: GuestAgentChannelName, Type: 'virtio' }),
  };
  spec.Devices.Channels = [...(spec.Devices.Channels ?? []), agent];
  if (vmi.spec.domain.devices?.downwardMetrics) {
    spec.Devices.Channels.push({
      Type: 'unix',
      Source: { Mode: 'bind', Path: DownwardMetricsChannelSocket },
      Target: newStruct(channelTargetCodec, { Name: DownwardMetricsSerialDeviceName, Type: 'virtio' }),
    });
  }
};
