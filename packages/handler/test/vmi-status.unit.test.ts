// The VMI status virt-handler writes, as KubeVirt computes it (calculateVmPhaseForStatusReason,
// updateVMIStatusFromDomain), table by table; and the work queue's client-go semantics.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newDomain, parseDomain, parseVMI, type Domain, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import {
  accessCredentialEvent,
  calculatePhase,
  calculateStatus,
  dumpTargetFile,
  hotplugVolumesPending,
  interfacesStatus,
  quantity,
  statusEqual,
} from '../src/vmi-status.ts';
import { WorkQueue } from '../src/workqueue.ts';

const uid = '1b5a3e3c-0000-4000-8000-000000000001';
const vmi = (phase: string, extra: object = {}) =>
  parseVMI({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'vm', namespace: 'ns', uid },
    spec: {
      domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] } },
      networks: [{ name: 'default', pod: {} }],
      ...extra,
    },
    status: { phase },
  });

function domain(status: string, reason: string, patch: (d: Domain) => void = () => undefined): Domain {
  const d = newDomain({ name: 'vm', namespace: 'ns', uid });
  d.Status.Status = status;
  d.Status.Reason = reason;
  patch(d);
  return parseDomain(d);
}

describe('phase from the domain (calculateVmPhaseForStatusReason)', () => {
  // 5th: the domain has ACPI; 6th: the VMI's terminationGracePeriodSeconds
  const cases: Array<[string, string, string, string, boolean?, number?]> = [
    // vmi phase, domain status, reason → phase
    ['Scheduled', 'Running', 'Unknown', 'Running'],
    ['Scheduled', 'Paused', 'StartingUp', 'Running'],
    ['Running', 'Paused', 'User', 'Running'],
    ['Running', 'Paused', 'PostcopyFailed', 'Failed'],
    ['Running', 'Blocked', 'Unknown', 'Running'],
    ['Running', 'PMSuspended', 'Unknown', 'Running'],
    ['Running', 'Shutoff', 'Shutdown', 'Succeeded'],
    ['Running', 'Shutoff', 'Saved', 'Succeeded'],
    ['Running', 'Shutoff', 'FromSnapshot', 'Succeeded'],
    ['Running', 'Shutoff', 'Destroyed', 'Succeeded'],
    ['Running', 'Shutoff', 'Destroyed', 'Failed', true],
    ['Running', 'Shutoff', 'Destroyed', 'Succeeded', true, 0],
    ['Running', 'Shutoff', 'Crashed', 'Failed'],
    ['Running', 'Crashed', 'Panicked', 'Failed'],
    ['Running', 'Shutoff', 'Failed', 'Running'],
    ['Running', 'Crashed', 'Unknown', 'Running'],
    ['Running', 'Shutoff', 'Migrated', 'Running'],
    ['Running', 'ShuttingDown', 'User', 'Running'],
    ['Running', 'NoState', 'Unknown', 'Running'],
  ];
  const withACPI = (d: Domain) => {
    d.Spec.Features = { ...d.Spec.Features, ACPI: {} } as Domain['Spec']['Features'];
  };
  for (const [phase, status, reason, want, acpi, grace] of cases) {
    const name = `${phase} + ${status}/${reason}${acpi ? ' (ACPI)' : ''}${grace !== undefined ? ` (grace ${grace})` : ''} → ${want}`;
    test(name, () => {
      const d = domain(status, reason, acpi ? withACPI : undefined);
      const v = vmi(phase, grace === undefined ? {} : { terminationGracePeriodSeconds: grace });
      // KubeVirt's isACPIEnabled: Destroyed with ACPI and a grace period was killed after the grace period → Failed
      assert.equal(calculatePhase({ vmi: v, domain: d, launcher: 'ready' }), want);
    });
  }
  test('no domain: Scheduled stays while the launcher starts; Running with an unresponsive launcher → Failed', () => {
    assert.equal(calculatePhase({ vmi: vmi('Scheduled'), domain: undefined, launcher: 'initializing' }), 'Scheduled');
    assert.equal(calculatePhase({ vmi: vmi('Running'), domain: undefined, launcher: 'ready' }), 'Running');
    assert.equal(calculatePhase({ vmi: vmi('Running'), domain: undefined, launcher: 'unresponsive' }), 'Failed');
    assert.equal(calculatePhase({ vmi: vmi('Succeeded'), domain: undefined, launcher: 'unresponsive' }), 'Succeeded');
    assert.equal(calculatePhase({ vmi: vmi(''), domain: undefined, launcher: 'initializing' }), 'Scheduled');
  });
});

describe('status fields and conditions', () => {
  const now = new Date('2026-11-23T10:00:00Z');

  test('a phase change appends a phaseTransitionTimestamp; the same state twice changes nothing', () => {
    const first = calculateStatus({ vmi: vmi('Scheduled'), domain: domain('Running', 'Unknown'), launcher: 'ready', now });
    assert.equal(first.phase, 'Running');
    assert.deepEqual(first.phaseTransitionTimestamps, [{ phase: 'Running', phaseTransitionTimestamp: '2026-11-23T10:00:00Z' }]);
    const again = calculateStatus({
      vmi: { ...vmi('Running'), status: first },
      domain: domain('Running', 'Unknown'),
      launcher: 'ready',
      now: new Date(),
    });
    assert.ok(statusEqual(again, first), 'level-based: a second round is a no-op');
  });

  test('statusEqual compares as JSON: key order and undefined keys do not matter, array order does', () => {
    assert.ok(statusEqual({ phase: 'Running', machine: { type: 'q35' } }, { machine: { type: 'q35' }, phase: 'Running' }));
    assert.ok(statusEqual({ phase: 'Running', reason: undefined }, { phase: 'Running' }));
    assert.ok(
      statusEqual({ conditions: [{ type: 'Ready', lastProbeTime: null }] }, { conditions: [{ lastProbeTime: null, type: 'Ready' }] }),
    );
    assert.ok(!statusEqual({ phase: 'Running' }, { phase: 'Running', reason: 'x' }));
    assert.ok(!statusEqual({ conditions: [{ type: 'A' }, { type: 'B' }] }, { conditions: [{ type: 'B' }, { type: 'A' }] }));
    assert.ok(!statusEqual({ lastProbeTime: null }, { lastProbeTime: {} }));
    assert.ok(!statusEqual({ interfaces: [] }, { interfaces: {} }));
    assert.ok(!statusEqual({ memory: { guestCurrent: '1Gi' } }, { memory: { guestCurrent: 1 } }));
  });

  test('calculateStatus leaves the input VMI alone', () => {
    const input = {
      ...vmi('Running'),
      status: calculateStatus({ vmi: vmi('Scheduled'), domain: domain('Paused', 'User'), launcher: 'ready', now }),
    };
    const before = JSON.stringify(input);
    calculateStatus({ vmi: input, domain: domain('Running', 'Unknown'), launcher: 'ready', now: new Date() });
    calculateStatus({ vmi: input, domain: undefined, launcher: 'unresponsive', now: new Date() });
    assert.equal(JSON.stringify(input), before);
  });

  test('Paused: the condition KubeVirt writes for a user pause; removed when running again', () => {
    const reasonFor = (r: string) =>
      calculateStatus({ vmi: vmi('Running'), domain: domain('Paused', r), launcher: 'ready', now }).conditions?.find(
        (c) => c.type === 'Paused',
      );
    assert.deepEqual(reasonFor('User'), {
      type: 'Paused',
      status: 'True',
      lastProbeTime: '2026-11-23T10:00:00Z',
      lastTransitionTime: '2026-11-23T10:00:00Z',
      reason: 'PausedByUser',
      message: 'VMI was paused by user',
    });
    const paused = calculateStatus({ vmi: vmi('Running'), domain: domain('Paused', 'User'), launcher: 'ready', now });
    const resumed = calculateStatus({
      vmi: { ...vmi('Running'), status: paused },
      domain: domain('Running', 'Unknown'),
      launcher: 'ready',
      now,
    });
    assert.equal(
      resumed.conditions?.some((c) => c.type === 'Paused'),
      false,
    );
  });

  test('AgentConnected from the guest agent channel; guestOSInfo, fsFreezeStatus, machine, memory from the domain', () => {
    const d = domain('Running', 'Unknown', (x) => {
      x.Spec.Devices.Channels = [
        {
          Type: 'unix',
          Source: null,
          Target: { Name: 'org.qemu.guest_agent.0', Type: 'virtio', Address: '', Port: 0, State: 'connected' },
        },
      ];
      x.Status.OSInfo = {
        Name: 'Debian',
        KernelRelease: '6.1',
        Version: '12',
        PrettyName: 'Debian 12',
        VersionId: '12',
        KernelVersion: '#1',
        Machine: 'x86_64',
        Id: 'debian',
      };
      x.Status.FSFreezeStatus = { Status: 'frozen' };
      x.Spec.OS.Type.Machine = 'pc-q35-7.2';
      x.Spec.CurrentMemory = { Value: 134217728, Unit: 'b' };
    });
    const s = calculateStatus({ vmi: vmi('Running'), domain: d, launcher: 'ready', now });
    assert.equal(s.conditions?.find((c) => c.type === 'AgentConnected')?.status, 'True');
    assert.deepEqual(s.guestOSInfo, {
      name: 'Debian',
      kernelRelease: '6.1',
      version: '12',
      prettyName: 'Debian 12',
      versionId: '12',
      kernelVersion: '#1',
      machine: 'x86_64',
      id: 'debian',
    });
    assert.equal(s.fsFreezeStatus, 'frozen');
    assert.deepEqual(s.machine, { type: 'pc-q35-7.2' });
    // omitempty: what the agent did not tell is left out, not written as ""
    d.Status.OSInfo = { ...d.Status.OSInfo, Name: 'Alpine', KernelVersion: '', Machine: '' };
    const sparse = calculateStatus({ vmi: vmi('Running'), domain: d, launcher: 'ready', now });
    assert.deepEqual(Object.keys(sparse.guestOSInfo ?? {}).sort(), ['id', 'kernelRelease', 'name', 'prettyName', 'version', 'versionId']);
    assert.deepEqual(s.memory, { guestCurrent: '128Mi' });
  });

  test('a sync error sets Synchronized=False with KubeVirt reason; a good sync removes it', () => {
    const failed = calculateStatus({ vmi: vmi('Scheduled'), domain: undefined, launcher: 'ready', syncError: 'boom', now });
    assert.deepEqual(
      failed.conditions?.find((c) => c.type === 'Synchronized'),
      {
        type: 'Synchronized',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: '2026-11-23T10:00:00Z',
        reason: 'Synchronizing with the Domain failed.',
        message: 'boom',
      },
    );
    const ok = calculateStatus({ vmi: { ...vmi('Scheduled'), status: failed }, domain: undefined, launcher: 'ready', now });
    assert.equal(
      ok.conditions?.some((c) => c.type === 'Synchronized'),
      false,
    );
  });

  test("LiveMigratable: KubeVirt's specific reason first, else True", () => {
    const cond = (v: VirtualMachineInstance) => {
      const c = calculateStatus({ vmi: v, domain: domain('Running', 'Unknown'), launcher: 'ready', now }).conditions?.find(
        (x) => x.type === 'LiveMigratable',
      );
      return [c?.status, c?.reason, c?.message];
    };
    const withIface = (iface: object) =>
      parseVMI({
        ...vmi('Running'),
        spec: { domain: { devices: { interfaces: [{ name: 'default', ...iface }] } }, networks: [{ name: 'default', pod: {} }] },
      });
    const bridgeMsg = 'cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network';
    const cases: Array<[string, VirtualMachineInstance, Array<string | undefined>]> = [
      // what KubeVirt would report itself wins: the interface check comes before any other
      ['bridge on the pod network', withIface({ bridge: {} }), ['False', 'InterfaceNotLiveMigratable', bridgeMsg]],
      ['masquerade on the pod network', withIface({ masquerade: {} }), ['True', undefined, undefined]],
      ['no interfaces', parseVMI({ ...vmi('Running'), spec: { domain: { devices: {} } } }), ['True', undefined, undefined]],
    ];
    for (const [what, v, want] of cases) assert.deepEqual(cond(v), want, what);
  });

  test('memory quantities as resource.Quantity', () => {
    assert.equal(quantity(131072, 'KiB'), '128Mi');
    assert.equal(quantity(2, 'GiB'), '2Gi');
    assert.equal(quantity(1000, 'b'), '1000');
  });
});

describe('status.interfaces (netstat UpdateStatus)', () => {
  const mac0 = '02:00:00:00:00:01';
  const mac1 = '02:00:00:00:00:02';
  type Nic = { alias: string; mac: string; queues?: number; link?: string };
  type Agent = { Mac: string; Ip?: string; IPs?: string[]; InterfaceName?: string };
  const dom = (nics: Nic[], agent: Agent[] = [], hostDevices: object[] = []) =>
    domain('Running', 'Unknown', (d) => {
      d.Spec.Devices.Interfaces = nics.map(
        (n) =>
          ({
            Alias: { Name: n.alias, UserDefined: true },
            MAC: { MAC: n.mac },
            ...(n.queues ? { Driver: { Name: 'vhost', Queues: n.queues, IOMMU: '' } } : {}),
            ...(n.link ? { LinkState: { State: n.link } } : {}),
          }) as never,
      );
      d.Status.Interfaces = agent.map((a) => ({ Ip: '', IPs: [], InterfaceName: '', ...a }));
      d.Spec.Devices.HostDevices = hostDevices as never;
    });
  // the pod network `default` (masquerade) and a multus network `blue` (bridge)
  const twoNets = (status: object = {}) =>
    parseVMI({
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      metadata: { name: 'vm', namespace: 'ns', uid },
      spec: {
        domain: {
          devices: {
            interfaces: [
              { name: 'default', masquerade: {} },
              { name: 'blue', bridge: {} },
            ],
          },
        },
        networks: [
          { name: 'default', pod: {} },
          { name: 'blue', multus: { networkName: 'blue-net' } },
        ],
      },
      status: { phase: 'Running', ...status },
    });
  const cache = (ips: Record<string, string[]>) => (name: string) => (ips[name] ? { podIP: ips[name][0], podIPs: ips[name] } : undefined);

  const cases: Array<{ name: string; vmi: VirtualMachineInstance; domain: Domain; cache?: Record<string, string[]>; want: object[] }> = [
    {
      name: 'domain NICs: alias, MAC, one queue and link up by default; the driver queues and link state when set',
      vmi: twoNets(),
      domain: dom([
        { alias: 'default', mac: mac0 },
        { alias: 'blue', mac: mac1, queues: 4, link: 'down' },
      ]),
      want: [
        { name: 'default', mac: mac0, infoSource: 'domain', queueCount: 1, linkState: 'up' },
        { name: 'blue', mac: mac1, infoSource: 'domain', queueCount: 4, linkState: 'down' },
      ],
    },
    {
      name: 'the pod IP from the network cache before the guest agent runs',
      vmi: twoNets(),
      domain: dom([{ alias: 'default', mac: mac0 }]),
      cache: { default: ['10.244.0.5', 'fd00::5'] },
      want: [
        {
          name: 'default',
          mac: mac0,
          infoSource: 'domain',
          queueCount: 1,
          linkState: 'up',
          ipAddress: '10.244.0.5',
          ipAddresses: ['10.244.0.5', 'fd00::5'],
        },
      ],
    },
    {
      name: "virt-controller's entries kept: multus-status added to a domain NIC, a not-yet-attached spec NIC kept, one not in the spec dropped; podInterfaceName kept",
      vmi: twoNets({
        interfaces: [
          { name: 'default', podInterfaceName: 'eth0' },
          { name: 'blue', infoSource: 'multus-status', podInterfaceName: 'pod16477688c0e' },
          { name: 'gone', infoSource: 'multus-status' },
        ],
      }),
      domain: dom([{ alias: 'default', mac: mac0 }]),
      want: [
        { name: 'default', mac: mac0, infoSource: 'domain', queueCount: 1, linkState: 'up', podInterfaceName: 'eth0' },
        { name: 'blue', infoSource: 'multus-status', podInterfaceName: 'pod16477688c0e' },
      ],
    },
    {
      name: 'a multus NIC in the domain: infoSource domain, multus-status',
      vmi: twoNets({ interfaces: [{ name: 'blue', infoSource: 'multus-status' }] }),
      domain: dom([
        { alias: 'default', mac: mac0 },
        { alias: 'blue', mac: mac1 },
      ]),
      want: [
        { name: 'default', mac: mac0, infoSource: 'domain', queueCount: 1, linkState: 'up' },
        { name: 'blue', mac: mac1, infoSource: 'domain, multus-status', queueCount: 1, linkState: 'up' },
      ],
    },
    {
      name: 'the pod network NIC first, even when the domain lists it later or no longer has it',
      vmi: twoNets({ interfaces: [{ name: 'default', mac: mac0 }] }),
      domain: dom([{ alias: 'blue', mac: mac1 }]),
      want: [{ name: 'default' }, { name: 'blue', mac: mac1, infoSource: 'domain', queueCount: 1, linkState: 'up' }],
    },
    {
      name: "the agent's data by MAC: masquerade drops link-local IPs; the cached pod IP stays ahead of the agent's IPv4",
      vmi: twoNets(),
      domain: dom(
        [{ alias: 'default', mac: mac0 }],
        [{ Mac: mac0, Ip: '10.0.2.2', IPs: ['10.0.2.2', 'fe80::1', 'fd10:0:2::2'], InterfaceName: 'eth0' }],
      ),
      cache: { default: ['10.244.0.5'] },
      want: [
        {
          name: 'default',
          mac: mac0,
          infoSource: 'domain, guest-agent',
          queueCount: 1,
          linkState: 'up',
          interfaceName: 'eth0',
          ipAddress: '10.244.0.5',
          ipAddresses: ['10.244.0.5', 'fd10:0:2::2'],
        },
      ],
    },
    {
      name: 'a bridge NIC keeps the link-local IPs; an old launcher (no interface name) adds no guest-agent source',
      vmi: twoNets(),
      domain: dom(
        [
          { alias: 'default', mac: mac0 },
          { alias: 'blue', mac: mac1 },
        ],
        [
          { Mac: mac0, IPs: ['10.0.2.2'] },
          { Mac: mac1, Ip: 'fe80::2', IPs: ['fe80::2'], InterfaceName: 'eth1' },
        ],
      ),
      want: [
        {
          name: 'default',
          mac: mac0,
          infoSource: 'domain',
          queueCount: 1,
          linkState: 'up',
          ipAddress: '10.0.2.2',
          ipAddresses: ['10.0.2.2'],
        },
        {
          name: 'blue',
          mac: mac1,
          infoSource: 'domain, guest-agent',
          queueCount: 1,
          linkState: 'up',
          interfaceName: 'eth1',
          ipAddress: 'fe80::2',
          ipAddresses: ['fe80::2'],
        },
      ],
    },
    {
      name: 'interfaces only the agent knows: appended, at most ten',
      vmi: twoNets(),
      domain: dom(
        [{ alias: 'default', mac: mac0 }],
        Array.from({ length: 12 }, (_, i) => ({ Mac: `02:00:00:00:01:${String(i).padStart(2, '0')}`, InterfaceName: `dummy${i}` })),
      ),
      want: [
        { name: 'default', mac: mac0, infoSource: 'domain', queueCount: 1, linkState: 'up' },
        ...Array.from({ length: 10 }, (_, i) => ({
          mac: `02:00:00:00:01:${String(i).padStart(2, '0')}`,
          interfaceName: `dummy${i}`,
          infoSource: 'guest-agent',
        })),
      ],
    },
    {
      name: "an SR-IOV NIC from its host device alias, with the spec's MAC",
      vmi: parseVMI({
        ...twoNets(),
        spec: {
          domain: {
            devices: {
              interfaces: [
                { name: 'default', masquerade: {} },
                { name: 'vf', sriov: {}, macAddress: mac1 },
              ],
            },
          },
          networks: [
            { name: 'default', pod: {} },
            { name: 'vf', multus: { networkName: 'sriov-net' } },
          ],
        },
      }),
      domain: dom(
        [{ alias: 'default', mac: mac0 }],
        [],
        [{ Alias: { Name: 'sriov-vf', UserDefined: false } }, { Alias: { Name: 'hostdev0' } }],
      ),
      want: [
        { name: 'default', mac: mac0, infoSource: 'domain', queueCount: 1, linkState: 'up' },
        { name: 'vf', mac: mac1, infoSource: 'domain' },
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(interfacesStatus(c.vmi, c.domain, c.cache ? cache(c.cache) : undefined), c.want);
    });
  }

  test('no domain: the interfaces virt-controller wrote are left as they are', () => {
    const v = twoNets({ interfaces: [{ name: 'blue', infoSource: 'multus-status', podInterfaceName: 'pod1' }] });
    const s = calculateStatus({ vmi: v, domain: undefined, launcher: 'ready', now: new Date() });
    assert.deepEqual(s.interfaces, [{ name: 'blue', infoSource: 'multus-status', podInterfaceName: 'pod1' }]);
  });
});

describe('status.volumeStatus (updateVolumeStatusesFromDomain, updateIsoSizeStatus)', () => {
  const disk = (alias: string, dev: string, source: { File?: string; Dev?: string }) =>
    ({ Alias: { Name: alias, UserDefined: true }, Target: { Bus: 'virtio', Device: dev, Tray: '' }, Source: source }) as never;
  const d = domain('Running', 'Unknown', (x) => {
    x.Spec.Devices.Disks = [
      disk('rootdisk', 'vda', { File: '/var/run/kubevirt/container-disks/disk_0.img' }),
      disk('blockdisk', 'vdb', { Dev: '/dev/data' }),
      disk('emptycd', 'sda', {}),
      disk('hot', 'sdb', { File: '/var/run/kubevirt/hotplug-disks/hot.img' }),
    ];
  });
  const withVolumes = (volumeStatus: object[], extra: object = {}) =>
    parseVMI({ ...vmi('Running'), status: { phase: 'Running', volumeStatus, ...extra } });

  test("each status virt-controller made gets its domain disk's target; empty CD-ROMs and unknown volumes get none; sorted", () => {
    const v = withVolumes([
      { name: 'rootdisk', target: '' },
      { name: 'emptycd', target: 'sda' },
      { name: 'blockdisk', target: '' },
      { name: 'cloudinit', target: '' },
    ]);
    assert.deepEqual(calculateStatus({ vmi: v, domain: d, launcher: 'ready', now: new Date() }).volumeStatus, [
      { name: 'blockdisk', target: 'vdb' },
      { name: 'cloudinit', target: '' },
      { name: 'emptycd', target: '' },
      { name: 'rootdisk', target: 'vda' },
    ]);
  });

  test('a hotplugged volume with a target is Ready; without a domain every target is cleared', () => {
    const v = withVolumes([
      { name: 'hot', target: '', hotplugVolume: { attachPodName: 'hp-pod' }, phase: 'AttachedToNode' },
      { name: 'rootdisk', target: 'vda' },
    ]);
    assert.deepEqual(calculateStatus({ vmi: v, domain: d, launcher: 'ready', now: new Date() }).volumeStatus, [
      {
        name: 'hot',
        target: 'sdb',
        hotplugVolume: { attachPodName: 'hp-pod' },
        phase: 'Ready',
        reason: 'VolumeReady',
        message: 'Successfully attach hotplugged volume hot to VM',
      },
      { name: 'rootdisk', target: 'vda' },
    ]);
    assert.deepEqual(
      calculateStatus({ vmi: withVolumes([{ name: 'rootdisk', target: 'vda' }]), domain: undefined, launcher: 'ready', now: new Date() })
        .volumeStatus,
      [{ name: 'rootdisk', target: '' }],
    );
  });

  test("ISO-backed volumes of a Running VMI get their file's size, read at KubeVirt's paths in the pod", () => {
    const spec = {
      domain: {
        devices: {
          disks: [
            { name: 'cloudinit', disk: {} },
            { name: 'cfg', disk: {} },
            { name: 'sa', disk: {} },
            { name: 'rootdisk', disk: {} },
          ],
        },
      },
      volumes: [
        { name: 'cloudinit', cloudInitNoCloud: { userData: '#cloud-config' } },
        { name: 'cfg', configMap: { name: 'app-config' } },
        { name: 'sa', serviceAccount: { serviceAccountName: 'default' } },
        { name: 'rootdisk', containerDisk: { image: 'img' } },
      ],
    };
    const v = (phase: string, activePods: Record<string, string>) =>
      parseVMI({
        ...vmi(phase),
        spec,
        status: {
          phase,
          nodeName: 'node01',
          activePods,
          volumeStatus: ['cfg', 'cloudinit', 'rootdisk', 'sa'].map((name) => ({ name, target: '' })),
        },
      });
    const asked: string[] = [];
    const sizes: Record<string, number> = {
      '/var/run/kubevirt-ephemeral-disks/cloud-init-data/ns/vm/noCloud.iso': 374784,
      '/var/run/kubevirt-private/config-map-disks/cfg.iso': 366592,
      '/var/run/kubevirt-private/service-account-disk/service-account.iso': 368640,
    };
    const isoSizes = (p: string) => {
      asked.push(p);
      return sizes[p];
    };
    const s = calculateStatus({
      vmi: v('Running', { 'pod-uid': 'node01' }),
      domain: undefined,
      launcher: 'ready',
      now: new Date(),
      isoSizes,
    });
    assert.deepEqual(s.volumeStatus, [
      { name: 'cfg', target: '', size: 366592 },
      { name: 'cloudinit', target: '', size: 374784 },
      { name: 'rootdisk', target: '' },
      { name: 'sa', target: '', size: 368640 },
    ]);
    assert.deepEqual(asked.sort(), Object.keys(sizes).sort(), 'only ISO-backed volumes are looked at');
    // not Running yet, or no pod of this node among the active pods: not looked at
    asked.length = 0;
    calculateStatus({ vmi: v('Scheduled', { 'pod-uid': 'node01' }), domain: undefined, launcher: 'ready', now: new Date(), isoSizes });
    calculateStatus({ vmi: v('Running', { 'pod-uid': 'node02' }), domain: undefined, launcher: 'ready', now: new Date(), isoSizes });
    assert.deepEqual(asked, []);
  });
});

describe('guest agent conditions (updateGuestAgentConditions)', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const connected = (state: string) =>
    domain('Running', 'Unknown', (x) => {
      x.Spec.Devices.Channels = [
        { Type: 'unix', Source: null, Target: { Name: 'org.qemu.guest_agent.0', Type: 'virtio', Address: '', Port: 0, State: state } },
      ];
    });
  const basic = [
    'guest-ping',
    'guest-get-time',
    'guest-info',
    'guest-shutdown',
    'guest-network-get-interfaces',
    'guest-get-fsinfo',
    'guest-get-host-name',
    'guest-get-users',
    'guest-get-timezone',
    'guest-get-osinfo',
  ];
  const enabled = (names: string[]) => names.map((name) => ({ name, enabled: true }));
  const sshKeys = ['guest-ssh-get-authorized-keys', 'guest-ssh-add-authorized-keys', 'guest-ssh-remove-authorized-keys'];
  const oldSSH = ['guest-exec-status', 'guest-exec', 'guest-file-open', 'guest-file-close', 'guest-file-read', 'guest-file-write'];
  const withCreds = (creds: object[]) => parseVMI({ ...vmi('Running'), spec: { ...vmi('Running').spec, accessCredentials: creds } });
  const sshCred = { sshPublicKey: { source: { secret: { secretName: 'k' } }, propagationMethod: { qemuGuestAgent: { users: ['root'] } } } };
  const pwCred = { userPassword: { source: { secret: { secretName: 'p' } }, propagationMethod: { qemuGuestAgent: {} } } };

  const cases: Array<[string, VirtualMachineInstance, Array<{ name: string; enabled?: boolean }>, string, string | undefined]> = [
    // what, VMI, supported commands, agent version → AgentVersionNotSupported reason (undefined: none)
    ['every basic command', vmi('Running'), enabled(basic), '', undefined],
    ['a basic command missing', vmi('Running'), enabled(basic.slice(1)), '', "This guest agent doesn't support required basic commands"],
    [
      'a basic command disabled',
      vmi('Running'),
      [...enabled(basic.slice(1)), { name: 'guest-ping' }],
      '',
      "This guest agent doesn't support required basic commands",
    ],
    [
      'SSH keys by the agent without the ssh commands',
      withCreds([sshCred]),
      enabled(basic),
      '',
      "This guest agent doesn't support required public key commands",
    ],
    ['SSH keys with the new ssh commands', withCreds([sshCred]), enabled([...basic, ...sshKeys]), '', undefined],
    ['SSH keys with the old exec/file commands', withCreds([sshCred]), enabled([...basic, ...oldSSH]), '', undefined],
    [
      'a password by the agent without guest-set-user-password',
      withCreds([pwCred]),
      enabled(basic),
      '',
      "This guest agent doesn't support required password commands",
    ],
    ['no command list: a supported version', vmi('Running'), [], '5.2.0', undefined],
    ['no command list: an old version', vmi('Running'), [], '1.0', "Guest agent version '1.0' is not supported"],
    // the versions are regular expressions matched anywhere, as Go's MatchString does
    ['no command list: 1.5 matches 5.*', vmi('Running'), [], '1.5', undefined],
  ];
  for (const [what, v, commands, version, want] of cases) {
    test(`${what} → ${want ?? 'supported'}`, () => {
      const s = calculateStatus({
        vmi: v,
        domain: connected('connected'),
        launcher: 'ready',
        now,
        guestAgent: { guestAgentVersion: version, supportedCommands: commands, supportedVersions: ['2.*', '3.*', '4.*', '5.*'] },
      });
      assert.deepEqual(
        s.conditions?.find((c) => c.type === 'AgentConnected'),
        { type: 'AgentConnected', status: 'True', lastProbeTime: '2026-11-23T10:00:00Z', lastTransitionTime: null },
      );
      const unsupported = s.conditions?.find((c) => c.type === 'AgentVersionNotSupported');
      assert.deepEqual(
        unsupported,
        want === undefined
          ? undefined
          : {
              type: 'AgentVersionNotSupported',
              status: 'True',
              reason: want,
              lastProbeTime: '2026-11-23T10:00:00Z',
              lastTransitionTime: null,
            },
      );
    });
  }

  test('the channel disconnected: AgentConnected removed, AgentVersionNotSupported left; connected again it is re-judged', () => {
    const facts = { guestAgentVersion: '', supportedCommands: enabled(basic.slice(1)), supportedVersions: [] };
    const first = calculateStatus({ vmi: vmi('Running'), domain: connected('connected'), launcher: 'ready', now, guestAgent: facts });
    const gone = calculateStatus({ vmi: { ...vmi('Running'), status: first }, domain: connected('disconnected'), launcher: 'ready', now });
    assert.deepEqual(
      gone.conditions?.map((c) => c.type).filter((t) => t.startsWith('Agent')),
      ['AgentVersionNotSupported'],
    );
    const back = calculateStatus({
      vmi: { ...vmi('Running'), status: gone },
      domain: connected('connected'),
      launcher: 'ready',
      now,
      guestAgent: { ...facts, supportedCommands: enabled(basic) },
    });
    assert.deepEqual(
      back.conditions?.map((c) => c.type).filter((t) => t.startsWith('Agent')),
      ['AgentConnected'],
    );
  });
});

describe('Paused (updatePausedConditions)', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const migrating = (o: object) => ({
    migrationState: { sourceNode: 'node01', targetNodeAddress: '10.0.0.2', mode: 'Paused', completed: false, ...o },
  });
  const cases: Array<[string, object, string | undefined]> = [
    // domain paused reason, VMI status extra → Paused reason (undefined: no condition)
    ['User', {}, 'PausedByUser'],
    ['IOError', {}, 'PausedIOError'],
    ['Migration', migrating({}), 'PausedByMigrationMonitor'],
    ['Migration', {}, undefined],
    ['Migration', migrating({ mode: 'PreCopy' }), undefined],
    ['Migration', migrating({ completed: true }), undefined],
    ['Migration', migrating({ sourceNode: 'node02' }), undefined],
    ['StartingUp', {}, undefined],
    ['Unknown', {}, undefined],
    ['Snapshot', {}, undefined],
  ];
  for (const [reason, extra, want] of cases) {
    test(`paused for ${reason}${Object.keys(extra).length ? ` (${JSON.stringify(extra)})` : ''} → ${want ?? 'no condition'}`, () => {
      const v = parseVMI({ ...vmi('Running'), status: { phase: 'Running', ...extra } });
      const c = calculateStatus({ vmi: v, domain: domain('Paused', reason), launcher: 'ready', now, host: 'node01' }).conditions?.find(
        (x) => x.type === 'Paused',
      );
      assert.equal(c?.reason, want);
      if (want === 'PausedByMigrationMonitor') assert.equal(c?.message, 'VMI was paused by the migration monitor');
    });
  }
  test('a Paused condition once set stays as it is while the domain is paused', () => {
    const first = calculateStatus({ vmi: vmi('Running'), domain: domain('Paused', 'User'), launcher: 'ready', now });
    const later = calculateStatus({
      vmi: { ...vmi('Running'), status: first },
      domain: domain('Paused', 'IOError'),
      launcher: 'ready',
      now: new Date('2026-11-23T11:00:00Z'),
    });
    assert.deepEqual(later.conditions, first.conditions);
  });
});

describe('migratability (updateLiveMigrationConditions)', () => {
  const now = new Date();
  const withSpec = (spec: object, status: object = {}) =>
    parseVMI({ ...vmi('Running'), spec: { ...vmi('Running').spec, ...spec }, status: { phase: 'Running', ...status } });
  const pvc = (name: string, claimName: string) => ({ name, persistentVolumeClaim: { claimName } });
  const pvcStatus = (name: string, accessModes: string[]) => ({
    name,
    target: '',
    persistentVolumeClaimInfo: { claimName: name, accessModes },
  });
  const iface = 'cannot migrate VMI which does not use masquerade or a migratable plugin to connect to the pod network';
  const cases: Array<[string, VirtualMachineInstance, [string, string] | undefined, string, string]> = [
    // what, VMI → LiveMigratable [reason, message] (none: True), migrationMethod, StorageLiveMigratable message ('': True)
    ['no volumes', withSpec({}), undefined, 'LiveMigration', ''],
    [
      'a containerDisk: block migration',
      withSpec({ volumes: [{ name: 'root', containerDisk: { image: 'img' } }] }),
      undefined,
      'BlockMigration',
      '',
    ],
    [
      'a read-only CD-ROM is not copied',
      withSpec({
        domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }], disks: [{ name: 'iso', cdrom: {} }] } },
        volumes: [{ name: 'iso', containerDisk: { image: 'img' } }],
      }),
      undefined,
      'LiveMigration',
      '',
    ],
    [
      'an RWX PVC is shared',
      withSpec({ volumes: [pvc('data', 'data-claim')] }, { volumeStatus: [pvcStatus('data', ['ReadWriteMany'])] }),
      undefined,
      'LiveMigration',
      '',
    ],
    [
      'an RWO PVC',
      withSpec({ volumes: [pvc('data', 'data-claim')] }, { volumeStatus: [pvcStatus('data', ['ReadWriteOnce'])] }),
      [
        'DisksNotLiveMigratable',
        'cannot migrate VMI: PVC data-claim is not shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)',
      ],
      'BlockMigration',
      '',
    ],
    [
      'a PVC without claim info',
      withSpec({ volumes: [pvc('data', 'data-claim')] }),
      [
        'DisksNotLiveMigratable',
        'cannot migrate VMI: Unable to determine if PVC data-claim is shared, live migration requires that all PVCs must be shared (using ReadWriteMany access mode)',
      ],
      'BlockMigration',
      '',
    ],
    [
      'a non-shared hostDisk',
      withSpec({ volumes: [{ name: 'hd', hostDisk: { path: '/data/disk.img', type: 'Disk' } }] }),
      ['DisksNotLiveMigratable', 'cannot migrate VMI with non-shared HostDisk'],
      'BlockMigration',
      '',
    ],
    [
      'a bridge on the pod network and a host device: both listed for storage migration',
      withSpec({
        domain: { devices: { interfaces: [{ name: 'default', bridge: {} }], hostDevices: [{ name: 'dev', deviceName: 'x/y' }] } },
      }),
      ['InterfaceNotLiveMigratable', iface],
      'LiveMigration',
      `InterfaceNotLiveMigratable: ${iface}, HostDeviceNotLiveMigratable: VMI specifies non-migratable generic PCI host device`,
    ],
    [
      'SEV memory encryption',
      withSpec({ domain: { devices: { interfaces: [{ name: 'default', masquerade: {} }] }, launchSecurity: { sev: {} } } }),
      ['SEVNotLiveMigratable', 'VMI uses SEV'],
      'LiveMigration',
      `SEVNotLiveMigratable: VMI uses SEV`,
    ],
    [
      'TDX',
      withSpec({ domain: { devices: {}, launchSecurity: { tdx: {} } } }),
      ['TDXNotLiveMigratable', 'VMI uses TDX'],
      'LiveMigration',
      `TDXNotLiveMigratable: VMI uses TDX`,
    ],
    [
      'a LUN with SCSI persistent reservation on an RWX PVC: only storage migration is refused for it',
      withSpec(
        { domain: { devices: { disks: [{ name: 'lun0', lun: { reservation: true } }] } }, volumes: [pvc('lun0', 'lun-claim')] },
        { volumeStatus: [pvcStatus('lun0', ['ReadWriteMany'])] },
      ),
      undefined,
      'LiveMigration',
      `PersistentReservationNotLiveMigratable: VMI uses SCSI persistent reservation`,
    ],
    [
      'a bridge allowed by the annotation',
      parseVMI({
        ...withSpec({ domain: { devices: { interfaces: [{ name: 'default', bridge: {} }] } } }),
        metadata: { name: 'vm', namespace: 'ns', uid, annotations: { 'kubevirt.io/allow-pod-bridge-network-live-migration': '' } },
      }),
      undefined,
      'LiveMigration',
      '',
    ],
  ];
  const times = { lastProbeTime: null, lastTransitionTime: null };
  // isHostModelMigratable: the node labeller's host-model CPU (none: the node has no node-labeller files)
  const hostModelCases: Array<[string, string | undefined, string | undefined, string | undefined]> = [
    // what, spec cpu model, the node's host-model CPU → LiveMigratable reason
    ['host-model on a node without a host-model CPU', 'host-model', '', 'CPUModeLiveMigratable'],
    ['host-model on a node with one', 'host-model', 'Skylake-Client-IBRS', undefined],
    ['a named model on a node without one', 'Haswell', '', undefined],
    ['host-model, the node not asked (no check)', 'host-model', undefined, undefined],
  ];
  for (const [what, model, hostCPUModel, reason] of hostModelCases) {
    test(`${what} → ${reason ?? 'migratable'}`, () => {
      const v = parseVMI({ ...withSpec({ domain: { cpu: { model }, devices: {} } }), status: { phase: 'Running', nodeName: 'node01' } });
      const s = calculateStatus({
        vmi: v,
        domain: undefined,
        launcher: 'ready',
        now,
        ...(hostCPUModel === undefined ? {} : { hostCPUModel }),
      });
      const live = s.conditions?.find((c) => c.type === 'LiveMigratable');
      const storage = s.conditions?.find((c) => c.type === 'StorageLiveMigratable');
      const message = 'the node "node01" does not allow migration with host-model';
      assert.deepEqual([live?.status, live?.reason, live?.message], reason ? ['False', reason, message] : ['True', undefined, undefined]);
      assert.equal(storage?.message, reason ? `${reason}: ${message}` : undefined);
    });
  }
  for (const [what, v, notMigratable, method, storage] of cases) {
    test(`${what} → ${notMigratable?.[0] ?? 'migratable'}, ${method}`, () => {
      const s = calculateStatus({ vmi: v, domain: undefined, launcher: 'ready', now });
      const live = s.conditions?.find((c) => c.type === 'LiveMigratable');
      assert.deepEqual(
        live,
        notMigratable
          ? { type: 'LiveMigratable', status: 'False', reason: notMigratable[0], message: notMigratable[1], ...times }
          : { type: 'LiveMigratable', status: 'True', ...times },
      );
      assert.equal(s.migrationMethod, method);
      const st = s.conditions?.find((c) => c.type === 'StorageLiveMigratable');
      assert.deepEqual(
        st,
        storage
          ? { type: 'StorageLiveMigratable', status: 'False', reason: 'NotMigratable', message: storage, ...times }
          : { type: 'StorageLiveMigratable', status: 'True', ...times },
      );
    });
  }
});

describe('sync errors and final phases (handleSyncError, updateVMIStatus)', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  test('a critical sync error fails the VMI, with its phase transition and Synchronized=False', () => {
    const s = calculateStatus({
      vmi: vmi('Scheduled'),
      domain: undefined,
      launcher: 'ready',
      now,
      syncError: 'failed to mark configuration as finished for default: EACCES',
      syncErrorIsCritical: true,
    });
    assert.equal(s.phase, 'Failed');
    assert.deepEqual(s.phaseTransitionTimestamps, [{ phase: 'Failed', phaseTransitionTimestamp: '2026-11-23T10:00:00Z' }]);
    assert.equal(s.conditions?.find((c) => c.type === 'Synchronized')?.status, 'False');
    const plain = calculateStatus({
      vmi: vmi('Scheduled'),
      domain: undefined,
      launcher: 'ready',
      now,
      syncError: 'pod link (eth0) is missing',
    });
    assert.equal(plain.phase, 'Scheduled');
  });

  test('Synchronized=False is kept (message and time) while the sync keeps failing', () => {
    const first = calculateStatus({ vmi: vmi('Scheduled'), domain: undefined, launcher: 'ready', now, syncError: 'a' });
    const again = calculateStatus({
      vmi: { ...vmi('Scheduled'), status: first },
      domain: undefined,
      launcher: 'ready',
      now: new Date('2026-11-23T10:05:00Z'),
      syncError: 'b',
    });
    assert.deepEqual(again.conditions, first.conditions);
  });

  test('a VMI in a final phase: the status is left exactly as it is', () => {
    for (const phase of ['Succeeded', 'Failed']) {
      const v = parseVMI({ ...vmi(phase), status: { phase, conditions: [{ type: 'Ready', status: 'False' }] } });
      const s = calculateStatus({ vmi: v, domain: domain('Paused', 'User'), launcher: 'ready', now, syncError: 'x' });
      assert.deepEqual(s, v.status);
    }
  });
});

describe('work queue (client-go semantics)', () => {
  test('a key is deduplicated, never processed twice at once, and re-processed if added meanwhile', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a'); // while processing: dirty, not queued twice
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'b');
    q.done('b');
    assert.equal(q.length, 0);
    q.done('a'); // now it comes back
    assert.equal(await q.get(), 'a');
    q.done('a');
    q.shutdown();
    assert.equal(await q.get(), undefined);
  });

  test('rate-limited requeues back off exponentially; forget resets', async (t) => {
    // mocked timers: the delays are checked exactly, whatever the machine's load
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const q = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 1000 });
    const requeuedAfter = async (ms: number) => {
      q.addRateLimited('k');
      t.mock.timers.tick(ms - 1);
      assert.equal(q.length, 0, `not back before ${ms} ms`);
      t.mock.timers.tick(1);
      assert.equal(q.length, 1, `back after ${ms} ms`);
      assert.equal(await q.get(), 'k');
      q.done('k');
    };
    await requeuedAfter(20);
    await requeuedAfter(40);
    await requeuedAfter(80);
    q.forget('k');
    await requeuedAfter(20);
    q.shutdown();
  });
});

describe('AccessCredentialsSynchronized from the domain metadata (updateAccessCredentialConditions)', () => {
  const earlier = '2020-01-01T00:00:00Z';
  const now = new Date('2026-01-01T00:00:00Z');
  const withResult = (result: { Succeeded: boolean; Message: string } | null) =>
    domain('Running', 'Unknown', (d) => {
      d.Spec.Metadata.KubeVirt.AccessCredential = result;
    });
  const cond = (status: string, message?: string) => ({
    type: 'AccessCredentialsSynchronized',
    status,
    lastProbeTime: null,
    lastTransitionTime: earlier,
    ...(message ? { message } : {}),
  });
  const failure = 'Error encountered setting password for user [nobody]: child process has failed';

  const cases: Array<[string, object | undefined, { Succeeded: boolean; Message: string } | null, object | undefined, boolean]> = [
    // what, condition before, launcher's result → condition after (undefined: none), transition now
    ['no result yet: no condition', undefined, null, undefined, false],
    ['no result yet: an old condition stays', cond('True'), null, cond('True'), false],
    ['success → True without message or reason', undefined, { Succeeded: true, Message: '' }, { status: 'True' }, true],
    ['failure → False with the message', undefined, { Succeeded: false, Message: failure }, { status: 'False', message: failure }, true],
    ['the same success again: kept as it was', cond('True'), { Succeeded: true, Message: '' }, cond('True'), false],
    ['True → False: replaced', cond('True'), { Succeeded: false, Message: failure }, { status: 'False', message: failure }, true],
    ['False → True: replaced, the message gone', cond('False', failure), { Succeeded: true, Message: '' }, { status: 'True' }, true],
    [
      'another failure message: replaced',
      cond('False', 'Guest agent is offline'),
      { Succeeded: false, Message: failure },
      { status: 'False', message: failure },
      true,
    ],
  ];
  for (const [what, before, result, after, transitioned] of cases) {
    test(what, () => {
      const v = vmi('Running');
      v.status = { ...v.status, conditions: before ? [before as never] : [] };
      const s = calculateStatus({ vmi: v, domain: withResult(result), launcher: 'ready', now });
      const got = s.conditions?.find((c) => c.type === 'AccessCredentialsSynchronized');
      if (after === undefined) return assert.equal(got, undefined);
      assert.ok(got, 'condition set');
      assert.equal(got.status, (after as { status: string }).status);
      assert.equal(got.message, (after as { message?: string }).message);
      assert.equal(got.reason, undefined, 'KubeVirt sets no reason');
      assert.equal(got.lastProbeTime, null);
      assert.equal(got.lastTransitionTime, transitioned ? now.toISOString().replace('.000Z', 'Z') : earlier);
    });
  }

  const events: Array<[string, object[], object[], object | undefined]> = [
    // what, conditions before, after → event
    ['no condition: no event', [], [], undefined],
    [
      'new True',
      [],
      [{ type: 'AccessCredentialsSynchronized', status: 'True' }],
      {
        type: 'Normal',
        reason: 'AccessCredentialsSyncSuccess',
        message: 'Access credentials sync successful.',
      },
    ],
    [
      'new True with a message',
      [],
      [{ type: 'AccessCredentialsSynchronized', status: 'True', message: 'm' }],
      {
        type: 'Normal',
        reason: 'AccessCredentialsSyncSuccess',
        message: 'Access credentials sync successful: m',
      },
    ],
    [
      'True → False',
      [{ type: 'AccessCredentialsSynchronized', status: 'True' }],
      [{ type: 'AccessCredentialsSynchronized', status: 'False', message: failure }],
      {
        type: 'Warning',
        reason: 'AccessCredentialsSyncFailed',
        message: `Access credentials sync failed: ${failure}`,
      },
    ],
    [
      'unchanged: no event',
      [{ type: 'AccessCredentialsSynchronized', status: 'False', message: failure }],
      [{ type: 'AccessCredentialsSynchronized', status: 'False', message: failure }],
      undefined,
    ],
  ];
  for (const [what, before, after, want] of events) {
    test(`event: ${what}`, () => {
      assert.deepEqual(accessCredentialEvent({ conditions: before as never }, { conditions: after as never }), want);
    });
  }
});

describe('memory dump volume status (updateMemoryDumpInfo)', () => {
  const now = new Date('2026-12-03T23:04:05Z');
  const target = 'vm-dumpvol-20261203-230405.memory.dump';
  const hotplugVolume = { attachPodName: 'hp-volume-abcde', attachPodUID: 'a1' };
  const started = '2026-12-03T23:04:06Z';
  const ended = '2026-12-03T23:04:09Z';
  /** The domain with the launcher's MemoryDump metadata (none: null). */
  const withMeta = (meta: object | null) =>
    domain('Running', 'Unknown', (d) => {
      d.Spec.Metadata.KubeVirt.MemoryDump =
        meta === null
          ? null
          : ({
              FileName: '',
              StartTimestamp: null,
              EndTimestamp: null,
              Completed: false,
              Failed: false,
              FailureReason: '',
              ...meta,
            } as never);
    });
  /** The VMI with the memory dump volume in its spec and its status as virt-controller (or an earlier round) left it. */
  const withDump = (status: object) =>
    parseVMI({
      ...vmi('Running'),
      spec: {
        domain: { devices: {} },
        volumes: [{ name: 'dumpvol', memoryDump: { claimName: 'dump-claim', hotpluggable: true } }],
      },
      status: { phase: 'Running', volumeStatus: [{ name: 'dumpvol', target: '', hotplugVolume, ...status }] },
    });
  const inProgress = {
    phase: 'MemoryDumpInProgress',
    reason: 'VolumeMountedToPod',
    message: 'Memory dump Volume dumpvol is attached, getting memory dump',
    memoryDumpVolume: { claimName: 'dump-claim', targetFileName: target },
  };

  const cases: Array<{ name: string; status: object; mounted?: boolean; meta?: object | null; want: object }> = [
    {
      name: 'attached to the node, now mounted → MountedToPod and on to InProgress, with the file to dump to',
      status: { phase: 'AttachedToNode', reason: 'SuccessfulCreate', memoryDumpVolume: { claimName: 'dump-claim' } },
      mounted: true,
      meta: null,
      want: inProgress,
    },
    {
      name: 'attached to the node, not mounted yet → unchanged',
      status: { phase: 'AttachedToNode', reason: 'SuccessfulCreate', memoryDumpVolume: { claimName: 'dump-claim' } },
      mounted: false,
      meta: null,
      want: { phase: 'AttachedToNode', reason: 'SuccessfulCreate', memoryDumpVolume: { claimName: 'dump-claim' } },
    },
    {
      name: 'in progress, no metadata yet (the launcher has not started) → unchanged',
      status: inProgress,
      meta: null,
      want: inProgress,
    },
    {
      name: "in progress, the metadata of an older dump's file → unchanged, its timestamps not taken",
      status: inProgress,
      meta: { FileName: 'vm-dumpvol-20261201-101010.memory.dump', StartTimestamp: started, EndTimestamp: ended, Completed: true },
      want: inProgress,
    },
    {
      name: 'in progress, the launcher dumping this file → still in progress, with its start',
      status: inProgress,
      meta: { FileName: target, StartTimestamp: started },
      want: { ...inProgress, memoryDumpVolume: { ...inProgress.memoryDumpVolume, startTimestamp: started } },
    },
    {
      name: 'in progress, this file completed → Completed (VolumeReady) with start and end',
      status: inProgress,
      meta: { FileName: target, StartTimestamp: started, EndTimestamp: ended, Completed: true },
      want: {
        phase: 'MemoryDumpCompleted',
        reason: 'VolumeReady',
        message: 'Memory dump to Volume dumpvol has completed successfully',
        memoryDumpVolume: { claimName: 'dump-claim', targetFileName: target, startTimestamp: started, endTimestamp: ended },
      },
    },
    {
      name: "in progress, this file failed → Failed with the launcher's reason, start and end",
      status: inProgress,
      meta: {
        FileName: target,
        StartTimestamp: started,
        EndTimestamp: ended,
        Completed: true,
        Failed: true,
        FailureReason: "Domain memory dump failed: virError(Code=9, Domain=10, Message='operation failed')",
      },
      want: {
        phase: 'MemoryDumpFailed',
        reason: 'VolumeMountedToPod',
        message: "Memory dump to pvc dumpvol failed: Domain memory dump failed: virError(Code=9, Domain=10, Message='operation failed')",
        memoryDumpVolume: { claimName: 'dump-claim', targetFileName: target, startTimestamp: started, endTimestamp: ended },
      },
    },
    {
      name: 'completed stays completed (a later dump needs a new volume status)',
      status: {
        phase: 'MemoryDumpCompleted',
        reason: 'VolumeReady',
        message: 'Memory dump to Volume dumpvol has completed successfully',
        memoryDumpVolume: { claimName: 'dump-claim', targetFileName: target, startTimestamp: started, endTimestamp: ended },
      },
      meta: { FileName: target, StartTimestamp: started, EndTimestamp: ended, Completed: true, Failed: true, FailureReason: 'x' },
      want: {
        phase: 'MemoryDumpCompleted',
        reason: 'VolumeReady',
        message: 'Memory dump to Volume dumpvol has completed successfully',
        memoryDumpVolume: { claimName: 'dump-claim', targetFileName: target, startTimestamp: started, endTimestamp: ended },
      },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const s = calculateStatus({
        vmi: withDump(c.status),
        domain: withMeta(c.meta ?? null),
        launcher: 'ready',
        now,
        hotplugMounted: () => c.mounted ?? true,
      });
      assert.deepEqual(s.volumeStatus, [{ name: 'dumpvol', target: '', hotplugVolume, ...c.want }]);
    });
  }

  test('looked at again while a dump is in progress (needsRefresh)', () => {
    assert.equal(hotplugVolumesPending({ volumeStatus: [{ name: 'dumpvol', target: '', ...inProgress }] }), true);
    assert.equal(
      hotplugVolumesPending({ volumeStatus: [{ name: 'dumpvol', target: 'vda', phase: 'MemoryDumpCompleted', memoryDumpVolume: {} }] }),
      false,
    );
  });

  test("the target file: <vmi>-<volume>-<YYYYMMDD-HHMMSS>.memory.dump on the handler's clock", () => {
    assert.equal(dumpTargetFile('my-vm', 'my-vol', new Date('2027-01-02T03:04:05.678Z')), 'my-vm-my-vol-20270102-030405.memory.dump');
  });
});
