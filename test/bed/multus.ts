// What virt-controller writes into a VMI's status.interfaces from its launcher pod's
// `k8s.v1.cni.cncf.io/network-status` annotation (pkg/network/controllers/vmi.go UpdateVMIStatus),
// for a test bed that plays multus and virt-controller: the primary network with its pod interface
// name, each secondary network multus reported with infoSource `multus-status` and its pod interface.
import {
  createFromNetworkStatuses,
  isSecondaryMultusNetwork,
  lookUpDefaultNetwork,
  PRIMARY_POD_INTERFACE_NAME,
  type Network,
  type VirtualMachineInstanceNetworkInterface,
} from '@kubevirt-ts/shared';

/** One entry of the network-status annotation (k8snetworkplumbingwg's NetworkStatus), as multus writes it. */
export interface NetworkStatus {
  name: string;
  interface: string;
  ips?: string[];
  mac?: string;
  default?: boolean;
}

export function virtControllerInterfaceStatuses(
  networks: readonly Network[],
  networkStatuses: readonly NetworkStatus[],
): VirtualMachineInstanceNetworkInterface[] {
  const out: VirtualMachineInstanceNetworkInterface[] = [];
  const primary = lookUpDefaultNetwork(networks);
  if (primary) {
    const reported = networkStatuses.find((s) => s.default)?.interface;
    out.push({ name: primary.name, podInterfaceName: reported || PRIMARY_POD_INTERFACE_NAME });
  }
  const podIfaces = networkStatuses.map((s) => s.interface);
  const names = createFromNetworkStatuses(networks, podIfaces);
  for (const net of networks.filter(isSecondaryMultusNetwork)) {
    const podInterfaceName = names.get(net.name) ?? '';
    if (podIfaces.includes(podInterfaceName)) out.push({ name: net.name, infoSource: 'multus-status', podInterfaceName });
  }
  return out;
}
