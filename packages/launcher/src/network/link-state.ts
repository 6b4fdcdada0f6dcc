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

/**
 * reconnectIface (FinalizeVirtualMachineMigration, link-refresh interfaces): the link down and up
 * again, 100 ms apart, so the guest renews its DHCP lease on the target's network.
 */
export async function reconnectInterfaces(
  conn: Pick<Connection, 'domainUpdateDeviceFlags'>,
  dom: VirDomain,
  running: readonly Interface[],
  names: ReadonlySet<string>,
): Promise<void> {
  for (const iface of running) {
    const name = iface.Alias?.Name ?? '';
    if (!names.has(name)) continue;
    const xml = (i: Interface) => marshalXML(interfaceCodec, 'interface', i);
    try {
      await conn.domainUpdateDeviceFlags(dom, xml({ ...iface, LinkState: { State: 'down' } }), LIVE_AND_CONFIG);
      // set up at once, some guests ignore both changes
      await new Promise((resolve) => setTimeout(resolve, 100));
      await conn.domainUpdateDeviceFlags(dom, xml(iface), LIVE_AND_CONFIG);
    } catch (err) {
      throw new Error(`failed to update network ${name}, err: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}
