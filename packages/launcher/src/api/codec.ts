// Go's encoding/xml and encoding/json as KubeVirt's api package uses them, driven by field tables
// instead of struct tags: each Go struct is a table of its fields in declaration order, each field
// with its XML tag and the codec of its Go type. From one table come the Go zero value (so JSON has
// exactly Go's keys), the XML marshalling (omitempty, attributes, chardata, `a>b` paths, namespaces)
// and the XML unmarshalling (match by local name, unknown elements ignored, last one wins).
import { XMLBuilder } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';
import { errorMessage, k8sTime } from '@kubevirt-ts/shared';

/**
 * A codec for values of Go type V. The phantom member makes `Codec<A>` and `Codec<B>` unrelated
 * unless A and B are the same, so a field table cannot disagree with the interface it describes.
 */
export interface Codec<V> {
  readonly kind: CodecKind;
  readonly __value?: (v: V) => V;
}

type CodecKind = 'string' | 'uint' | 'int' | 'bool' | 'time' | 'struct' | 'ptr' | 'slice' | 'alias' | 'xmlName' | 'unmodelled';

interface ScalarCodec extends Codec<unknown> {
  readonly kind: 'string' | 'uint' | 'int' | 'bool' | 'time';
}
interface StructCodec<V> extends Codec<V> {
  readonly kind: 'struct';
  readonly name: string;
  readonly fields: () => Fields<V>;
}
interface PtrCodec<V> extends Codec<V | null> {
  readonly kind: 'ptr';
  readonly elem: Codec<V>;
}
interface SliceCodec<V> extends Codec<V[] | null> {
  readonly kind: 'slice';
  readonly elem: Codec<V>;
}
type AnyCodec =
  | ScalarCodec
  | StructCodec<Record<string, unknown>>
  | PtrCodec<unknown>
  | SliceCodec<unknown>
  | { readonly kind: 'alias' | 'xmlName' | 'unmodelled' };

/** What follows `xml:"…"` in a Go struct tag. */
export type XMLTag =
  | { readonly kind: 'attr'; readonly name: string; readonly omitempty: boolean }
  | { readonly kind: 'chardata' }
  | { readonly kind: 'elem'; readonly path: readonly string[]; readonly omitempty: boolean; readonly ns?: string }
  /** `XMLName xml.Name`: the element's own name, filled in on unmarshal */
  | { readonly kind: 'xmlName' }
  /** a field with no XML form (`xml:"-"`, or one this port does not model) */
  | { readonly kind: 'none' };

export interface Field<V> {
  readonly tag: XMLTag;
  readonly codec: Codec<V>;
}

export type Fields<T> = { readonly [K in keyof T]-?: Field<T[K]> };

// --- codecs ------------------------------------------------------------------------------------

export const str: Codec<string> = { kind: 'string' };
/** uint, uint32, uint64 */
export const uint: Codec<number> = { kind: 'uint' };
/** int, int32, int64 */
export const int: Codec<number> = { kind: 'int' };
export const bool: Codec<boolean> = { kind: 'bool' };
/** metav1.Time: RFC3339 in JSON, RFC3339Nano (its MarshalText) in XML. Only ever behind a pointer. */
export const time: Codec<string> = { kind: 'time' };

export function struct<T>(name: string, fields: () => Fields<T>): Codec<T> {
  return { kind: 'struct', name, fields } as StructCodec<T>;
}

export function ptr<T>(elem: Codec<T>): Codec<T | null> {
  return { kind: 'ptr', elem } as PtrCodec<T>;
}

export function slice<T>(elem: Codec<T>): Codec<T[] | null> {
  return { kind: 'slice', elem } as SliceCodec<T>;
}

/** api.Alias: `{Name, UserDefined}` in JSON, `<alias name="ua-<Name>"/>` in XML when user defined. */
export interface Alias {
  Name: string;
  UserDefined: boolean;
}
export const UserAliasPrefix = 'ua-';
export const alias: Codec<Alias> = { kind: 'alias' };

/** encoding/xml's xml.Name. */
export interface XMLName {
  Space: string;
  Local: string;
}
export const xmlName: Codec<XMLName> = { kind: 'xmlName' };

/** A Go field this port keeps at its zero value (`null`) and never reads from or writes to XML. */
export const unmodelled: Codec<null> = { kind: 'unmodelled' };

// --- tags --------------------------------------------------------------------------------------

export const OMITEMPTY = { omitempty: true } as const;

export function attr<V>(name: string, codec: Codec<V>, opts: { omitempty?: boolean } = {}): Field<V> {
  return { tag: { kind: 'attr', name, omitempty: opts.omitempty ?? false }, codec };
}

/** `xml:"name"`, `xml:"a>b"`, `xml:"<namespace> name"` */
export function elem<V>(name: string, codec: Codec<V>, opts: { omitempty?: boolean; ns?: string } = {}): Field<V> {
  const tag: XMLTag = { kind: 'elem', path: name.split('>'), omitempty: opts.omitempty ?? false };
  return { tag: opts.ns === undefined ? tag : { ...tag, ns: opts.ns }, codec };
}

export function chardata<V>(codec: Codec<V>): Field<V> {
  return { tag: { kind: 'chardata' }, codec };
}

export function jsonOnly<V>(codec: Codec<V>): Field<V> {
  return { tag: { kind: 'none' }, codec };
}

export const XMLNameField: Field<XMLName> = { tag: { kind: 'xmlName' }, codec: xmlName };

// --- zero values -------------------------------------------------------------------------------

/** Go's zero value of a codec's type: `""`, `0`, `false`, `null` for pointers and slices. */
export function zero<V>(codec: Codec<V>): V {
  return zeroOf(codec as AnyCodec) as V;
}

function zeroOf(c: AnyCodec): unknown {
  switch (c.kind) {
    case 'string':
    case 'time':
      return '';
    case 'uint':
    case 'int':
      return 0;
    case 'bool':
      return false;
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(c.fields())) {
        out[key] = zeroOf((field as Field<unknown>).codec as AnyCodec);
      }
      return out;
    }
    case 'alias':
      return { Name: '', UserDefined: false };
    case 'xmlName':
      return { Space: '', Local: '' };
    case 'ptr':
    case 'slice':
    case 'unmodelled':
      return null;
  }
}

/**
 * A struct value from a partial one: every field the partial leaves out takes its zero value, nested
 * structs included, so callers write only what they set.
 */
export function make<T>(codec: Codec<T>, partial: Partial<T> = {}): T {
  const c = codec as AnyCodec;
  if (c.kind !== 'struct') throw new TypeError(`make() needs a struct codec, got ${c.kind}`);
  const out = zeroOf(c) as Record<string, unknown>;
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) out[key] = value;
  }
  return out as T;
}

/** encoding/xml's isEmptyValue, which decides omitempty. Structs are never empty. */
function isEmpty(c: AnyCodec, v: unknown): boolean {
  switch (c.kind) {
    case 'string':
    case 'time':
      return v === '';
    case 'uint':
    case 'int':
      return v === 0;
    case 'bool':
      return v === false;
    case 'ptr':
    case 'unmodelled':
      return v === null || v === undefined;
    case 'slice':
      return v === null || v === undefined || (v as unknown[]).length === 0;
    default:
      return false;
  }
}

// --- marshal -----------------------------------------------------------------------------------

/** fast-xml-parser's object form: `@_name` attributes, `#text`, child elements as arrays. */
type XMLNode = Record<string, unknown>;

const ATTR = '@_';
const TEXT = '#text';

function formatScalar(c: AnyCodec, v: unknown): string {
  switch (c.kind) {
    case 'uint':
    case 'int':
      return String(v);
    case 'bool':
      return v ? 'true' : 'false';
    default:
      return String(v);
  }
}

/** The scalar behind a field for attributes and chardata: pointers to scalars included. */
function scalarText(c: AnyCodec, v: unknown): string | undefined {
  if (c.kind === 'ptr') {
    if (v === null || v === undefined) return undefined;
    return scalarText(c.elem as AnyCodec, v);
  }
  return formatScalar(c, v);
}

function marshalStruct(c: StructCodec<Record<string, unknown>>, value: Record<string, unknown>, ns?: string): XMLNode {
  const node: XMLNode = {};
  if (ns !== undefined) node[`${ATTR}xmlns`] = ns;
  for (const [key, f] of Object.entries(c.fields())) {
    const field = f as Field<unknown>;
    const fc = field.codec as AnyCodec;
    const v = value[key];
    const tag = field.tag;
    switch (tag.kind) {
      case 'attr': {
        if (tag.omitempty && isEmpty(fc, v)) break;
        const text = scalarText(fc, v);
        if (text !== undefined) node[`${ATTR}${tag.name}`] = text;
        break;
      }
      case 'chardata': {
        const text = scalarText(fc, v);
        if (text !== undefined) node[TEXT] = text;
        break;
      }
      case 'elem': {
        if (tag.omitempty && isEmpty(fc, v)) break;
        const children = marshalValue(fc, v, tag.ns);
        if (children.length === 0) break;
        let parent = node;
        for (const segment of tag.path.slice(0, -1)) {
          const existing = parent[segment] as XMLNode[] | undefined;
          const next = existing?.[0] ?? {};
          if (!existing) parent[segment] = [next];
          parent = next;
        }
        const leaf = tag.path[tag.path.length - 1] as string;
        parent[leaf] = [...((parent[leaf] as XMLNode[] | undefined) ?? []), ...children];
        break;
      }
      case 'xmlName':
      case 'none':
        break;
    }
  }
  return node;
}

/** The elements one field value becomes: none for nil, one per slice item, one otherwise. */
function marshalValue(c: AnyCodec, v: unknown, ns?: string): XMLNode[] {
  switch (c.kind) {
    case 'ptr':
      return v === null || v === undefined ? [] : marshalValue(c.elem as AnyCodec, v, ns);
    case 'slice':
      return ((v as unknown[] | null) ?? []).flatMap((item) => marshalValue(c.elem as AnyCodec, item, ns));
    case 'struct':
      return [marshalStruct(c, v as Record<string, unknown>, ns)];
    case 'alias': {
      const a = v as Alias;
      return [{ [`${ATTR}name`]: a.UserDefined ? `${UserAliasPrefix}${a.Name}` : a.Name }];
    }
    case 'unmodelled':
    case 'xmlName':
      return [];
    default:
      return [{ [TEXT]: formatScalar(c, v) }];
  }
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  format: true,
  indentBy: '\t',
  suppressEmptyNode: false,
  processEntities: true,
});

/** xml.MarshalIndent(value, "", "\t") of a struct, as the root element `rootName`. */
export function marshalXML<T>(codec: Codec<T>, rootName: string, value: T): string {
  const c = codec as AnyCodec;
  if (c.kind !== 'struct') throw new TypeError('marshalXML needs a struct codec');
  const root = marshalStruct(c, value as Record<string, unknown>);
  return (builder.build({ [rootName]: [root] }) as string).trimEnd();
}

// --- unmarshal ---------------------------------------------------------------------------------

export class XMLUnmarshalError extends Error {
  override readonly name = 'XMLUnmarshalError';
}

/** One element, read once: attributes and children indexed by local name, as Go matches them. */
interface Element {
  readonly space: string;
  readonly local: string;
  /** First attribute of each local name (Go takes the first match); `xmlns:qemu` has local name `qemu`. */
  readonly attrs: Map<string, string>;
  readonly children: Map<string, Element[]>;
  /** All character data directly inside, CDATA included. */
  text: string;
}

/** Parses a whole document in one pass (saxes checks well-formedness and resolves namespaces). */
function parseDocument(xml: string): Element {
  const parser = new SaxesParser({ xmlns: true });
  const top: Element = { space: '', local: '', attrs: new Map(), children: new Map(), text: '' };
  const open: Element[] = [top];
  parser.on('opentag', (tag) => {
    const attrs = new Map<string, string>();
    for (const a of Object.values(tag.attributes)) if (!attrs.has(a.local)) attrs.set(a.local, a.value);
    const el: Element = { space: tag.uri, local: tag.local, attrs, children: new Map(), text: '' };
    const parent = open[open.length - 1] as Element;
    const siblings = parent.children.get(el.local);
    if (siblings) siblings.push(el);
    else parent.children.set(el.local, [el]);
    open.push(el);
  });
  parser.on('closetag', () => void open.pop());
  const onText = (t: string) => void ((open[open.length - 1] as Element).text += t);
  parser.on('text', onText);
  parser.on('cdata', onText);
  try {
    parser.write(xml).close();
  } catch (err) {
    throw new XMLUnmarshalError(`XML syntax error: ${errorMessage(err)}`);
  }
  return top;
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseUint/ParseInt/ParseBool on the trimmed text, as encoding/xml's copyValue does. */
function parseScalar(c: AnyCodec, raw: string, where: string): unknown {
  switch (c.kind) {
    case 'string':
      return raw;
    case 'uint':
    case 'int': {
      const s = raw.trim();
      if (s === '') return 0;
      const re = c.kind === 'uint' ? /^\+?[0-9]+$/ : /^[+-]?[0-9]+$/;
      if (!re.test(s)) {
        const fn = c.kind === 'uint' ? 'ParseUint' : 'ParseInt';
        throw new XMLUnmarshalError(`${where}: strconv.${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
      }
      return Number(s);
    }
    case 'bool': {
      const s = raw.trim();
      if (s === '') return false;
      if (GO_TRUE.has(s)) return true;
      if (GO_FALSE.has(s)) return false;
      throw new XMLUnmarshalError(`${where}: strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
    }
    case 'time': {
      const ms = Date.parse(raw.trim());
      if (Number.isNaN(ms)) throw new XMLUnmarshalError(`${where}: cannot parse ${JSON.stringify(raw)} as RFC3339`);
      // metav1.Time marshals to JSON as RFC3339 in UTC, at second precision
      return k8sTime(new Date(ms));
    }
    default:
      throw new XMLUnmarshalError(`${where}: not a scalar`);
  }
}

function unmarshalScalarField(c: AnyCodec, raw: string, where: string): unknown {
  return c.kind === 'ptr' ? parseScalar(c.elem as AnyCodec, raw, where) : parseScalar(c, raw, where);
}

function unmarshalStruct(c: StructCodec<Record<string, unknown>>, el: Element, where: string): Record<string, unknown> {
  const out = zeroOf(c) as Record<string, unknown>;
  for (const [key, f] of Object.entries(c.fields())) {
    const field = f as Field<unknown>;
    const fc = field.codec as AnyCodec;
    const tag = field.tag;
    const at = `${where}.${key}`;
    switch (tag.kind) {
      case 'attr': {
        const raw = el.attrs.get(tag.name);
        if (raw !== undefined) out[key] = unmarshalScalarField(fc, raw, at);
        break;
      }
      case 'chardata':
        out[key] = unmarshalScalarField(fc, el.text, at);
        break;
      case 'xmlName':
        out[key] = { Space: el.space, Local: el.local };
        break;
      case 'elem': {
        let parents = [el];
        for (const segment of tag.path.slice(0, -1)) parents = parents.flatMap((p) => p.children.get(segment) ?? []);
        const leaf = tag.path[tag.path.length - 1] as string;
        let found = parents.flatMap((p) => p.children.get(leaf) ?? []);
        if (tag.ns !== undefined) found = found.filter((e) => e.space === tag.ns);
        if (found.length === 0) break;
        out[key] = unmarshalElements(fc, found, at, out[key]);
        break;
      }
      case 'none':
        break;
    }
  }
  return out;
}

/** A field's value from the elements that match it: all of them for a slice, the last otherwise. */
function unmarshalElements(c: AnyCodec, found: Element[], where: string, current: unknown): unknown {
  switch (c.kind) {
    case 'slice':
      return found.map((e, i) => unmarshalElement(c.elem as AnyCodec, e, `${where}[${i}]`));
    case 'unmodelled':
      return current;
    default:
      return unmarshalElement(c, found[found.length - 1] as Element, where);
  }
}

function unmarshalElement(c: AnyCodec, el: Element, where: string): unknown {
  switch (c.kind) {
    case 'ptr':
      return unmarshalElement(c.elem as AnyCodec, el, where);
    case 'struct':
      return unmarshalStruct(c, el, where);
    case 'alias': {
      const name = el.attrs.get('name') ?? '';
      return name.startsWith(UserAliasPrefix)
        ? { Name: name.slice(UserAliasPrefix.length), UserDefined: true }
        : { Name: name, UserDefined: false };
    }
    case 'slice':
      return [unmarshalElement(c.elem as AnyCodec, el, where)];
    case 'xmlName':
      return { Space: el.space, Local: el.local };
    case 'unmodelled':
      return null;
    default:
      return parseScalar(c, el.text, where);
  }
}

/** xml.Unmarshal of a document whose root element must be `rootName`. */
export function unmarshalXML<T>(codec: Codec<T>, rootName: string, xml: string): T {
  const c = codec as AnyCodec;
  if (c.kind !== 'struct') throw new TypeError('unmarshalXML needs a struct codec');
  const root = [...parseDocument(xml).children.values()][0]?.[0];
  if (root === undefined) throw new XMLUnmarshalError('EOF');
  if (root.local !== rootName) {
    throw new XMLUnmarshalError(`expected element type <${rootName}> but have <${root.local}>`);
  }
  return unmarshalStruct(c, root, c.name) as T;
}
