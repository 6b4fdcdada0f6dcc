// The names of a VMI's pod interfaces and of what KubeVirt builds on them (pkg/network/namescheme,
// pkg/network/link/names.go, the network lookups of pkg/network/vmispec). The primary network (pod, or
// a multus network marked default) is the pod's eth0; each secondary multus network gets a pod
// interface multus names either `pod<first 11 hex of sha256(network name)>` (the hashed scheme) or
// `net<N>` by its position among the secondary networks (the legacy ordinal scheme of older
// virt-controllers). A pod uses one scheme for all its secondary interfaces.
import { createHash } from 'node:crypto';
import type { Network, VirtualMachineInstanceNetworkInterface } from './vmi.ts';

export const PRIMARY_POD_INTERFACE_NAME = 'eth0';
export const HASHED_IFACE_PREFIX = 'pod';
/** The kernel's 15 characters less `-nic`, the bridge binding's renamed pod interface. */
const MAX_HASHED_NAME_LEN = 11;
const PRIMARY_TAP_NAME = 'tap0';

/** vmispec.IsSecondaryMultusNetwork */
export const isSecondaryMultusNetwork = (net: Network): boolean => net.multus !== undefined && net.multus.default !== true;

/** vmispec.LookUpDefaultNetwork: the pod network or the multus default network. */
export function lookUpDefaultNetwork(networks: readonly Network[]): Network | undefined {
  return networks.find((n) => n.pod !== undefined || n.multus?.default === true);
}

/** namescheme.GenerateHashedInterfaceName */
export function generateHashedInterfaceName(networkName: string): string {
  return HASHED_IFACE_PREFIX + createHash('sha256').update(networkName).digest('hex').slice(0, MAX_HASHED_NAME_LEN);
}

/** namescheme.OrdinalSecondaryInterfaceName: `net1`, `net2`, … (eth0 is not ordinal). */
export const ordinalSecondaryInterfaceName = (name: string): boolean => /^net\d+$/.test(name);

function nameScheme(networks: readonly Network[], secondaryName: (net: Network, i: number) => string): Map<string, string> {
  const names = new Map(networks.filter(isSecondaryMultusNetwork).map((n, i) => [n.name, secondaryName(n, i)]));
  const primary = lookUpDefaultNetwork(networks);
  if (primary) names.set(primary.name, PRIMARY_POD_INTERFACE_NAME);
  return names;
}

/** namescheme.CreateHashedNetworkNameScheme: network name → pod interface name. */
export const createHashedNetworkNameScheme = (networks: readonly Network[]): Map<string, string> =>
  nameScheme(networks, (n) => generateHashedInterfaceName(n.name));

/** namescheme.CreateOrdinalNetworkNameScheme: network name → pod interface name. */
export const createOrdinalNetworkNameScheme = (networks: readonly Network[]): Map<string, string> =>
  nameScheme(networks, (_, i) => `net${i + 1}`);

/** namescheme.OrdinalPodInterfaceName: '' for a network the VMI does not have. */
export const ordinalPodInterfaceName = (name: string, networks: readonly Network[]): string =>
  createOrdinalNetworkNameScheme(networks).get(name) ?? '';

/**
 * namescheme.CreateFromNetworkStatuses (virt-controller, from the pod's
 * `k8s.v1.cni.cncf.io/network-status` annotation): ordinal names when multus reported any.
 */
export function createFromNetworkStatuses(networks: readonly Network[], podInterfaceNames: readonly string[]): Map<string, string> {
  return podInterfaceNames.some(ordinalSecondaryInterfaceName)
    ? createOrdinalNetworkNameScheme(networks)
    : createHashedNetworkNameScheme(networks);
}

/** namescheme.UpdatePrimaryPodIfaceNameFromVMIStatus: the primary's name as virt-controller reported it. */
export function updatePrimaryPodIfaceNameFromVMIStatus(
  names: ReadonlyMap<string, string>,
  networks: readonly Network[],
  statuses: readonly VirtualMachineInstanceNetworkInterface[],
): Map<string, string> {
  const out = new Map(names);
  const primary = lookUpDefaultNetwork(networks);
  const reported = primary && statuses.find((s) => s.name === primary.name)?.podInterfaceName;
  if (primary && reported) out.set(primary.name, reported);
  return out;
}

/**
 * What virt-handler's phase 1 uses (netpod's createNetworkNameScheme): the ordinal scheme when the
 * pod has an interface named so, else the hashed one; the primary's name from the VMI status.
 */
export function podInterfaceNameScheme(
  networks: readonly Network[],
  statuses: readonly VirtualMachineInstanceNetworkInterface[],
  podLinkNames: Iterable<string>,
): Map<string, string> {
  const ordinal = [...podLinkNames].some(ordinalSecondaryInterfaceName);
  const names = ordinal ? createOrdinalNetworkNameScheme(networks) : createHashedNetworkNameScheme(networks);
  return updatePrimaryPodIfaceNameFromVMIStatus(names, networks, statuses);
}

/** namescheme.HashedPodInterfaceName: a secondary's hashed name; the primary's from the status, else eth0. */
export function hashedPodInterfaceName(net: Network, statuses: readonly VirtualMachineInstanceNetworkInterface[]): string {
  if (isSecondaryMultusNetwork(net)) return generateHashedInterfaceName(net.name);
  return statuses.find((s) => s.name === net.name)?.podInterfaceName || PRIMARY_POD_INTERFACE_NAME;
}

/**
 * link.DiscoverByNetwork's candidates, in the launcher's order: the hashed (or reported primary)
 * name, then the ordinal one.
 */
export function podInterfaceNameCandidates(
  networks: readonly Network[],
  net: Network,
  statuses: readonly VirtualMachineInstanceNetworkInterface[],
): string[] {
  const ordinal = ordinalPodInterfaceName(net.name, networks);
  if (ordinal === '') throw new Error(`could not find the pod interface ordinal name for network [${net.name}]`);
  return [hashedPodInterfaceName(net, statuses), ordinal];
}

const trimHashedPrefix = (podIfaceName: string): string =>
  podIfaceName.startsWith(HASHED_IFACE_PREFIX) ? podIfaceName.slice(HASHED_IFACE_PREFIX.length) : podIfaceName;

/** link.GenerateTapDeviceName: tap0 for the primary; `tap` + the pod interface's name past 3 characters. */
export const generateTapDeviceName = (podIfaceName: string, net: Network): string =>
  isSecondaryMultusNetwork(net) ? `tap${podIfaceName.slice(3)}` : PRIMARY_TAP_NAME;

/** link.GenerateBridgeName: the in-pod bridge, `k6t-` + the pod interface's name without `pod`. */
export const generateBridgeName = (podIfaceName: string): string => `k6t-${trimHashedPrefix(podIfaceName)}`;

/** link.GenerateNewBridgedVmiInterfaceName: the bridge binding's renamed pod interface. */
export const generateNewBridgedVmiInterfaceName = (podIfaceName: string): string => `${trimHashedPrefix(podIfaceName)}-nic`;
