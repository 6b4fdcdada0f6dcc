// KubeVirt's hooks Manager (pkg/hooks/manager.go) against real grpc-js hook sidecars on unix sockets
// laid out as in the pod: <dir>/<container>/<name>.sock. Collect, OnDefineDomain, PreCloudInitIso, Shutdown.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { createLogger, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { HooksManager, applySidecarHooks, type CloudInitData } from '../src/hooks/manager.ts';
import { preCloudInitIsoHook } from '../src/hooks/cloud-init.ts';
import { cloudInitFiles, readCloudInitData } from '../src/cloud-init-data.ts';
import { SecretVolume } from '../../../test/bed/secret-volume.ts';
import {
  BASEBOARD_MANUFACTURER_ANNOTATION,
  smbiosOnDefineDomain,
  startHookSidecar,
  type HookSidecarOptions,
  type RunningHookSidecar,
} from '../../../test/bed/hook-sidecar.ts';

const logger = createLogger({ component: 'virt-launcher', level: 'silent' });
const DOMAIN_XML = '<domain type="qemu"><name>default_testvmi</name><os><type arch="x86_64" machine="q35">hvm</type></os></domain>';

const vmi = (annotations: Record<string, string> = {}) =>
  ({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'testvmi', namespace: 'default', uid: 'u-1', annotations },
    spec: { domain: { devices: {} } },
  }) as VirtualMachineInstance;

/** A hook that records what it got and appends `<!--name-->` before </domain>. */
const marking = (name: string, seen: { xml: string; vmi: string }[] = []): HookSidecarOptions['onDefineDomain'] => {
  return (req) => {
    seen.push({ xml: req.domainXML.toString(), vmi: req.vmi.toString() });
    return { domainXML: Buffer.from(req.domainXML.toString().replace('</domain>', `<!--${name}--></domain>`)) };
  };
};

let root: string;
let dir: string;
let n = 0;
const sidecars: RunningHookSidecar[] = [];

async function sidecar(container: string, o: Omit<HookSidecarOptions, 'socketPath'>): Promise<RunningHookSidecar> {
  const s = await startHookSidecar({ socketPath: path.join(dir, container, `${o.name ?? 'hook'}.sock`), ...o });
  sidecars.push(s);
  return s;
}

before(() => {
  root = mkdtempSync('/tmp/kvhook'); // short: unix socket paths stay below 108 bytes
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('HooksManager', () => {
  // each test its own hooks directory, as each pod has its own
  const fresh = () => {
    dir = path.join(root, String(n++));
    mkdirSync(dir);
    return new HooksManager({ logger, socketDir: dir });
  };
  afterEach(async () => {
    await Promise.all(sidecars.splice(0).map((s) => s.stop()));
  });

  test('Collect waits for all N sockets: a sidecar that comes up later, a socket not served yet', async () => {
    const m = fresh();
    await sidecar('hook-sidecar-0', { name: 'first', onDefineDomain: marking('first') });
    // a sidecar's socket file that nobody serves yet (KubeVirt: "might not be ready yet", tried again)
    mkdirSync(path.join(dir, 'hook-sidecar-1'));
    writeFileSync(path.join(dir, 'hook-sidecar-1', 'late.sock'), '');
    let done = false;
    const collected = m.collect(2, 20_000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(done, false, 'Collect returned with one of two sidecars');
    rmSync(path.join(dir, 'hook-sidecar-1', 'late.sock'));
    const late = await sidecar('hook-sidecar-1', { name: 'late', onDefineDomain: marking('late') });
    await collected;
    assert.deepEqual(m.callbacks('OnDefineDomain'), [path.join(dir, 'hook-sidecar-0', 'first.sock'), late.socketPath]);
    assert.deepEqual(late.calls, ['Info']);
  });

  test("Collect fails after its timeout with too few sidecars, in KubeVirt's words", async () => {
    const m = fresh();
    await sidecar('hook-sidecar-0', { name: 'only' });
    await assert.rejects(m.collect(2, 800), { message: 'Failed to collect all expected sidecar hook sockets within given timeout' });
  });

  test('Collect picks the newest version a sidecar exposes and refuses one it does not support', async () => {
    const m = fresh();
    await sidecar('hook-sidecar-0', { name: 'old', info: () => ({ name: 'old', versions: ['v1alpha9', 'v0'], hookPoints: [] }) });
    await assert.rejects(m.collect(1, 5_000), {
      message:
        'Hook sidecar does not expose a supported version. Exposed versions: [v1alpha9 v0], supported versions: [v1alpha3 v1alpha2 v1alpha1]',
    });
  });

  test('OnDefineDomain: hooks run by priority (higher first, equal ones in socket order), each given the previous XML and the VMI', async () => {
    const m = fresh();
    const seen: { xml: string; vmi: string }[] = [];
    await sidecar('a', { name: 'low', hookPoints: [{ name: 'OnDefineDomain', priority: 0 }], onDefineDomain: marking('low', seen) });
    await sidecar('b', {
      name: 'high',
      version: 'v1alpha1',
      hookPoints: [{ name: 'OnDefineDomain', priority: 10 }],
      onDefineDomain: marking('high', seen),
    });
    await sidecar('c', {
      name: 'low2',
      version: 'v1alpha2',
      hookPoints: [{ name: 'OnDefineDomain', priority: 0 }],
      onDefineDomain: marking('low2', seen),
    });
    await m.collect(3, 5_000);
    const out = await m.onDefineDomain(DOMAIN_XML, vmi({ x: 'y' }));
    assert.equal(out, DOMAIN_XML.replace('</domain>', '<!--high--><!--low--><!--low2--></domain>'));
    assert.deepEqual(
      seen.map((s) => s.xml),
      [
        DOMAIN_XML,
        DOMAIN_XML.replace('</domain>', '<!--high--></domain>'),
        DOMAIN_XML.replace('</domain>', '<!--high--><!--low--></domain>'),
      ],
    );
    for (const s of seen) assert.deepEqual(JSON.parse(s.vmi), vmi({ x: 'y' }));
  });

  test('OnDefineDomain without subscribers returns the XML unchanged and calls nobody', async () => {
    const m = fresh();
    const s = await sidecar('a', { name: 'cloudinit-only', hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }] });
    await m.collect(1, 5_000);
    assert.equal(await m.onDefineDomain(DOMAIN_XML, vmi()), DOMAIN_XML);
    assert.deepEqual(s.calls, ['Info']);
  });

  test("the smbios hook's change reaches the XML to define, which still parses as a domain", async () => {
    const m = fresh();
    await sidecar('hook-sidecar-0', {
      name: 'smbios',
      onDefineDomain: (req) => ({ domainXML: Buffer.from(smbiosOnDefineDomain(req.vmi, req.domainXML)) }),
    });
    await m.collect(1, 5_000);
    const apply = applySidecarHooks(m);
    const xml = await apply(DOMAIN_XML, vmi({ [BASEBOARD_MANUFACTURER_ANNOTATION]: 'Radical Edward' }));
    assert.match(xml, /<os><smbios mode="sysinfo"\/>/);
    assert.match(xml, /<sysinfo type="smbios"><baseBoard><entry name="manufacturer">Radical Edward<\/entry><\/baseBoard><\/sysinfo>/);
    assert.equal(await apply(DOMAIN_XML, vmi()), DOMAIN_XML, 'no annotation, no change');
  });

  test("a hook's error fails OnDefineDomain with gRPC's status text; later hooks are not called", async () => {
    const m = fresh();
    await sidecar('a', { name: 'broken', onDefineDomain: () => Promise.reject(new Error('Failed to unmarshal given VMI spec')) });
    const next = await sidecar('b', { name: 'next', onDefineDomain: marking('next') });
    await m.collect(2, 5_000);
    await assert.rejects(m.onDefineDomain(DOMAIN_XML, vmi()), {
      message: 'rpc error: code = Unknown desc = Failed to unmarshal given VMI spec',
    });
    assert.deepEqual(next.calls, ['Info']);
  });

  test('a bad reply is a clear error: an empty domainXML, XML that is no domain', async () => {
    const m = fresh();
    await sidecar('a', { name: 'empty', onDefineDomain: () => ({}) });
    await m.collect(1, 5_000);
    await assert.rejects(
      m.onDefineDomain(DOMAIN_XML, vmi()),
      /hook sidecar empty \(.*a\/empty\.sock\) OnDefineDomain returned an empty domainXML/,
    );

    const m2 = fresh();
    await sidecar('a', { name: 'garbage', onDefineDomain: () => ({ domainXML: Buffer.from('<domain><name>x</nme></domain>') }) });
    await m2.collect(1, 5_000);
    await assert.rejects(applySidecarHooks(m2)(DOMAIN_XML, vmi()), /^Error: the hook sidecars' domain XML does not parse: /);
  });

  test('a sidecar gone after Collect: OnDefineDomain fails naming its socket', async () => {
    const m = fresh();
    const s = await sidecar('a', { name: 'gone', onDefineDomain: marking('gone') });
    await m.collect(1, 5_000);
    await s.stop();
    await assert.rejects(m.onDefineDomain(DOMAIN_XML, vmi()), /^Error: Failed to Dial hook socket: .*a\/gone\.sock/);
  });

  const data: CloudInitData = {
    DataSource: 'noCloud',
    NoCloudMetaData: { 'instance-id': 'u-1', 'local-hostname': 'testvmi' },
    UserData: '#cloud-config\n',
    NetworkData: '',
    VolumeName: 'cloudinit',
  };

  test('PreCloudInitIso: the first v1alpha2+ hook rewrites the CloudInitData; v1alpha1 sidecars are skipped', async () => {
    const m = fresh();
    const got: object[] = [];
    await sidecar('a', { name: 'v1', version: 'v1alpha1', hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }] });
    await sidecar('b', {
      name: 'userdata',
      version: 'v1alpha2',
      hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }],
      preCloudInitIso: (req) => {
        got.push(
          JSON.parse(req.cloudInitData.toString()),
          JSON.parse(req.cloudInitNoCloudSource.toString()),
          JSON.parse(req.vmi.toString()),
        );
        const d = JSON.parse(req.cloudInitData.toString()) as CloudInitData;
        return { cloudInitData: Buffer.from(JSON.stringify({ ...d, UserData: '#cloud-config\npassword: hooked\n' })) };
      },
    });
    await m.collect(2, 5_000);
    const out = await m.preCloudInitIso(vmi(), data);
    assert.equal(out.UserData, '#cloud-config\npassword: hooked\n');
    assert.deepEqual(out.NoCloudMetaData, data.NoCloudMetaData);
    assert.deepEqual(got, [data, { userData: '#cloud-config\n', networkData: '' }, vmi()]);
  });

  test('PreCloudInitIso: a reply without valid CloudInitData is read as the legacy CloudInitNoCloudSource', async () => {
    const m = fresh();
    await sidecar('a', {
      name: 'legacy',
      hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }],
      preCloudInitIso: () => ({ cloudInitData: Buffer.from('null'), cloudInitNoCloudSource: Buffer.from('{"userData":"legacy"}') }),
    });
    await m.collect(1, 5_000);
    assert.deepEqual(await m.preCloudInitIso(vmi(), data), { DataSource: 'noCloud', UserData: 'legacy', NetworkData: '', VolumeName: '' });
  });

  test('PreCloudInitIso: cloudInitData that is not JSON is a clear error', async () => {
    const m = fresh();
    await sidecar('a', {
      name: 'bad',
      hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }],
      preCloudInitIso: () => ({ cloudInitData: Buffer.from('{oops') }),
    });
    await m.collect(1, 5_000);
    await assert.rejects(m.preCloudInitIso(vmi(), data), /^Error: hook sidecar bad \(.*\) PreCloudInitIso: cloudInitData: /);
  });

  test("the ISO's files: the cloud-init volume's data, SSH keys included, through the hook; unchanged without subscribers; a hook error named", async () => {
    const secrets = path.join(root, `secrets-${n}`);
    new SecretVolume(path.join(secrets, 'my-keys-access-cred')).write({ key1: 'ssh-ed25519 AAAA first', key2: 'ssh-ed25519 BBBB second' });
    const withNoCloud = {
      ...vmi(),
      spec: {
        domain: { devices: {} },
        accessCredentials: [{ sshPublicKey: { source: { secret: { secretName: 'my-keys' } }, propagationMethod: { noCloud: {} } } }],
        volumes: [
          { name: 'disk0', emptyDisk: { capacity: '1Mi' } },
          { name: 'cloudinit', cloudInitNoCloud: { userDataBase64: Buffer.from('#cloud-config\n').toString('base64') } },
        ],
      },
    } as VirtualMachineInstance;
    const source = readCloudInitData(withNoCloud, secrets);
    assert.ok(source);
    const none = fresh();
    await none.collect(0, 1_000);
    const unchanged = await preCloudInitIsoHook(none)(withNoCloud, source.data);
    assert.equal(cloudInitFiles(source, unchanged), source.files, "no subscriber: the converter's files");

    const m = fresh();
    let got: CloudInitData | undefined;
    await sidecar('a', {
      name: 'userdata',
      hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }],
      preCloudInitIso: (req) => {
        got = JSON.parse(req.cloudInitData.toString()) as CloudInitData;
        return { cloudInitData: Buffer.from(JSON.stringify({ ...got, UserData: 'hooked', NetworkData: 'net' })) };
      },
    });
    await m.collect(1, 5_000);
    const out = await preCloudInitIsoHook(m)(withNoCloud, source.data);
    const keys = { '0': 'ssh-ed25519 AAAA first', '1': 'ssh-ed25519 BBBB second' };
    assert.deepEqual(got, {
      DataSource: 'noCloud',
      NoCloudMetaData: { 'instance-id': 'u-1', 'local-hostname': 'testvmi', 'public-keys': keys },
      UserData: '#cloud-config\n',
      NetworkData: '',
      VolumeName: 'cloudinit',
    });
    // the metadata the hook left alone keeps the converter's bytes
    assert.deepEqual(cloudInitFiles(source, out), { userData: 'hooked', networkData: 'net', metaData: source.files.metaData });

    // a hook that changes the metadata: the ISO has its metadata
    const renamed = { ...out, NoCloudMetaData: { ...out.NoCloudMetaData, 'local-hostname': 'from-the-hook' } };
    assert.deepEqual(JSON.parse(cloudInitFiles(source, renamed).metaData), {
      'instance-id': 'u-1',
      'local-hostname': 'from-the-hook',
      'public-keys': keys,
    });

    // ConfigDrive: its metadata under ConfigDriveMetaData, the keys as public_keys
    const withConfigDrive = {
      ...withNoCloud,
      spec: {
        ...withNoCloud.spec,
        accessCredentials: [{ sshPublicKey: { source: { secret: { secretName: 'my-keys' } }, propagationMethod: { configDrive: {} } } }],
        volumes: [{ name: 'cd', cloudInitConfigDrive: { userData: '#cloud-config\n' } }],
      },
    } as VirtualMachineInstance;
    const cd = readCloudInitData(withConfigDrive, secrets);
    assert.deepEqual(cd?.data, {
      DataSource: 'configDrive',
      ConfigDriveMetaData: { instance_id: 'testvmi.default', hostname: 'testvmi', uuid: 'u-1', public_keys: keys },
      UserData: '#cloud-config\n',
      NetworkData: '',
      VolumeName: 'cd',
    });
    assert.equal(readCloudInitData(vmi(), secrets), undefined, 'no cloud-init volume: no data');

    const broken = fresh();
    await sidecar('a', {
      name: 'broken',
      hookPoints: [{ name: 'PreCloudInitIso', priority: 0 }],
      preCloudInitIso: () => Promise.reject(new Error('no')),
    });
    await broken.collect(1, 5_000);
    await assert.rejects(preCloudInitIsoHook(broken)(withNoCloud, source.data), {
      message: 'PreCloudInitIso hook failed: rpc error: code = Unknown desc = no',
    });
  });

  test('Shutdown calls the v1alpha3 subscribers', async () => {
    const m = fresh();
    const s = await sidecar('a', { name: 'bye', hookPoints: [{ name: 'Shutdown', priority: 0 }], shutdown: () => ({}) });
    await m.collect(1, 5_000);
    await m.shutdown();
    assert.deepEqual(s.calls, ['Info', 'Shutdown']);
  });
});
