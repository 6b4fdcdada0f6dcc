import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  convReason,
  convState,
  domainNameToVMI,
  domainToJSON,
  LifeCycle,
  lifeCycleFromLibvirt,
  newDomain,
  parseDomain,
  StateChangeReason,
  vmiNameToDomainName,
} from '../src/domain.ts';
import { ValidationError } from '../src/validation.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
// Vendored from KubeVirt (test/fixtures/kubevirt/README.md says how it was made).
const zeroValuePath = path.resolve(repoRoot, 'test', 'fixtures', 'kubevirt', 'domain-zero-value.json');

const vmi = { name: 'testvmi', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' };

/** Every key path of a JSON document, e.g. `Spec.OS.Type.Machine`. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const here = prefix === '' ? key : `${prefix}.${key}`;
    return [here, ...keyPaths(child, here)];
  });
}

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  assert.fail('expected a ValidationError');
}

describe("newDomain is Go's zero Domain", () => {
  const reference = () => JSON.parse(readFileSync(zeroValuePath, 'utf8')) as unknown;

  test('has exactly the keys of domain-zero-value.json', () => {
    assert.deepEqual(keyPaths(newDomain(vmi)).sort(), keyPaths(reference()).sort());
  });

  test('and exactly its values', () => {
    assert.deepEqual(JSON.parse(domainToJSON(newDomain(vmi))), reference());
  });

  test('parsing the reference changes nothing', () => {
    assert.deepEqual(parseDomain(readFileSync(zeroValuePath)), reference());
  });
});

describe('newDomain', () => {
  test('names the VMI in ObjectMeta and carries its UID in Spec.Metadata.KubeVirt', () => {
    const domain = newDomain(vmi);
    assert.equal(domain.kind, 'Domain');
    assert.equal(domain.apiVersion, '1.2.2');
    assert.equal(domain.ObjectMeta.name, 'testvmi');
    assert.equal(domain.ObjectMeta.namespace, 'default');
    assert.equal(domain.ObjectMeta.uid, vmi.uid);
    assert.equal(domain.ObjectMeta.creationTimestamp, null);
    assert.equal(domain.Spec.Metadata.KubeVirt.UID, vmi.uid);
    assert.equal(domain.Spec.Devices.Channels, null);
    assert.equal(domain.Status.Status, '');
  });

  test('gives fresh objects: changing one domain leaves the next alone', () => {
    const first = newDomain(vmi);
    first.Spec.OS.Type.Machine = 'q35';
    first.Status.OSInfo.Name = 'Debian';
    const second = newDomain(vmi);
    assert.equal(second.Spec.OS.Type.Machine, '');
    assert.equal(second.Status.OSInfo.Name, '');
  });
});

describe('parseDomain', () => {
  const launcherDomain = {
    kind: 'Domain',
    apiVersion: '1.2.2',
    ObjectMeta: { name: 'testvmi', namespace: 'default', uid: vmi.uid, creationTimestamp: null },
    Spec: {
      Type: 'qemu',
      Name: 'default_testvmi',
      UUID: '7f1c3a5e-2b4d-5c6e-8f90-a1b2c3d4e5f6',
      Memory: { Value: 131072, Unit: 'KiB' },
      CurrentMemory: { Value: 131072, Unit: 'KiB' },
      OS: { Type: { OS: 'hvm', Arch: 'x86_64', Machine: 'pc-q35-7.2' } },
      Devices: {
        Channels: [
          {
            Type: 'unix',
            Source: { Mode: 'bind', Path: '/var/lib/libvirt/qemu/channel/target/org.qemu.guest_agent.0' },
            Target: { Name: 'org.qemu.guest_agent.0', Type: 'virtio', State: 'connected', FutureAttr: 'x' },
          },
        ],
        Interfaces: [{ Type: 'ethernet', MAC: { MAC: '02:00:00:8a:3b:01' }, Alias: { Name: 'default', UserDefined: true } }],
        Disks: [
          {
            Device: 'disk',
            Type: 'file',
            Source: { File: '/var/run/kubevirt-ephemeral-disks/disk-data/containerdisk/disk.qcow2' },
            Target: { Bus: 'virtio', Device: 'vda' },
          },
        ],
      },
      Metadata: { KubeVirt: { UID: vmi.uid, GracePeriod: { DeletionGracePeriodSeconds: 30 } } },
      Features: { ACPI: {} },
    },
    Status: { Status: 'Running', Reason: 'Unknown', OSInfo: { Name: 'Debian GNU/Linux' } },
  };

  test('fills every key Go would emit and keeps what was sent', () => {
    const domain = parseDomain(JSON.stringify(launcherDomain));
    assert.equal(domain.Spec.OS.Type.Machine, 'pc-q35-7.2');
    assert.equal(domain.Spec.OS.KernelArgs, '');
    assert.equal(domain.Spec.CurrentMemory?.Value, 131072);
    const channel = domain.Spec.Devices.Channels?.[0];
    assert.deepEqual(channel?.Target, {
      Name: 'org.qemu.guest_agent.0',
      Type: 'virtio',
      Address: '',
      Port: 0,
      State: 'connected',
      FutureAttr: 'x',
    });
    assert.equal(domain.Spec.Devices.Interfaces?.[0]?.MAC?.MAC, '02:00:00:8a:3b:01');
    assert.equal(domain.Spec.Devices.Interfaces?.[0]?.Target, null);
    assert.equal(domain.Spec.Devices.Disks?.[0]?.Target.Device, 'vda');
    assert.equal(domain.Spec.Devices.Disks?.[0]?.Driver, null);
    assert.deepEqual(domain.Spec.Metadata.KubeVirt.GracePeriod, {
      DeletionGracePeriodSeconds: 30,
      DeletionTimestamp: null,
      MarkedForGracefulShutdown: null,
    });
    assert.deepEqual(domain.Spec.Features?.ACPI, {});
    assert.equal(domain.Spec.Features?.APIC, null);
    assert.equal(domain.Status.Status, LifeCycle.Running);
    assert.equal(domain.Status.OSInfo.Id, '');
    assert.deepEqual(domain.Status.FSFreezeStatus, { Status: '' });
    assert.equal(domain.Status.PanicCount, 0);
  });

  test('domainToJSON then parseDomain is the identity', () => {
    const domain = parseDomain(launcherDomain);
    assert.deepEqual(parseDomain(domainToJSON(domain)), domain);
  });

  test("keys are case-sensitive, as apimachinery's json decodes them", () => {
    const domain = parseDomain('{"kind":"Domain","spec":{"Name":"default_testvmi"},"Status":{"status":"Running"}}');
    assert.equal(domain.Spec.Name, '');
    assert.equal(domain.Status.Status, '');
    const raw = domain as unknown as { spec: unknown; Status: Record<string, unknown> };
    assert.deepEqual(raw.spec, { Name: 'default_testvmi' });
    assert.equal(raw.Status['status'], 'Running');
  });

  test('a wrong type names the field', () => {
    assert.equal(
      validationError(() => parseDomain('{"Spec":{"Memory":{"Value":"lots","Unit":"KiB"}}}')).message,
      'Spec.Memory.Value: expected a number',
    );
    assert.equal(
      validationError(() => parseDomain({ Spec: { Devices: { Channels: [{ Target: { State: 1 } }] } } })).message,
      'Spec.Devices.Channels[0].Target.State: expected a string',
    );
    assert.equal(validationError(() => parseDomain('{"ObjectMeta":{"uid":5}}')).message, 'ObjectMeta.uid: expected a string');
  });

  test('a deleted domain as the launcher reports it', () => {
    const domain = newDomain(vmi);
    domain.ObjectMeta.deletionTimestamp = '2026-08-22T10:20:00Z';
    Object.assign(domain.Status, { Status: LifeCycle.NoState, Reason: StateChangeReason.NonExistent });
    const sent = JSON.parse(domainToJSON(domain));
    assert.equal(sent.ObjectMeta.deletionTimestamp, '2026-08-22T10:20:00Z');
    assert.equal(sent.Status.Status, 'NoState');
    assert.equal(sent.Status.Reason, 'NonExistent');
  });
});

describe('libvirt state and reason → LifeCycle and StateChangeReason', () => {
  // [state, reason, what libvirt calls them, Status, Reason]
  const cases: [number, number, string, string, string][] = [
    [0, 0, 'NOSTATE', 'NoState', 'Unknown'],
    [1, 1, 'RUNNING/BOOTED', 'Running', 'Unknown'],
    [1, 5, 'RUNNING/UNPAUSED (KubeVirt translates no RUNNING reason)', 'Running', 'Unknown'],
    [2, 0, 'BLOCKED', 'Blocked', 'Unknown'],
    [3, 0, 'PAUSED/UNKNOWN', 'Paused', 'Unknown'],
    [3, 1, 'PAUSED/USER', 'Paused', 'User'],
    [3, 2, 'PAUSED/MIGRATION', 'Paused', 'Migration'],
    [3, 5, 'PAUSED/IOERROR', 'Paused', 'IOError'],
    [3, 11, 'PAUSED/STARTING_UP', 'Paused', 'StartingUp'],
    [3, 13, 'PAUSED/POSTCOPY_FAILED', 'Paused', 'PostcopyFailed'],
    [3, 14, 'PAUSED/API_ERROR (untranslated)', 'Paused', ''],
    [4, 1, 'SHUTDOWN/USER', 'ShuttingDown', 'User'],
    [5, 0, 'SHUTOFF/UNKNOWN', 'Shutoff', 'Unknown'],
    [5, 1, 'SHUTOFF/SHUTDOWN', 'Shutoff', 'Shutdown'],
    [5, 2, 'SHUTOFF/DESTROYED', 'Shutoff', 'Destroyed'],
    [5, 3, 'SHUTOFF/CRASHED', 'Shutoff', 'Crashed'],
    [5, 4, 'SHUTOFF/MIGRATED', 'Shutoff', 'Migrated'],
    [5, 6, 'SHUTOFF/FAILED', 'Shutoff', 'Failed'],
    [5, 8, 'SHUTOFF/DAEMON (untranslated)', 'Shutoff', ''],
    [6, 1, 'CRASHED/PANICKED', 'Crashed', 'Panicked'],
    [7, 0, 'PMSUSPENDED', 'PMSuspended', 'Unknown'],
    [8, 0, 'a state libvirt does not have', '', 'Unknown'],
  ];
  for (const [state, reason, what, status, stateReason] of cases) {
    test(`${what} → ${status || '""'}/${stateReason || '""'}`, () => {
      assert.deepEqual(lifeCycleFromLibvirt(state, reason), { Status: status, Reason: stateReason });
      assert.equal(convState(state), status);
      assert.equal(convReason(state, reason), stateReason);
    });
  }
});

describe('domain names', () => {
  test('<namespace>_<name> and back', () => {
    assert.equal(vmiNameToDomainName('default', 'testvmi'), 'default_testvmi');
    assert.deepEqual(domainNameToVMI('default_testvmi'), { namespace: 'default', name: 'testvmi' });
  });

  test('splits at the first underscore; no underscore means namespace default', () => {
    assert.deepEqual(domainNameToVMI('kube-system_a_b'), { namespace: 'kube-system', name: 'a_b' });
    assert.deepEqual(domainNameToVMI('testvmi'), { namespace: 'default', name: 'testvmi' });
  });
});
