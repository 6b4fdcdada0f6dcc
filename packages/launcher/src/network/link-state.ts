// virtIOInterfaceManager.updateDomainLinkState: on each sync of a running domain, a NIC whose link
// state differs from the VMI's (interface `state: down`, or up again) is updated live and in the
// persistent definition, the rest of the NIC as libvirt has it.
import type { Logger } from 'pino';
import { DomainDeviceModifyFlags, type Connection, type Domain as VirDomain } from '@kubevirt-ts/libvirt';
import { interfaceCodec, type Interface } from '../api/index.ts';
import { marshalXML } from '../api/codec.ts';

const LIVE_AND_CONFIG = DomainDeviceModifyFlags.LIVE | DomainDeviceModifyFlags.CONFIG;

/** A link libvirt reports without a state is up. */
const linkState = (i: Interface) => i.LinkState?.State || 'up';

/** The running NICs to update: each with the link state the wanted domain has for its alias. */
export function linkStateUpdates(running: readonly Interface[], wanted: readonly Interface[]): Interface[] {
  const byAlias = new Map(running.map((i) => [i.Alias?.Name, i]));
  const updates: Interface[] = [];
  for (const w of wanted) {
    const current = byAlias.get(w.Alias?.Name);
    if (current && linkState(current) !== linkState(w)) updates.push({ ...current, LinkState: { State: linkState(w) } });
  }
  return updates;
}

export async function syncLinkStates(
  conn: Pick<Connection, 'domainUpdateDeviceFlags'>,
  dom: VirDomain,
  running: readonly Interface[],
  wanted: readonly Interface[],
  log: Pick<Logger, 'info'>,
): Promise<void> {
  for (const iface of linkStateUpdates(running, wanted)) {
    log.info(`preparing to update link state to interface "${iface.Alias?.Name ?? ''}"`);
    // KubeVirt sends the device XML lowercased
    await conn.domainUpdateDeviceFlags(dom, marshalXML(interfaceCodec, 'interface', iface).toLowerCase(), LIVE_AND_CONFIG);
  }
}
