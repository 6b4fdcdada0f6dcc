// The domain XML libvirt takes and gives back, as KubeVirt's launcher writes and reads it
// (xml.MarshalIndent / xml.Unmarshal of api.DomainSpec).
import { make, marshalXML, unmarshalXML, type Codec } from './codec.ts';
import { domainSpecCodec, type DomainSpec } from './schema.ts';

export { XMLUnmarshalError } from './codec.ts';

const ROOT = 'domain';

export function domainSpecToXML(spec: DomainSpec): string {
  return marshalXML(domainSpecCodec, ROOT, spec);
}

/**
 * A domain's XML as libvirt returns it, as the Go launcher would parse it: libvirt's additions
 * (aliases, addresses, channel state, MACs) land in the fields that model them, everything else is
 * dropped, and every field the XML lacks keeps Go's zero value.
 */
export function domainSpecFromXML(xml: string): DomainSpec {
  return unmarshalXML(domainSpecCodec, ROOT, xml);
}

/** A DomainSpec with Go's zero value in every field the partial leaves out. */
export function newDomainSpec(partial: Partial<DomainSpec> = {}): DomainSpec {
  return make(domainSpecCodec, partial);
}

/** Any api struct with Go's zero value in every field the partial leaves out: `newStruct(diskCodec, {...})`. */
export function newStruct<T>(codec: Codec<T>, partial: Partial<T> = {}): T {
  return make(codec, partial);
}
