// The guest-agent reply parsers on replies captured from the test guest's qemu-ga 7.2 (through
// libvirt's qemuAgentCommand), and on replies they must refuse without throwing anything but
// AgentReplyError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AgentReplyError,
  parseAgent,
  parseFilesystem,
  parseFSFreezeStatus,
  parseGuestOSInfo,
  parseHostname,
  parseInterfaces,
  parseTimezone,
  parseUsers,
} from '../src/agent/parser.ts';

// Captured from the test guest (guest-info trimmed to four of its 42 commands).
const CAPTURED = {
  'guest-info':
    '{"return":{"version":"7.2.22","supported_commands":[{"enabled":false,"name":"guest-get-devices","success-response":true},{"enabled":true,"name":"guest-get-osinfo","success-response":true},{"enabled":true,"name":"guest-get-users","success-response":true},{"enabled":true,"name":"guest-ping","success-response":true}]}}',
  'guest-get-osinfo':
    '{"return":{"name":"kvts-testguest","kernel-release":"6.1.0-56-amd64","version":"1 (busybox)","pretty-name":"kubevirt-ts test guest","version-id":"1","kernel-version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)","machine":"x86_64","id":"kvts-testguest"}}',
  'guest-get-host-name': '{"return":{"host-name":"testguest"}}',
  'guest-get-timezone': '{"return":{"zone":"UTC","offset":0}}',
  'guest-network-get-interfaces':
    '{"return":[{"name":"lo","ip-addresses":[{"ip-address-type":"ipv4","ip-address":"127.0.0.1","prefix":8},{"ip-address-type":"ipv6","ip-address":"::1","prefix":128}],"statistics":{"tx-packets":0,"tx-errs":0,"rx-bytes":0,"rx-dropped":0,"rx-packets":0,"rx-errs":0,"tx-bytes":0,"tx-dropped":0},"hardware-address":"00:00:00:00:00:00"},{"name":"eth0","ip-addresses":[{"ip-address-type":"ipv6","ip-address":"fec0::5054:ff:fe1e:5f77","prefix":64},{"ip-address-type":"ipv6","ip-address":"fe80::5054:ff:fe1e:5f77","prefix":64}],"statistics":{"tx-packets":10,"tx-errs":0,"rx-bytes":1400,"rx-dropped":0,"rx-packets":4,"rx-errs":0,"tx-bytes":1356,"tx-dropped":0},"hardware-address":"52:54:00:1e:5f:77"}]}',
  'guest-get-users': '{"return":[{"login-time":1795426843,"user":"root"}]}',
  'guest-get-fsinfo':
    '{"return":[{"name":"vda","total-bytes":7408640,"mountpoint":"/mnt/data","disk":[{"bus-type":"virtio","bus":0,"unit":0,"pci-controller":{"bus":4,"slot":0,"domain":0,"function":0},"dev":"/dev/vda","target":0}],"used-bytes":15360,"type":"ext4"}]}',
  'guest-fsfreeze-status': '{"return":"thawed"}',
};

test('guest-info → version and commands; enabled is omitempty as in v1.GuestAgentCommandInfo', () => {
  assert.deepEqual(parseAgent(CAPTURED['guest-info']), {
    version: '7.2.22',
    supportedCommands: [
      { name: 'guest-get-devices' },
      { name: 'guest-get-osinfo', enabled: true },
      { name: 'guest-get-users', enabled: true },
      { name: 'guest-ping', enabled: true },
    ],
  });
});

test('guest-get-osinfo → api.GuestOSInfo from the guest os-release', () => {
  assert.deepEqual(parseGuestOSInfo(CAPTURED['guest-get-osinfo']), {
    Name: 'kvts-testguest',
    KernelRelease: '6.1.0-56-amd64',
    Version: '1 (busybox)',
    PrettyName: 'kubevirt-ts test guest',
    VersionId: '1',
    KernelVersion: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)',
    Machine: 'x86_64',
    Id: 'kvts-testguest',
  });
});

test('guest-get-host-name and guest-get-timezone', () => {
  assert.equal(parseHostname(CAPTURED['guest-get-host-name']), 'testguest');
  assert.deepEqual(parseTimezone(CAPTURED['guest-get-timezone']), { zone: 'UTC', offset: 0 });
  // A guest without a zone name reports the offset only (Windows does, in seconds).
  assert.deepEqual(parseTimezone('{"return":{"offset":-18000}}'), { zone: '', offset: -18000 });
});

test('guest-network-get-interfaces → api.InterfaceStatus without lo; an IPv6-only NIC takes its first address', () => {
  assert.deepEqual(parseInterfaces(CAPTURED['guest-network-get-interfaces']), [
    {
      Mac: '52:54:00:1e:5f:77',
      Ip: 'fec0::5054:ff:fe1e:5f77',
      IPs: ['fec0::5054:ff:fe1e:5f77', 'fe80::5054:ff:fe1e:5f77'],
      InterfaceName: 'eth0',
    },
  ]);
});

test('guest-network-get-interfaces: the first IPv4 address is the main IP, wherever it is listed', () => {
  const reply = JSON.stringify({
    return: [
      {
        name: 'eth0',
        'hardware-address': '52:54:00:12:34:56',
        'ip-addresses': [
          { 'ip-address-type': 'ipv6', 'ip-address': 'fe80::1', prefix: 64 },
          { 'ip-address-type': 'ipv4', 'ip-address': '10.0.2.15', prefix: 24 },
          { 'ip-address-type': 'ipv4', 'ip-address': '10.0.2.16', prefix: 24 },
        ],
      },
      // an interface without addresses at all (the key is missing)
      { name: 'eth1', 'hardware-address': '52:54:00:12:34:57' },
    ],
  });
  assert.deepEqual(parseInterfaces(reply), [
    { Mac: '52:54:00:12:34:56', Ip: '10.0.2.15', IPs: ['fe80::1', '10.0.2.15', '10.0.2.16'], InterfaceName: 'eth0' },
    { Mac: '52:54:00:12:34:57', Ip: '', IPs: [], InterfaceName: 'eth1' },
  ]);
  assert.deepEqual(parseInterfaces('{"return":[]}'), []);
});

test('guest-get-users → api.User; a Windows user has a domain; login-time is fractional seconds', () => {
  assert.deepEqual(parseUsers(CAPTURED['guest-get-users']), [{ name: 'root', domain: '', loginTime: 1795426843 }]);
  assert.deepEqual(parseUsers('{"return":[{"user":"Administrator","domain":"WIN-1","login-time":1700000000.25}]}'), [
    { name: 'Administrator', domain: 'WIN-1', loginTime: 1700000000.25 },
  ]);
  assert.deepEqual(parseUsers('{"return":[]}'), []);
});

test('guest-get-fsinfo → api.Filesystem with its disks (serial omitted by the guest stays empty)', () => {
  assert.deepEqual(parseFilesystem(CAPTURED['guest-get-fsinfo']), [
    {
      name: 'vda',
      mountpoint: '/mnt/data',
      type: 'ext4',
      usedBytes: 15360,
      totalBytes: 7408640,
      disk: [{ serial: '', busType: 'virtio' }],
    },
  ]);
  // used/total are absent for pseudo filesystems; Go leaves them 0
  assert.deepEqual(
    parseFilesystem('{"return":[{"name":"sr0","mountpoint":"/media","type":"iso9660","disk":[{"serial":"QM00001","bus-type":"sata"}]}]}'),
    [{ name: 'sr0', mountpoint: '/media', type: 'iso9660', usedBytes: 0, totalBytes: 0, disk: [{ serial: 'QM00001', busType: 'sata' }] }],
  );
});

test('guest-fsfreeze-status → api.FSFreeze; an empty status is refused', () => {
  assert.deepEqual(parseFSFreezeStatus(CAPTURED['guest-fsfreeze-status']), { Status: 'thawed' });
  assert.deepEqual(parseFSFreezeStatus('{"return":"frozen"}'), { Status: 'frozen' });
  assert.throws(() => parseFSFreezeStatus('{"return":""}'), AgentReplyError);
});

test('bad replies are refused with AgentReplyError, never anything else', () => {
  const bad: Array<[(reply: string) => unknown, string]> = [
    [parseGuestOSInfo, 'not json'],
    [parseGuestOSInfo, '{"error":{"class":"CommandNotFound","desc":"not found"}}'],
    [parseGuestOSInfo, '{"return":[]}'],
    [parseInterfaces, '{"return":{"name":"eth0"}}'],
    [parseInterfaces, '{"return":[{"name":"eth0","ip-addresses":[{"ip-address":42}]}]}'],
    [parseUsers, '{"return":[{"user":"root","login-time":"yesterday"}]}'],
    [parseFilesystem, '{"return":[{"name":"vda","used-bytes":1.5}]}'],
    [parseTimezone, '{"return":{"zone":"UTC","offset":"0"}}'],
    [parseHostname, '{"return":"testguest"}'],
    [parseAgent, '{"return":{"version":7}}'],
    [parseFSFreezeStatus, '{"return":{}}'],
    [parseAgent, ''],
  ];
  for (const [parse, reply] of bad) {
    assert.throws(() => parse(reply), AgentReplyError, `${parse.name}(${reply})`);
  }
});

test('like Go, unknown keys are ignored and missing or null keys take zero values', () => {
  assert.deepEqual(parseGuestOSInfo('{"return":{"id":"x","name":null,"variant":"server"}}'), {
    Name: '',
    KernelRelease: '',
    Version: '',
    PrettyName: '',
    VersionId: '',
    KernelVersion: '',
    Machine: '',
    Id: 'x',
  });
  assert.deepEqual(parseAgent('{"return":{}}'), { version: '', supportedCommands: [] });
  assert.deepEqual(parseUsers('{"return":null}'), []);
});
