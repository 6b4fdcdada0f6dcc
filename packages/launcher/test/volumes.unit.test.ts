// What the launcher makes for a VMI's volumes before the domain starts: the ConfigDrive ISO, the ISOs
// of config volumes (read back with isoinfo), no hostDisk images (virt-handler's), and block-or-file for claims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseVMI } from '@kubevirt-ts/shared';
import { applyWebhookDefaults } from '../../../test/bed/vmi-defaults.ts';
import { SecretVolume, accessCredentialSecretPath } from '../../../test/bed/secret-volume.ts';
import { blockVolumes, prepareVolumes } from '../src/volumes.ts';
import { withDevices } from '../src/converter/index.ts';

const run = promisify(execFile);

async function iso(file: string): Promise<{ volumeID: string; files: string[] }> {
  const pvd = (await run('isoinfo', ['-d', '-i', file])).stdout;
  const listing = (await run('isoinfo', ['-f', '-R', '-i', file])).stdout;
  return { volumeID: /^Volume id: (.*)$/m.exec(pvd)?.[1] ?? '', files: listing.split('\n').filter(Boolean).sort() };
}

async function isoFile(file: string, name: string): Promise<string> {
  return (await run('isoinfo', ['-R', '-i', file, '-x', name])).stdout;
}

function dirs(t: { after: (fn: () => void) => void }) {
  const root = mkdtempSync('/tmp/kvts-volumes-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return { root, privateDir: path.join(root, 'private'), ephemeralDiskDir: path.join(root, 'ephemeral') };
}

const vmi = (spec: Record<string, unknown>) =>
  parseVMI(applyWebhookDefaults({ metadata: { name: 'v1', namespace: 'ns1', uid: 'c0ffee00-0000-4000-8000-000000000001' }, spec }));

test('ConfigDrive: config-2 with openstack/latest/{meta_data.json,user_data,network_data.json}', async (t) => {
  const ctx = dirs(t);
  const v = vmi({
    domain: { resources: { requests: { memory: '64Mi' } }, firmware: { uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223' } },
    volumes: [{ name: 'ci', cloudInitConfigDrive: { userData: '#cloud-config\n', networkData: 'version: 1\n' } }],
  });
  await prepareVolumes(v, ctx);
  const file = path.join(ctx.ephemeralDiskDir, 'cloud-init-data/ns1/v1/configdrive.iso');
  const got = await iso(file);
  assert.equal(got.volumeID, 'config-2');
  assert.deepEqual(got.files, [
    '/openstack',
    '/openstack/latest',
    '/openstack/latest/meta_data.json',
    '/openstack/latest/network_data.json',
    '/openstack/latest/user_data',
  ]);
  assert.equal(
    await isoFile(file, '/openstack/latest/meta_data.json'),
    '{"instance_id":"v1.ns1","hostname":"v1","uuid":"5d307ca9-b3ef-428c-8861-06e72d69f223"}',
  );
  assert.equal(await isoFile(file, '/openstack/latest/user_data'), '#cloud-config\n');
  assert.equal(statSync(file).size % (1024 * 1024), 0, "padded to whole 1 MiB cylinders, as KubeVirt's xorrisofs options make it");
});

test('ConfigDrive with an SSH key credential propagated by configDrive: public_keys in meta_data.json', async (t) => {
  const ctx = { ...dirs(t) };
  const secretSourceDir = path.join(ctx.root, 'secret');
  // eleven files: Go's map order puts key "10" before "2"
  const keys = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${String(i).padStart(2, '0')}`, `ssh-ed25519 K${i} <u${i}>\n`]));
  new SecretVolume(accessCredentialSecretPath(ctx.root, 'ssh')).write(keys);
  new SecretVolume(accessCredentialSecretPath(ctx.root, 'agent-keys')).write({ k: 'ssh-ed25519 NOT-HERE' });
  const v = vmi({
    domain: { resources: { requests: { memory: '64Mi' } }, firmware: { uuid: '5d307ca9-b3ef-428c-8861-06e72d69f223' } },
    volumes: [{ name: 'ci', cloudInitConfigDrive: { userData: '#cloud-config\n' } }],
    accessCredentials: [
      { sshPublicKey: { source: { secret: { secretName: 'ssh' } }, propagationMethod: { configDrive: {} } } },
      { sshPublicKey: { source: { secret: { secretName: 'agent-keys' } }, propagationMethod: { qemuGuestAgent: { users: ['u'] } } } },
    ],
  });
  await prepareVolumes(v, { ...ctx, secretSourceDir });
  const meta = await isoFile(path.join(ctx.ephemeralDiskDir, 'cloud-init-data/ns1/v1/configdrive.iso'), '/openstack/latest/meta_data.json');
  const order = ['0', '1', '10', '2', '3', '4', '5', '6', '7', '8', '9'];
  const expected = order.map((k) => `"${k}":"ssh-ed25519 K${k} \\u003cu${k}\\u003e\\n"`).join(',');
  assert.equal(meta, `{"instance_id":"v1.ns1","hostname":"v1","uuid":"5d307ca9-b3ef-428c-8861-06e72d69f223","public_keys":{${expected}}}`);
});

test('ConfigDrive with a configDrive key secret that is not mounted: ReadCloudInitVolumeDataSource fails', async (t) => {
  const ctx = dirs(t);
  const v = vmi({
    domain: { resources: { requests: { memory: '64Mi' } } },
    volumes: [{ name: 'ci', cloudInitConfigDrive: { userData: '#cloud-config\n' } }],
    accessCredentials: [{ sshPublicKey: { source: { secret: { secretName: 'gone' } }, propagationMethod: { configDrive: {} } } }],
  });
  const secretSourceDir = path.join(ctx.root, 'secret');
  await assert.rejects(prepareVolumes(v, { ...ctx, secretSourceDir }), {
    message: `ReadCloudInitVolumeDataSource failed: open ${secretSourceDir}/gone-access-cred: no such file or directory`,
  });
});

test('configMap, secret, downwardAPI and sysprep: an ISO of the mounted files, labelled as KubeVirt labels it', async (t) => {
  const ctx = dirs(t);
  const mount = (dir: string, files: Record<string, string>) => {
    mkdirSync(path.join(ctx.privateDir, dir), { recursive: true });
    for (const [f, content] of Object.entries(files)) writeFileSync(path.join(ctx.privateDir, dir, f), content);
  };
  mount('config-map/cm', { 'app.properties': 'a=1\n', 'b.txt': 'b' });
  mount('secret/sec', { password: 's3cret' });
  mount('downwardapi/labels', { labels: 'app="x"\n' });
  mount('sysprep/unattend', { 'Autounattend.xml': '<unattend/>' });
  mount('config-map/none', {});
  const v = vmi({
    domain: { resources: { requests: { memory: '64Mi' } } },
    volumes: [
      { name: 'cm', configMap: { name: 'app-config' } },
      { name: 'sec', secret: { secretName: 'app-secret', volumeLabel: 'secrets' } },
      { name: 'labels', downwardAPI: { fields: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'unattend', sysprep: { configMap: { name: 'sysprep' } } },
      { name: 'none', configMap: { name: 'empty-config' } },
    ],
  });
  await prepareVolumes(v, ctx);
  const cm = path.join(ctx.privateDir, 'config-map-disks/cm.iso');
  assert.deepEqual(await iso(cm), { volumeID: 'cfgdata', files: ['/app.properties', '/b.txt'] });
  assert.equal(await isoFile(cm, '/app.properties'), 'a=1\n');
  assert.equal(statSync(cm).size % (1024 * 1024), 0, 'padded to whole cylinders');
  assert.deepEqual(await iso(path.join(ctx.privateDir, 'secret-disks/sec.iso')), { volumeID: 'secrets', files: ['/password'] });
  assert.deepEqual(await iso(path.join(ctx.privateDir, 'downwardapi-disks/labels.iso')), { volumeID: 'cfgdata', files: ['/labels'] });
  assert.deepEqual(await iso(path.join(ctx.privateDir, 'sysprep-disks/unattend.iso')), {
    volumeID: 'unattendCD',
    files: ['/Autounattend.xml'],
  });
  assert.deepEqual(await iso(path.join(ctx.privateDir, 'config-map-disks/none.iso')), { volumeID: 'cfgdata', files: [] }, 'an empty ISO');
});

test('a config volume that is not mounted, or a sysprep without an answer file, fails the sync', async (t) => {
  const ctx = dirs(t);
  const spec = (volume: Record<string, unknown>) => ({ domain: { resources: { requests: { memory: '64Mi' } } }, volumes: [volume] });
  await assert.rejects(prepareVolumes(vmi(spec({ name: 'cm', configMap: { name: 'x' } })), ctx), /configMap volume cm: .* is not mounted/);
  mkdirSync(path.join(ctx.privateDir, 'sysprep/s'), { recursive: true });
  await assert.rejects(
    prepareVolumes(vmi(spec({ name: 's', sysprep: { secret: { name: 'x' } } })), ctx),
    /^Error: Sysprep drive should contain autounattend.xml or unattend.xml but neither were found.$/,
  );
});

test('hostDisk: the image is virt-handler’s to make; the launcher creates none', async (t) => {
  const ctx = dirs(t);
  const v = vmi({
    domain: { resources: { requests: { memory: '64Mi' } } },
    volumes: [{ name: 'hd', hostDisk: { path: '/var/data/disk.img', type: 'DiskOrCreate', capacity: '1Gi' } }],
  });
  await prepareVolumes(v, ctx);
  assert.throws(() => statSync(path.join(ctx.privateDir, 'vmi-disks/hd/disk.img')), /ENOENT/);
});

test('claims: a regular disk.img is a file system claim; neither it nor /dev/<volume> is an error', (t) => {
  const ctx = dirs(t);
  mkdirSync(path.join(ctx.privateDir, 'vmi-disks/fs'), { recursive: true });
  writeFileSync(path.join(ctx.privateDir, 'vmi-disks/fs/disk.img'), '');
  const spec = (volumes: unknown[]) => ({ domain: { resources: { requests: { memory: '64Mi' } } }, volumes });
  assert.deepEqual(blockVolumes(vmi(spec([{ name: 'fs', persistentVolumeClaim: { claimName: 'c' } }])), ctx), {
    isBlockPVC: { fs: false },
    isBlockDV: {},
  });
  assert.throws(
    () => blockVolumes(vmi(spec([{ name: 'nothere', dataVolume: { name: 'dv' } }])), ctx),
    /^Error: neither found block device nor regular file for volume nothere$/,
  );
  // /dev/null exists but is a character device
  assert.throws(
    () => blockVolumes(vmi(spec([{ name: 'null', persistentVolumeClaim: { claimName: 'c' } }])), ctx),
    /found \/dev\/null, but it's not a block device/,
  );
});

test('a config volume shared through virtiofs gets no ISO: it has no disk (createIsoDisksForConfigVolumes)', async (t) => {
  const ctx = dirs(t);
  mkdirSync(path.join(ctx.privateDir, 'config-map/cm'), { recursive: true });
  writeFileSync(path.join(ctx.privateDir, 'config-map/cm/a'), 'a');
  const v = vmi({
    domain: {
      resources: { requests: { memory: '64Mi' } },
      devices: {
        filesystems: [
          { name: 'cm', virtiofs: {} },
          { name: 'sec', virtiofs: {} },
        ],
      },
    },
    // the secret is not even mounted in the compute container's view: nothing reads it
    volumes: [
      { name: 'cm', configMap: { name: 'app-config' } },
      { name: 'sec', secret: { secretName: 'app-secret' } },
    ],
  });
  assert.deepEqual(v.spec.domain.devices?.disks ?? [], []);
  await prepareVolumes(v, ctx);
  for (const dir of ['config-map-disks', 'secret-disks']) {
    assert.throws(() => statSync(path.join(ctx.privateDir, dir)), { code: 'ENOENT' });
  }
});

test('a claim shared through virtiofs is not looked for in the compute container', (t) => {
  const ctx = dirs(t);
  const v = vmi({
    domain: { resources: { requests: { memory: '64Mi' } }, devices: { filesystems: [{ name: 'shared', virtiofs: {} }] } },
    volumes: [
      { name: 'shared', persistentVolumeClaim: { claimName: 'files' } },
      { name: 'dvshared', dataVolume: { name: 'dv' } },
    ],
  });
  // dvshared has a disk (the webhook's default) and no image: still an error
  assert.throws(() => blockVolumes(v, ctx), /^Error: neither found block device nor regular file for volume dvshared$/);
  v.spec.volumes = v.spec.volumes?.slice(0, 1);
  assert.deepEqual(blockVolumes(v, ctx), { isBlockPVC: {}, isBlockDV: {} });
});

test('ConfigDrive devices: after uuid and before public_keys, as ConfigDriveMetadata orders them; mac left out when empty', () => {
  const nic = { type: 'nic' as const, bus: 'pci', address: '0000:01:00.0', mac: '02:00:00:00:00:01', tags: ['a&b'] };
  assert.equal(
    withDevices('{"instance_id":"v1.ns1","uuid":"u","public_keys":{"k":"ssh"}}', [nic]),
    '{"instance_id":"v1.ns1","uuid":"u","devices":[{"type":"nic","bus":"pci","address":"0000:01:00.0","mac":"02:00:00:00:00:01","tags":["a\\u0026b"]}],"public_keys":{"k":"ssh"}}',
  );
  assert.equal(
    withDevices('{"instance_id":"v1.ns1"}', [{ ...nic, mac: '', tags: ['t'] }]),
    '{"instance_id":"v1.ns1","devices":[{"type":"nic","bus":"pci","address":"0000:01:00.0","tags":["t"]}]}',
  );
});
