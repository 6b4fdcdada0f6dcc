// util.SetDomainSpecStrWithHooks of KubeVirt's launcher: the spec through the hook sidecars'
// OnDefineDomain, the hooks' XML defined as they returned it, and the spec replaced by what the hooks
// made of it (ApplySidecarHooks), so the next define of the same spec starts from there.
import { SaxesParser } from 'saxes';
import type { Connection, Domain as VirDomain } from '@kubevirt-ts/libvirt';
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import { domainSpecFromXML, domainSpecToXML, QEMUSchemaNamespace, type Arg, type DomainSpec, type Env } from './api/index.ts';

export type OnDefineDomain = (domainXML: string, vmi: VirtualMachineInstance) => Promise<string>;

/**
 * translate.TransferQEMUCommandline: the qemu:commandline of the domain XML into the spec, which the
 * XML decoding cannot fill (the element is namespaced). Without one the spec keeps no qemu namespace.
 */
export function transferQEMUCommandline(domainXML: string, spec: DomainSpec): void {
  const args: Arg[] = [];
  const envs: Env[] = [];
  let inCommandline = false;
  let hasCommandline = false;
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag) => {
    if (tag.uri !== QEMUSchemaNamespace) return;
    const attr = (name: string) => Object.values(tag.attributes).find((a) => a.local === name)?.value;
    if (tag.local === 'commandline') {
      inCommandline = true;
      hasCommandline = true;
    } else if (tag.local === 'arg' && inCommandline) {
      args.push({ Value: attr('value') ?? '' });
    } else if (tag.local === 'env' && inCommandline) {
      const name = attr('name') ?? '';
      if (name !== '') envs.push({ Name: name, Value: attr('value') ?? '' });
    }
  });
  parser.on('closetag', (tag) => {
    if (tag.uri === QEMUSchemaNamespace && tag.local === 'commandline') inCommandline = false;
  });
  try {
    parser.write(domainXML).close();
  } catch {
    // as KubeVirt: what was read before the error is used
  }
  if (!hasCommandline) return;
  spec.XmlNS = QEMUSchemaNamespace;
  if (args.length === 0 && envs.length === 0) return;
  spec.QEMUCmd = { QEMUArg: args.length > 0 ? args : null, QEMUEnv: envs.length > 0 ? envs : null };
}

/**
 * setDomainSpecWithHooks: defines the domain the hooks return for `spec`; `spec` becomes the hooks'
 * domain as the launcher reads it back.
 */
export async function setDomainSpecWithHooks(
  conn: Pick<Connection, 'domainDefineXMLFlags'>,
  onDefineDomain: OnDefineDomain,
  vmi: VirtualMachineInstance,
  spec: DomainSpec,
): Promise<VirDomain> {
  const domainXML = await onDefineDomain(domainSpecToXML(spec), vmi);
  const hooked = domainSpecFromXML(domainXML);
  transferQEMUCommandline(domainXML, hooked);
  Object.assign(spec, hooked);
  return conn.domainDefineXMLFlags(domainXML);
}
