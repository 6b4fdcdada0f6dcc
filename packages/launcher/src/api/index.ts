// KubeVirt's virtwrap/api: the DomainSpec as data, its XML form, and the launcher's domain defaults.
export * from './schema.ts';
export { domainSpecFromXML, domainSpecToXML, newDomainSpec, newStruct, XMLUnmarshalError } from './xml.ts';
export { setObjectDefaultsDomainSpec } from './defaults.ts';
export { UserAliasPrefix } from './codec.ts';
