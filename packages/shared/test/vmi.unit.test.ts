import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { k8sTime } from '../src/meta.ts';
import { ValidationError } from '../src/validation.ts';
import {
  NodeNameLabel,
  parseFileSystems,
  parseGuestAgentInfo,
  parseGuestOSUsers,
  parseVMI,
  VirtualMachineInstanceConditionType,
  VirtualMachineInstancePhase,
} from '../src/vmi.ts';

const fixture = readFileSync(new URL('./fixtures/vmi-running.json', import.meta.url), 'utf8');

function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err;
  }
  assert.fail('expected a ValidationError');
}

// biome-ignore lint/suspicious/noExplicitAny: a test mutates arbitrary paths of the parsed JSON
type AnyJSON = Record<string, any>;

function withChange(change: (vmi: AnyJSON) => void): unknown {
  const vmi = JSON.parse(fixture);
  change(vmi);
  return vmi;
}

describe('a VMI as virt-controller writes it', () => {
  test('round-trips with every unknown field kept', () => {
    const vmi = parseVMI(fixture);
    assert.deepEqual(JSON.parse(JSON.stringify(vmi)), JSON.parse(fixture));
  });

  test('parses from bytes (VMI.vmiJson) as from text', () => {
    assert.deepEqual(parseVMI(Buffer.from(fixture)), parseVMI(fixture));
  });

  test("typed fields read as KubeVirt's", () => {
    const vmi = parseVMI(fixture);
    assert.equal(vmi.metadata.labels?.[NodeNameLabel], 'node01');
    assert.equal(vmi.status?.phase, VirtualMachineInstancePhase.Running);
    assert.equal(vmi.status?.activePods?.['3c2a1f0e-8b7d-4c6e-9f5a-0e1d2c3b4a59'], 'node01');
    assert.equal(vmi.spec.domain.devices?.disks?.[1]?.cdrom?.bus, 'sata');
    assert.deepEqual(vmi.spec.domain.devices?.interfaces?.[0]?.masquerade, {});
    assert.equal(vmi.spec.domain.firmware?.kernelBoot?.container?.kernelPath, '/boot/vmlinuz');
    assert.equal(vmi.spec.volumes?.[2]?.emptyDisk?.capacity, '1Gi');
    assert.equal(vmi.status?.VSOCKCID, 123);
    const ready = vmi.status?.conditions?.find((c) => c.type === VirtualMachineInstanceConditionType.Ready);
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.lastProbeTime, null);
  });

  test('unknown values of string-typed fields pass, as Go takes any string', () => {
    const vmi = parseVMI(withChange((v) => (v.status.phase = 'SomeFuturePhase')));
    assert.equal(vmi.status?.phase, 'SomeFuturePhase');
  });

  test('the minimal VMI the handler needs parses', () => {
    const minimal = {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'testvmi', namespace: 'default', uid: 'u1', labels: { [NodeNameLabel]: 'node01' } },
      spec: { domain: { devices: {}, resources: { requests: { memory: '128Mi' } } }, terminationGracePeriodSeconds: 0 },
      status: {
        phase: 'Scheduled',
        nodeName: 'node01',
        activePods: { p1: 'node01' },
        conditions: [],
        interfaces: [],
        guestOSInfo: {},
        runtimeUser: 0,
      },
    };
    assert.deepEqual(parseVMI(JSON.stringify(minimal)), minimal);
  });
});

describe('bad VMI JSON names the field', () => {
  const cases: [string, (v: AnyJSON) => void, string][] = [
    ['a string where a number goes', (v) => (v.spec.domain.cpu.cores = 'two'), 'spec.domain.cpu.cores: expected a number'],
    ['a fraction where an integer goes', (v) => (v.spec.domain.cpu.cores = 1.5), 'spec.domain.cpu.cores: expected an integer'],
    ['a negative unsigned', (v) => (v.status.runtimeUser = -1), 'status.runtimeUser: must be at least 0'],
    ['an item of a list', (v) => delete v.spec.domain.devices.disks[1].name, 'spec.domain.devices.disks[1].name: is required'],
    ['a label value', (v) => (v.metadata.labels[NodeNameLabel] = 7), 'metadata.labels["kubevirt.io/nodeName"]: expected a string'],
    ['a missing uid', (v) => delete v.metadata.uid, 'metadata.uid: is required'],
    ['a missing spec', (v) => delete v.spec, 'spec: is required'],
    // names become paths in the launcher's directories
    ['a name that is not a DNS-1123 subdomain', (v) => (v.metadata.name = '../etc'), 'metadata.name: must be a DNS-1123 subdomain'],
    ['a namespace that is not a DNS-1123 label', (v) => (v.metadata.namespace = 'a/b'), 'metadata.namespace: must be a DNS-1123 label'],
    ['a volume name with a separator', (v) => (v.spec.volumes[0].name = '../../x'), 'spec.volumes[0].name: must not contain "/"'],
    [
      'a disk name that is a dot name',
      (v) => (v.spec.domain.devices.disks[0].name = '..'),
      'spec.domain.devices.disks[0].name: must not be "." or ".."',
    ],
    [
      'a boolean that is a string',
      (v) => (v.spec.domain.features.acpi.enabled = 'yes'),
      'spec.domain.features.acpi.enabled: expected a boolean',
    ],
    ['an object that is a list', (v) => (v.status.guestOSInfo = []), 'status.guestOSInfo: expected an object'],
  ];
  for (const [what, change, message] of cases) {
    test(what, () => {
      const err = validationError(() => parseVMI(JSON.stringify(withChange(change))));
      assert.equal(err.message, message);
    });
  }

  test('several problems: the first is named, the rest counted', () => {
    const err = validationError(() =>
      parseVMI(
        withChange((v) => {
          v.spec.domain.cpu.cores = 'two';
          v.spec.domain.cpu.sockets = 'one';
        }),
      ),
    );
    assert.equal(err.message, 'spec.domain.cpu.cores: expected a number (and 1 more)');
    assert.deepEqual(err.problems, ['spec.domain.cpu.cores: expected a number', 'spec.domain.cpu.sockets: expected a number']);
    assert.equal(err.path, 'spec.domain.cpu.cores');
  });

  test('not JSON at all', () => {
    assert.match(validationError(() => parseVMI('{"metadata":')).message, /^invalid VirtualMachineInstance JSON: /);
  });

  test('a JSON syntax error does not quote the text back', () => {
    const err = validationError(() => parseVMI('password: hunter2'));
    assert.equal(err.message, "invalid VirtualMachineInstance JSON: Unexpected token 'p'");
  });

  test('not an object', () => {
    assert.equal(validationError(() => parseVMI('[]')).message, 'expected an object');
  });

  test('the offending value stays out of the message (userData may hold passwords)', () => {
    const err = validationError(() => parseVMI(withChange((v) => (v.spec.volumes[1].cloudInitNoCloud.userData = { password: 'hunter2' }))));
    assert.equal(err.message, 'spec.volumes[1].cloudInitNoCloud.userData: expected a string');
    assert.equal(JSON.stringify(err).includes('hunter2'), false);
  });
});

describe('guest agent documents', () => {
  test("GuestAgentInfo keeps KubeVirt's keys", () => {
    const info = {
      guestAgentVersion: '7.2.22',
      supportedCommands: [{ name: 'guest-ping', enabled: true }, { name: 'guest-exec' }],
      hostname: 'testvmi',
      os: { name: 'Debian GNU/Linux', kernelRelease: '6.1.0-18-amd64', id: 'debian', versionId: '12' },
      timezone: 'UTC, 0',
      userList: [{ userName: 'root', loginTime: 1787654321.5 }],
      fsInfo: {
        disks: [
          { diskName: 'vda1', mountPoint: '/', fileSystemType: 'ext4', usedBytes: 1024, totalBytes: 4096, disk: [{ busType: 'virtio' }] },
        ],
      },
    };
    assert.deepEqual(parseGuestAgentInfo(JSON.stringify(info)), info);
  });

  test("the launcher's bare user and filesystem arrays, or null", () => {
    assert.deepEqual(parseGuestOSUsers('[{"userName":"root","domain":"","loginTime":1.5}]'), [
      { userName: 'root', domain: '', loginTime: 1.5 },
    ]);
    assert.equal(parseGuestOSUsers('null'), null);
    assert.equal(validationError(() => parseFileSystems('[{"diskName":"vda1"}]')).message, '[0].mountPoint: is required (and 3 more)');
  });
});

test('k8sTime marshals like metav1.Time: RFC3339, seconds, UTC', () => {
  assert.equal(k8sTime(new Date('2026-08-22T10:11:12.345Z')), '2026-08-22T10:11:12Z');
});
