// network.DomainConfigurator. With the handler's interfaceDomainAttachment `tap` for an interface (what
// KubeVirt's handler sends for masquerade and bridge once its phase 1 made the pod's tap device), the
// NIC is `<interface type='ethernet'>` on that tap, as KubeVirt's converter writes it, for the pod
// network and multus networks alike, in the VMI's interface order with the alias `ua-<name>`; phase 2
// (network/phase2.ts) then fills in the tap's name, MAC and MTU. Without that option (a caller that
// did no pod network setup) the NIC falls back to qemu's user-mode stack (`<interface type='user'>`,
// guest 10.0.2.15 by qemu's DHCP), which needs no tap, bridge or privileges; a secondary network then
// fails, having no pod interface to stand in for.
import { isSecondaryMultusNetwork, type Interface as VMIInterface, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { interfaceCodec, newStruct, type Interface } from '../../api/index.ts';
import { userPCIAddress } from '../pci-placement.ts';
import type { DomainConfigurator } from '../configurator.ts';
import { ConversionError } from '../errors.ts';
import { virtioModel } from '../virtio.ts';

/** Interface models KubeVirt's validation accepts. */
const MODELS = new Set(['e1000', 'e1000e', 'igb', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio']);
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;

export const configureNetwork: DomainConfigurator = (vmi, spec, ctx) => {
  const networks = new Map((vmi.spec.networks ?? []).map((n, i) => [n.name, { network: n, index: i }]));
  const interfaces: Interface[] = [];
  (vmi.spec.domain.devices?.interfaces ?? []).forEach((iface, i) => {
    const path = `spec.domain.devices.interfaces[${i}]`;
    const net = networks.get(iface.name);
    if (!net) throw new ConversionError(`${path}.name`, `failed to find network ${iface.name}`);
    if (!iface.masquerade && !iface.bridge) {
      throw new ConversionError(path, 'needs a masquerade or bridge binding');
    }
    // virt-api's admission rule, kept here for VMIs that did not pass it
    if (iface.masquerade && !net.network.pod) {
      throw new ConversionError(`${path}.name`, 'Masquerade interface only implemented with pod network');
    }
    const tap = ctx.domainAttachmentByInterfaceName[iface.name] === 'tap';
    // a secondary network is only the pod interface multus made: without virt-handler's tap on it
    // there is nothing a user-mode NIC could stand in for
    if (!tap && isSecondaryMultusNetwork(net.network)) {
      throw new ConversionError(
        `spec.networks[${net.index}].multus`,
        `secondary network ${iface.name} needs the tap virt-handler prepares in the pod (interfaceDomainAttachment)`,
      );
    }
    interfaces.push(domainInterface(vmi, iface, path, tap));
  });
  spec.Devices.Interfaces = interfaces.length > 0 ? interfaces : null;
};

function domainInterface(vmi: VirtualMachineInstance, iface: VMIInterface, path: string, tap: boolean): Interface {
  const model = iface.model || 'virtio';
  if (!MODELS.has(model)) {
    throw new ConversionError(`${path}.model`, `interface model ${JSON.stringify(model)} is not supported`);
  }
  if (iface.macAddress !== undefined && !MAC.test(iface.macAddress)) {
    throw new ConversionError(`${path}.macAddress`, `${JSON.stringify(iface.macAddress)} is not a MAC address`);
  }
  const state = iface.state ?? '';
  if (state !== '' && state !== 'up' && state !== 'down') {
    // absent (NIC hot-unplug) would need the running domain's NIC detached: not done, so refused
    throw new ConversionError(`${path}.state`, `interface state ${JSON.stringify(state)} is not supported (up or down)`);
  }
  return newStruct(interfaceCodec, {
    Address: iface.pciAddress ? userPCIAddress(iface.pciAddress, `${path}.pciAddress`, `interface ${iface.name}`) : null,
    // ethernet: a pre-configured tap device (libvirt's formatdomain "elementsNICSEthernet")
    Type: tap ? 'ethernet' : 'user',
    Model: { Type: model === 'virtio' ? virtioModel(vmi) : model },
    MAC: iface.macAddress === undefined ? null : { MAC: iface.macAddress.replaceAll('-', ':') },
    BootOrder: iface.bootOrder === undefined ? null : { Order: iface.bootOrder },
    // tapBindingOptions: no option ROM unless the NIC boots (IsROMTuningSupported on amd64), link down as asked
    Rom: tap && iface.bootOrder === undefined ? { Enabled: 'no' } : null,
    LinkState: tap && state === 'down' ? { State: 'down' } : null,
    Alias: { Name: iface.name, UserDefined: true },
    ACPI: iface.acpiIndex ? { Index: iface.acpiIndex } : null,
  });
}
