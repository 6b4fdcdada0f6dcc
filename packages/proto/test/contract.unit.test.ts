import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { generateTypes, GENERATED_DIR } from '../src/codegen.ts';
import * as protoLoader from '@grpc/proto-loader';
import { cmdInfoService, cmdService, LOADER_OPTIONS, notifyInfoService, notifyService, protoDescriptor } from '../src/definitions.ts';
import { CMD_CALL_TIMEOUTS_MS, CMD_INFO_METHODS, CMD_METHODS, NOTIFY_INFO_METHODS, NOTIFY_METHODS } from '../src/index.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
// Vendored from KubeVirt's .proto files (test/fixtures/kubevirt/README.md says how).
const FACTS_PATH = path.resolve(REPO_ROOT, 'test', 'fixtures', 'kubevirt', 'kubevirt-proto-facts.json');

// What the daemons load (src/generated/descriptor.json), in proto-loader's descriptor terms.
const packageDefinition = protoLoader.fromJSON(protoDescriptor, LOADER_OPTIONS);

/** [field number, FieldDescriptorProto.Type, FieldDescriptorProto.Label, fully qualified type name or ""] */
type FieldFact = [number, number, number, string];
interface ProtoFacts {
  messages: Record<string, Record<string, FieldFact>>;
  methods: Record<string, [string, string]>;
}

// google/protobuf/descriptor.proto enum values; proto-loader reports them by name.
const FIELD_TYPES: Record<string, number> = {
  TYPE_DOUBLE: 1,
  TYPE_FLOAT: 2,
  TYPE_INT64: 3,
  TYPE_UINT64: 4,
  TYPE_INT32: 5,
  TYPE_FIXED64: 6,
  TYPE_FIXED32: 7,
  TYPE_BOOL: 8,
  TYPE_STRING: 9,
  TYPE_GROUP: 10,
  TYPE_MESSAGE: 11,
  TYPE_BYTES: 12,
  TYPE_UINT32: 13,
  TYPE_ENUM: 14,
  TYPE_SFIXED32: 15,
  TYPE_SFIXED64: 16,
  TYPE_SINT32: 17,
  TYPE_SINT64: 18,
};
const FIELD_LABELS: Record<string, number> = { LABEL_OPTIONAL: 1, LABEL_REQUIRED: 2, LABEL_REPEATED: 3 };

interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  label: string;
  typeName: string;
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  options: { mapEntry?: boolean } | null;
}

/** protoc's MapEntryName: field name CamelCased + "Entry" (protobufjs names the entry after the field). */
function mapEntryName(fieldName: string): string {
  return `${fieldName.replace(/(?:^|_)(.)/g, (_m, c: string) => c.toUpperCase())}Entry`;
}

/**
 * The loaded definitions in protoc's terms (fully qualified type names, protoc map-entry names),
 * i.e. the shape of the facts file.
 */
function loadedMessages(): Record<string, Record<string, FieldFact>> {
  const messages: Record<string, Record<string, FieldFact>> = {};
  const topLevel = new Set(Object.keys(packageDefinition).map((name) => `.${name}`));

  function visit(fullName: string, pkg: string, desc: MessageDescriptor): void {
    const entries = new Map<string, string>(); // protobufjs nested name -> protoc full name
    for (const nested of desc.nestedType) {
      assert.equal(nested.options?.mapEntry, true, `${fullName}.${nested.name}: only map entries are nested in KubeVirt's protos`);
      const field = desc.field.find((f) => f.typeName === nested.name);
      assert.ok(field, `${fullName}: no field uses map entry ${nested.name}`);
      const entryFullName = `${fullName}.${mapEntryName(field.name)}`;
      entries.set(nested.name, entryFullName);
      visit(entryFullName, pkg, { ...nested, name: mapEntryName(field.name) });
    }
    const resolve = (typeName: string): string => {
      if (typeName === '') return '';
      const nested = entries.get(typeName);
      if (nested !== undefined) return nested;
      const inPackage = `.${pkg}.${typeName}`;
      assert.ok(topLevel.has(inPackage), `${fullName}: cannot resolve ${typeName}`);
      return inPackage;
    };
    messages[fullName] = Object.fromEntries(
      desc.field.map((f): [string, FieldFact] => [
        f.name,
        [f.number, FIELD_TYPES[f.type] ?? -1, FIELD_LABELS[f.label] ?? -1, resolve(f.typeName)],
      ]),
    );
  }

  for (const [name, def] of Object.entries(packageDefinition)) {
    if (!('format' in def)) continue;
    const pkg = name.slice(0, name.lastIndexOf('.'));
    visit(`.${name}`, pkg, def.type as MessageDescriptor);
  }
  return messages;
}

function loadedMethods(): Record<string, [string, string]> {
  const methods: Record<string, [string, string]> = {};
  for (const [name, def] of Object.entries(packageDefinition)) {
    if ('format' in def) continue;
    const pkg = name.slice(0, name.lastIndexOf('.'));
    for (const method of Object.values(def)) {
      assert.equal(method.requestStream || method.responseStream, false, `${method.path} must be unary`);
      const req = `${pkg}.${(method.requestType.type as MessageDescriptor).name}`;
      const res = `${pkg}.${(method.responseType.type as MessageDescriptor).name}`;
      // The short names must denote the package-level messages, not look-alikes.
      assert.deepEqual(method.requestType.type, packageDefinition[req]?.type);
      assert.deepEqual(method.responseType.type, packageDefinition[res]?.type);
      methods[method.path] = [`.${req}`, `.${res}`];
    }
  }
  return methods;
}

test('loaded .proto definitions equal kubevirt-proto-facts.json: every message, field number, type, label and method', () => {
  const facts = JSON.parse(fs.readFileSync(FACTS_PATH, 'utf8')) as ProtoFacts;
  const messages = loadedMessages();
  assert.deepEqual(Object.keys(messages).sort(), Object.keys(facts.messages).sort());
  for (const [name, fields] of Object.entries(facts.messages)) {
    assert.deepEqual(messages[name], fields, name);
  }
  assert.deepEqual(loadedMethods(), facts.methods);
});

test('method paths are /<proto package>.<Service>/<Rpc> as KubeVirt serves them', () => {
  assert.equal(CMD_INFO_METHODS.Info, '/kubevirt.cmd.info.CmdInfo/Info');
  assert.equal(CMD_METHODS.SyncVirtualMachine, '/kubevirt.cmd.v1.Cmd/SyncVirtualMachine');
  assert.equal(CMD_METHODS.GetVMStats, '/kubevirt.cmd.v1.Cmd/GetVMStats');
  assert.equal(NOTIFY_INFO_METHODS.Info, '/kubevirt.notify.info.NotifyInfo/Info');
  assert.equal(NOTIFY_METHODS.HandleDomainEvent, '/kubevirt.notify.v1.Notify/HandleDomainEvent');
  assert.equal(NOTIFY_METHODS.HandleK8sEvent, '/kubevirt.notify.v1.Notify/HandleK8sEvent');

  assert.equal(cmdService.SyncVirtualMachine.path, '/kubevirt.cmd.v1.Cmd/SyncVirtualMachine');
  assert.equal(notifyService.HandleDomainEvent.path, '/kubevirt.notify.v1.Notify/HandleDomainEvent');
  assert.equal(notifyService.HandleK8sEvent.path, '/kubevirt.notify.v1.Notify/HandleK8sEvent');
  assert.equal(cmdInfoService.Info.path, '/kubevirt.cmd.info.CmdInfo/Info');
  assert.equal(notifyInfoService.Info.path, '/kubevirt.notify.info.NotifyInfo/Info');

  assert.equal(Object.keys(CMD_METHODS).length, 36);
  for (const [rpc, p] of Object.entries(CMD_METHODS)) assert.equal(p, `/kubevirt.cmd.v1.Cmd/${rpc}`);
  assert.deepEqual(Object.keys(NOTIFY_METHODS), ['HandleDomainEvent', 'HandleK8sEvent']);
});

test('every Cmd RPC has cmd-client deadline: 20 s lifecycle, 5 s reads/Ping, 60 s Freeze', () => {
  assert.deepEqual(Object.keys(CMD_CALL_TIMEOUTS_MS).sort(), Object.keys(CMD_METHODS).sort());
  assert.equal(CMD_CALL_TIMEOUTS_MS.SyncVirtualMachine, 20_000);
  assert.equal(CMD_CALL_TIMEOUTS_MS.KillVirtualMachine, 20_000);
  assert.equal(CMD_CALL_TIMEOUTS_MS.GetDomain, 5_000);
  assert.equal(CMD_CALL_TIMEOUTS_MS.Ping, 5_000);
  assert.equal(CMD_CALL_TIMEOUTS_MS.FreezeVirtualMachine, 60_000);
});

test('checked-in src/generated matches what `pnpm run gen` produces from the .proto files', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-proto-gen-'));
  try {
    generateTypes(out);
    const list = (dir: string): string[] =>
      (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[])
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .sort();
    assert.deepEqual(list(GENERATED_DIR), list(out));
    for (const file of list(out)) {
      assert.equal(fs.readFileSync(path.join(GENERATED_DIR, file), 'utf8'), fs.readFileSync(path.join(out, file), 'utf8'), file);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
