// The agent store: updates fire only on real change (KubeVirt's AgentUpdated), and the documents the
// DomainManager serves for GetGuestInfo, GetUsers and GetFilesystems come out as Go marshals them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newDomain } from '@kubevirt-ts/shared';
import { AgentCommand, type Filesystem } from '../src/agent/parser.ts';
import { AsyncAgentStore, type AgentUpdatedEvent } from '../src/agent/store.ts';

const OS = {
  Name: 'kvts-testguest',
  KernelRelease: '6.1.0-56-amd64',
  Version: '1 (busybox)',
  PrettyName: 'kubevirt-ts test guest',
  VersionId: '1',
  KernelVersion: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)',
  Machine: 'x86_64',
  Id: 'kvts-testguest',
};
const ETH0 = { Mac: '52:54:00:12:34:56', Ip: '10.0.2.15', IPs: ['10.0.2.15', 'fe80::1'], InterfaceName: 'eth0' };
const DATA_FS: Filesystem = {
  name: 'vda',
  mountpoint: '/mnt/data',
  type: 'ext4',
  usedBytes: 15360,
  totalBytes: 7408640,
  disk: [{ serial: '', busType: 'virtio' }],
};

/** Read through a function so the asserts above do not narrow the type. */
function interfacesOf(domain: ReturnType<typeof newDomain>): Array<{ IPs: string[] | null }> | null {
  return domain.Status.Interfaces;
}

function recording(store: AsyncAgentStore): AgentUpdatedEvent[] {
  const events: AgentUpdatedEvent[] = [];
  store.onUpdate((e) => events.push(e));
  return events;
}

test('an update fires on the first value and on every change, never for an equal value', () => {
  const store = new AsyncAgentStore();
  const events = recording(store);
  store.store(AgentCommand.GET_HOSTNAME, 'testguest');
  store.store(AgentCommand.GET_HOSTNAME, 'testguest');
  store.store(AgentCommand.GET_INTERFACES, [ETH0]);
  store.store(AgentCommand.GET_INTERFACES, [{ ...ETH0, IPs: [...ETH0.IPs] }]);
  store.store(AgentCommand.GET_INTERFACES, [{ ...ETH0, Ip: '10.0.2.16' }]);
  store.store(AgentCommand.GET_USERS, []);
  store.store(AgentCommand.GET_USERS, []);
  assert.deepEqual(
    events.map((e) => e.key),
    ['guest-get-host-name', 'guest-network-get-interfaces', 'guest-network-get-interfaces', 'guest-get-users'],
  );
});

test('the update carries the Domain status pieces only for OS info, interfaces and fsfreeze, as KubeVirt does', () => {
  const store = new AsyncAgentStore();
  const events = recording(store);
  store.store(AgentCommand.GET_OSINFO, OS);
  store.store(AgentCommand.GET_USERS, [{ name: 'root', domain: '', loginTime: 1 }]);
  store.store(AgentCommand.GET_FSFREEZE_STATUS, { Status: 'thawed' });
  assert.deepEqual(events[0]?.domainInfo, { OSInfo: OS });
  assert.deepEqual(events[1]?.domainInfo, {});
  assert.deepEqual(events[2]?.domainInfo, { OSInfo: OS, FSFreezeStatus: { Status: 'thawed' } });
});

test('GetGuestInfo before the agent answered anything: only os {}, timezone ", 0" and fsInfo.disks null', () => {
  assert.equal(JSON.stringify(new AsyncAgentStore().guestInfo()), '{"os":{},"timezone":", 0","fsInfo":{"disks":null}}');
});

test('GetGuestInfo: VirtualMachineInstanceGuestAgentInfo with the agent data, keys in Go order', () => {
  const store = new AsyncAgentStore();
  store.store(AgentCommand.GET_AGENT, {
    version: '7.2.22',
    supportedCommands: [{ name: 'guest-get-devices' }, { name: 'guest-ping', enabled: true }],
  });
  store.store(AgentCommand.GET_HOSTNAME, 'testguest');
  store.store(AgentCommand.GET_OSINFO, { ...OS, VersionId: '' });
  store.store(AgentCommand.GET_TIMEZONE, { zone: 'UTC', offset: 0 });
  store.store(AgentCommand.GET_USERS, [{ name: 'root', domain: '', loginTime: 1795426843.5 }]);
  store.store(AgentCommand.GET_FILESYSTEM, [DATA_FS, { ...DATA_FS, name: 'vdb', mountpoint: '/mnt/b', disk: [] }]);
  store.store(AgentCommand.GET_FSFREEZE_STATUS, { Status: 'thawed' });
  assert.equal(
    JSON.stringify(store.guestInfo()),
    '{"guestAgentVersion":"7.2.22",' +
      '"supportedCommands":[{"name":"guest-get-devices"},{"name":"guest-ping","enabled":true}],' +
      '"hostname":"testguest",' +
      '"os":{"name":"kvts-testguest","kernelRelease":"6.1.0-56-amd64","version":"1 (busybox)","prettyName":"kubevirt-ts test guest",' +
      '"kernelVersion":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)","machine":"x86_64","id":"kvts-testguest"},' +
      '"timezone":"UTC, 0",' +
      '"userList":[{"userName":"root","loginTime":1795426843.5}],' +
      '"fsInfo":{"disks":[' +
      '{"diskName":"vda","mountPoint":"/mnt/data","fileSystemType":"ext4","usedBytes":15360,"totalBytes":7408640,"disk":[{"busType":"virtio"}]},' +
      '{"diskName":"vdb","mountPoint":"/mnt/b","fileSystemType":"ext4","usedBytes":15360,"totalBytes":7408640}]},' +
      '"fsFreezeStatus":"thawed"}',
  );
});

test('GetGuestInfo lists ten users and filesystems at most; GetUsers and GetFilesystems list all', () => {
  const store = new AsyncAgentStore();
  const users = Array.from({ length: 12 }, (_, i) => ({ name: `u${i}`, domain: i === 0 ? 'WIN' : '', loginTime: 0 }));
  store.store(AgentCommand.GET_USERS, users);
  store.store(
    AgentCommand.GET_FILESYSTEM,
    Array.from({ length: 11 }, (_, i) => ({ ...DATA_FS, name: `vd${i}` })),
  );
  assert.equal(store.guestInfo().userList?.length, 10);
  assert.equal(store.guestInfo().fsInfo?.disks?.length, 10);
  assert.equal(store.users().length, 12);
  assert.deepEqual(store.users().slice(0, 2), [{ userName: 'u0', domain: 'WIN' }, { userName: 'u1' }]);
  assert.equal(store.filesystems().length, 11);
});

test('GetUsers and GetFilesystems with nothing from the agent: empty arrays', () => {
  const store = new AsyncAgentStore();
  assert.equal(JSON.stringify(store.users()), '[]');
  assert.equal(JSON.stringify(store.filesystems()), '[]');
});

test('overlay puts the agent part of Domain.Status in place where the agent answered', () => {
  const store = new AsyncAgentStore();
  const domain = newDomain({ name: 'testvmi', namespace: 'default', uid: 'u' });
  store.overlay(domain);
  assert.ok(domain.Status.Interfaces === null, 'no interfaces before the agent reported any');
  assert.equal(domain.Status.OSInfo.Name, '');

  store.store(AgentCommand.GET_INTERFACES, [ETH0]);
  store.store(AgentCommand.GET_OSINFO, OS);
  store.store(AgentCommand.GET_FSFREEZE_STATUS, { Status: 'frozen' });
  store.overlay(domain);
  assert.deepEqual(domain.Status.Interfaces, [ETH0]);
  assert.deepEqual(domain.Status.OSInfo, OS);
  assert.deepEqual(domain.Status.FSFreezeStatus, { Status: 'frozen' });
  // a copy: editing the domain leaves the store alone
  const overlaid = interfacesOf(domain);
  overlaid?.[0]?.IPs?.push('x');
  assert.deepEqual(store.getInterfaceStatus(), [ETH0]);
});
