// The pod-side names of a VMI's networks against KubeVirt's own examples (test/fixtures/kubevirt/
// network-names-facts.json), and the decisions between the hashed and the ordinal scheme.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  createFromNetworkStatuses,
  createHashedNetworkNameScheme,
  createOrdinalNetworkNameScheme,
  generateBridgeName,
  generateHashedInterfaceName,
  generateNewBridgedVmiInterfaceName,
  generateTapDeviceName,
  hashedPodInterfaceName,
  isSecondaryMultusNetwork,
  lookUpDefaultNetwork,
  ordinalSecondaryInterfaceName,
  podInterfaceNameCandidates,
  podInterfaceNameScheme,
  type Network,
} from '../src/index.ts';

const facts = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'kubevirt', 'network-names-facts.json'), 'utf8'),
) as {
  hashedPodInterfaceNames: Record<string, string>;
  tapDeviceNames: { podInterfaceName: string; secondary: boolean; tap: string }[];
  bridgeNames: Record<string, string>;
  bridgedPodInterfaceNames: Record<string, string>;
  maxInterfaceNameLength: number;
  ordinalNames: Record<string, boolean>;
};

const pod: Network = { name: 'default', pod: {} };
const multus = (name: string, networkName = `${name}-nad`): Network => ({ name, multus: { networkName } });
const multusDefault: Network = { name: 'overlay', multus: { networkName: 'flannel', default: true } };

test("hashed pod interface names: `pod` + 11 hex of the network name's sha256, as KubeVirt names them", () => {
  assert.ok(Object.keys(facts.hashedPodInterfaceNames).length >= 3);
  for (const [network, name] of Object.entries(facts.hashedPodInterfaceNames)) {
    assert.equal(generateHashedInterfaceName(network), name, network);
    // room for the bridge binding's `-nic` within the kernel's 15 characters
    assert.ok(generateNewBridgedVmiInterfaceName(name).length <= facts.maxInterfaceNameLength);
  }
});

test('tap, in-pod bridge and renamed pod interface names for the primary, hashed and ordinal schemes', () => {
  for (const t of facts.tapDeviceNames) {
    assert.equal(generateTapDeviceName(t.podInterfaceName, t.secondary ? multus('secondary') : pod), t.tap, t.podInterfaceName);
  }
  // the multus default network is the primary: tap0 too
  assert.equal(generateTapDeviceName('eth0', multusDefault), 'tap0');
  for (const [podIface, bridge] of Object.entries(facts.bridgeNames)) {
    assert.equal(generateBridgeName(podIface), bridge);
    assert.ok(bridge.length <= facts.maxInterfaceNameLength, bridge);
  }
  for (const [podIface, renamed] of Object.entries(facts.bridgedPodInterfaceNames))
    assert.equal(generateNewBridgedVmiInterfaceName(podIface), renamed);
  for (const [name, ordinal] of Object.entries(facts.ordinalNames)) assert.equal(ordinalSecondaryInterfaceName(name), ordinal, name);
});

test('which network is primary, which secondary', () => {
  assert.equal(isSecondaryMultusNetwork(multus('red')), true);
  assert.equal(isSecondaryMultusNetwork(multusDefault), false);
  assert.equal(isSecondaryMultusNetwork(pod), false);
  assert.equal(lookUpDefaultNetwork([multus('red'), pod])?.name, 'default');
  assert.equal(lookUpDefaultNetwork([multus('red'), multusDefault])?.name, 'overlay');
  assert.equal(lookUpDefaultNetwork([multus('red')]), undefined);
});

test('name schemes: eth0 for the primary, hashed or net1..N by position among the secondary networks', () => {
  const networks = [multus('red'), pod, multus('green')];
  const red = facts.hashedPodInterfaceNames.red!;
  const green = facts.hashedPodInterfaceNames.green!;
  assert.deepEqual(Object.fromEntries(createHashedNetworkNameScheme(networks)), { red, default: 'eth0', green });
  assert.deepEqual(Object.fromEntries(createOrdinalNetworkNameScheme(networks)), { red: 'net1', default: 'eth0', green: 'net2' });
  // virt-controller: the scheme of the pod's network-status annotation (any net<N> → ordinal)
  assert.deepEqual(Object.fromEntries(createFromNetworkStatuses(networks, [])), { red, default: 'eth0', green });
  assert.deepEqual(Object.fromEntries(createFromNetworkStatuses(networks, ['eth0', red, green])), { red, default: 'eth0', green });
  assert.deepEqual(Object.fromEntries(createFromNetworkStatuses(networks, ['eth0', 'net1', 'net2'])), {
    red: 'net1',
    default: 'eth0',
    green: 'net2',
  });
});

test("phase 1's scheme: the pod's own interfaces decide; the primary's name is the one the status reports", () => {
  const networks = [pod, multus('red')];
  const red = facts.hashedPodInterfaceNames.red!;
  assert.deepEqual(Object.fromEntries(podInterfaceNameScheme(networks, [], ['lo', 'eth0', red])), { default: 'eth0', red });
  assert.deepEqual(Object.fromEntries(podInterfaceNameScheme(networks, [], ['lo', 'eth0', 'net1'])), { default: 'eth0', red: 'net1' });
  const statuses = [{ name: 'default', podInterfaceName: 'ovn-udn1' }];
  assert.deepEqual(Object.fromEntries(podInterfaceNameScheme(networks, statuses, ['lo', 'ovn-udn1', red])), { default: 'ovn-udn1', red });
});

test("the launcher's discovery order: the hashed (or reported primary) name, then the ordinal one", () => {
  const networks = [pod, multus('red'), multus('blue')];
  assert.deepEqual(podInterfaceNameCandidates(networks, networks[2]!, []), [facts.hashedPodInterfaceNames.blue, 'net2']);
  assert.deepEqual(podInterfaceNameCandidates(networks, pod, []), ['eth0', 'eth0']);
  assert.deepEqual(podInterfaceNameCandidates(networks, pod, [{ name: 'default', podInterfaceName: 'ovn-udn1' }]), ['ovn-udn1', 'eth0']);
  assert.equal(hashedPodInterfaceName(multusDefault, []), 'eth0');
  assert.throws(
    () => podInterfaceNameCandidates(networks, multus('other'), []),
    /could not find the pod interface ordinal name for network \[other\]/,
  );
});
