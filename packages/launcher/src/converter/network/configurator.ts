// network.DomainConfigurator, with the one binding that works on these machines: qemu's user-mode
// network stack (`<interface type='user'>`, as KubeVirt's slirp binding had and its passt binding
// still declares). A pod network with a masquerade or bridge binding becomes a user-mode NIC that
// reaches out through the launcher's own network namespace; the guest gets 10.0.2.15 by DHCP from
// qemu, like masquerade's. No tap device, no bridge, no privileges, so it runs in the test bed's pods.
import type { Interface as VMIInterface, VirtualMachineInstance } from '@kubevirt-ts/shared';
import { interfaceCodec, newStruct, type Interface } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';
import { virtioModel } from '../virtio.ts';

/** Interface models KubeVirt's validation accepts. */
const MODELS = new Set(['e1000', 'e1000e', 'igb', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio']);
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;

export const configureNetwork: DomainConfigurator = (vmi, spec) => {
  const networks = new Map((vmi.spec.networks ?? []).map((n, i) => [n.name, { network: n, index: i }]));
  const interfaces: Interface[] = [];
  (vmi.spec.domain.devices?.interfaces ?? []).forEach((iface, i) => {
    const path = `spec.domain.devices.interfaces[${i}]`;
    const net = networks.get(iface.name);
    if (!net) throw new ConversionError(`${path}.name`, `failed to find network ${iface.name}`);
    if (!net.network.pod) throw new ConversionError(`spec.networks[${net.index}]`, 'only pod networks are supported');
    if (!iface.masquerade && !iface.bridge) {
      throw new ConversionError(path, 'needs a masquerade or bridge binding');
    }
    interfaces.push(domainInterface(vmi, iface, path));
  });
  spec.Devices.Interfaces = interfaces.length > 0 ? interfaces : null;
};

function domainInterface(vmi: VirtualMachineInstance, iface: VMIInterface, path: string): Interface {
  const model = iface.model || 'virtio';
  if (!MODELS.has(model)) {
    throw new ConversionError(`${path}.model`, `interface model ${JSON.stringify(model)} is not supported`);
  }
  if (iface.macAddress !== undefined && !MAC.test(iface.macAddress)) {
    throw new ConversionError(`${path}.macAddress`, `${JSON.stringify(iface.macAddress)} is not a MAC address`);
  }
  return newStruct(interfaceCodec, {
    Type: 'user',
    Model: { Type: model === 'virtio' ? virtioModel(vmi) : model },
    MAC: iface.macAddress === undefined ? null : { MAC: iface.macAddress.replaceAll('-', ':') },
    BootOrder: iface.bootOrder === undefined ? null : { Order: iface.bootOrder },
    Alias: { Name: iface.name, UserDefined: true },
  });
}
