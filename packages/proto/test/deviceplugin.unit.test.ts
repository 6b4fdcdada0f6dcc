// The kubelet device plugin API v1beta1 as loaded (src/generated/deviceplugin-descriptor.json) against the
// facts of KubeVirt's copy of it (test/fixtures/kubevirt/deviceplugin-v1beta1-facts.json), and the codec on the wire.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import descriptor from '../src/generated/deviceplugin-descriptor.json' with { type: 'json' };
import { devicePluginService, registrationService } from '../src/deviceplugin.ts';
import { DEVICE_PLUGIN_PROTO, parseProtos } from '../src/codegen.ts';

const FACTS = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'kubevirt', 'deviceplugin-v1beta1-facts.json');
const TYPES: Record<string, number> = { bool: 8, string: 9, int64: 3 };

interface Facts {
  messages: Record<string, Record<string, [number, number, number, string]>>;
  methods: Record<string, [string, string, boolean, boolean]>;
}

function loaded(root: protobuf.Root): Facts {
  const messages: Facts['messages'] = {};
  const methods: Facts['methods'] = {};
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const fields: Record<string, [number, number, number, string]> = {};
        for (const f of nested.fieldsArray) {
          f.resolve();
          if (f instanceof protobuf.MapField) {
            // protoc's synthetic map entry message: <Field>Entry with key = 1, value = 2
            const entry = `${nested.fullName}.${f.name.charAt(0).toUpperCase()}${f.name.slice(1)}Entry`;
            fields[f.name] = [f.id, 11, 3, entry];
            messages[entry] = { key: [1, TYPES[f.keyType] ?? -1, 1, ''], value: [2, TYPES[f.type] ?? -1, 1, ''] };
            continue;
          }
          const typeName = f.resolvedType ? f.resolvedType.fullName : '';
          fields[f.name] = [f.id, f.resolvedType ? 11 : (TYPES[f.type] ?? -1), f.repeated ? 3 : 1, typeName];
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

test('the device plugin API equals KubeVirt v1beta1: every message, field number, type, label and RPC', () => {
  const facts = JSON.parse(fs.readFileSync(FACTS, 'utf8')) as Facts;
  const fromJSON = loaded(protobuf.Root.fromJSON(descriptor as protobuf.INamespace));
  assert.deepEqual(Object.keys(fromJSON.messages).sort(), Object.keys(facts.messages).sort());
  for (const [name, fields] of Object.entries(facts.messages)) assert.deepEqual(fromJSON.messages[name], fields, name);
  assert.deepEqual(fromJSON.methods, facts.methods);
  // the checked-in descriptor is what the .proto file says
  assert.deepEqual(loaded(parseProtos([DEVICE_PLUGIN_PROTO])), fromJSON);
});

test('service paths and codecs: Register and Allocate round-trip; ListAndWatch is server-streaming', () => {
  assert.equal(registrationService['Register']?.path, '/v1beta1.Registration/Register');
  assert.equal(devicePluginService['ListAndWatch']?.path, '/v1beta1.DevicePlugin/ListAndWatch');
  assert.equal(devicePluginService['ListAndWatch']?.responseStream, true);
  const reg = registrationService['Register']!;
  const bytes = reg.requestSerialize({ version: 'v1beta1', endpoint: 'kubevirt-kvm.sock', resource_name: 'devices.kubevirt.io/kvm' });
  // field 1 "v1beta1", field 2, field 3, in that order on the wire
  assert.equal(bytes.toString('hex').slice(0, 4), '0a07');
  assert.deepEqual(reg.requestDeserialize(bytes), {
    version: 'v1beta1',
    endpoint: 'kubevirt-kvm.sock',
    resource_name: 'devices.kubevirt.io/kvm',
    options: null,
  });
  const alloc = devicePluginService['Allocate']!;
  const res = {
    container_responses: [
      { envs: {}, mounts: [], annotations: {}, devices: [{ host_path: '/dev/kvm', container_path: '/dev/kvm', permissions: 'rw' }] },
    ],
  };
  assert.deepEqual(alloc.responseDeserialize(alloc.responseSerialize(res)), res);
});
