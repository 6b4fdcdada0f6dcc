// KubeVirt's hook sidecar API (pkg/hooks info, v1alpha1..v1alpha3) as loaded (src/generated/hooks-descriptor.json)
// against the facts of KubeVirt's .proto files (test/fixtures/kubevirt/hooks-facts.json), and the codec on the wire.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import descriptor from '../src/generated/hooks-descriptor.json' with { type: 'json' };
import { HOOK_VERSIONS, hooksCallbacksServices, hooksInfoService } from '../src/hooks.ts';
import { HOOKS_PROTOS, parseProtos } from '../src/codegen.ts';

const FACTS = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'kubevirt', 'hooks-facts.json');
const TYPES: Record<string, number> = { string: 9, int32: 5, bytes: 12 };

type Facts = { messages: Record<string, Record<string, unknown[]>>; methods: Record<string, unknown[]> };

function loaded(root: protobuf.Root): Facts {
  const messages: Facts['messages'] = {};
  const methods: Facts['methods'] = {};
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const fields: Record<string, unknown[]> = {};
        for (const f of nested.fieldsArray) {
          f.resolve();
          fields[f.name] = [f.id, f.resolvedType ? 11 : (TYPES[f.type] ?? -1), f.repeated ? 3 : 1, f.resolvedType?.fullName ?? ''];
        }
        messages[nested.fullName] = fields;
      } else if (nested instanceof protobuf.Service) {
        for (const m of nested.methodsArray) {
          m.resolve();
          methods[`/${nested.fullName.slice(1)}/${m.name}`] = [
            m.resolvedRequestType?.fullName ?? '',
            m.resolvedResponseType?.fullName ?? '',
            m.requestStream === true,
            m.responseStream === true,
          ];
        }
      } else if (nested instanceof protobuf.Namespace) {
        visit(nested);
      }
    }
  };
  visit(root);
  return { messages, methods };
}

test("the hooks API equals KubeVirt's info, v1alpha1, v1alpha2, v1alpha3: every message, field number, type, label and RPC", () => {
  const facts = JSON.parse(fs.readFileSync(FACTS, 'utf8')) as Facts;
  const fromJSON = loaded(protobuf.Root.fromJSON(descriptor as protobuf.INamespace));
  assert.deepEqual(Object.keys(fromJSON.messages).sort(), Object.keys(facts.messages).sort());
  for (const [name, fields] of Object.entries(facts.messages)) assert.deepEqual(fromJSON.messages[name], fields, name);
  assert.deepEqual(fromJSON.methods, facts.methods);
  // the checked-in descriptor is what the .proto files say
  assert.deepEqual(loaded(parseProtos(HOOKS_PROTOS)), fromJSON);
});

test('service paths and codecs: Info and OnDefineDomain round-trip; bytes fields stay bytes', () => {
  assert.equal(hooksInfoService['Info']?.path, '/kubevirt.hooks.info.Info/Info');
  for (const v of HOOK_VERSIONS) {
    assert.equal(hooksCallbacksServices[v]['OnDefineDomain']?.path, `/kubevirt.hooks.${v}.Callbacks/OnDefineDomain`);
  }
  assert.equal(hooksCallbacksServices.v1alpha1['PreCloudInitIso'], undefined, 'v1alpha1 has OnDefineDomain only');
  assert.equal(hooksCallbacksServices.v1alpha2['Shutdown'], undefined, 'Shutdown came with v1alpha3');
  const info = hooksInfoService['Info']!;
  const res = { name: 'smbios', hookPoints: [{ name: 'OnDefineDomain', priority: -3 }], versions: ['v1alpha3', 'v1alpha2'] };
  assert.deepEqual(info.responseDeserialize(info.responseSerialize(res)), res);
  const odd = hooksCallbacksServices.v1alpha3['OnDefineDomain']!;
  const bytes = odd.requestSerialize({ domainXML: Buffer.from('<domain/>'), vmi: Buffer.from('{}') });
  // field 1 length-delimited "<domain/>", then field 2 "{}"
  assert.equal(bytes.toString('hex'), `0a09${Buffer.from('<domain/>').toString('hex')}1202${Buffer.from('{}').toString('hex')}`);
  assert.deepEqual(odd.requestDeserialize(bytes), { domainXML: Buffer.from('<domain/>'), vmi: Buffer.from('{}') });
});
