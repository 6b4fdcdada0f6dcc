// The disks the launcher makes before it defines the domain, made with the real qemu-img and xorrisofs
// and read back with isoinfo: a container disk's overlay over its image, an empty disk, the NoCloud ISO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseVMI } from '@kubevirt-ts/shared';
import { applyWebhookDefaults } from '../../../test/bed/vmi-defaults.ts';
import { SecretVolume, accessCredentialSecretPath } from '../../../test/bed/secret-volume.ts';
import { prepareDisks } from '../src/disk-preparation.ts';
import { withSecretData } from '../src/cloud-init-data.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;

interface ImageInfo {
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'backing-filename-format'?: string;
}

async function imageInfo(file: string): Promise<ImageInfo> {
  return JSON.parse((await run('qemu-img', ['info', '--output=json', file])).stdout) as ImageInfo;
}

function context(t: { after: (fn: () => void) => void }) {
  const root = mkdtempSync('/tmp/kvts-disks-');
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return {
    allowEmulation: true,
    hypervisorDeviceAvailable: false,
    virtShareDir: path.join(root, 'share'),
    privateDir: path.join(root, 'private'),
    containerDiskDir: path.join(root, 'container-disks'),
    ephemeralDiskDir: path.join(root, 'ephemeral'),
    emptyDiskDir: path.join(root, 'empty-disks'),
  };
}

const vmi = (volumes: unknown[]) =>
  parseVMI(
    applyWebhookDefaults({
      metadata: { name: 'v1', namespace: 'ns1', uid: 'c0ffee00-0000-4000-8000-000000000002' },
      spec: { domain: { resources: { requests: { memory: '64Mi' } } }, volumes },
    }),
  );

test('a container disk gets a qcow2 overlay backed by its image, in the format the launcher found', async (t) => {
  const ctx = context(t);
  mkdirSync(ctx.containerDiskDir, { recursive: true });
  const image = path.join(ctx.containerDiskDir, 'disk_1.img');
  await run('qemu-img', ['create', '-f', 'qcow2', image, '16M']);
  const v = vmi([
    { name: 'ci', cloudInitNoCloud: { userData: '#cloud-config\n' } },
    { name: 'root', containerDisk: { image: 'example/disk' } },
  ]);
  await prepareDisks(v, { ...ctx, disksInfo: { root: { format: 'qcow2' } } });
  const overlay = await imageInfo(path.join(ctx.ephemeralDiskDir, 'disk-data/root/disk.qcow2'));
  assert.equal(overlay.format, 'qcow2');
  assert.equal(overlay['backing-filename'], image, 'the image of volume index 1');
  assert.equal(overlay['backing-filename-format'], 'qcow2');
  assert.equal(overlay['virtual-size'], 16 * 1024 * 1024);
});

test('a missing container disk image fails the preparation, naming the volume', async (t) => {
  const ctx = context(t);
  await assert.rejects(
    prepareDisks(vmi([{ name: 'root', containerDisk: { image: 'example/disk' } }]), ctx),
    /container disk image .*disk_0\.img of volume root does not exist/,
  );
});

test('an empty disk is a blank qcow2 of its capacity rounded down to a MiB, kept across preparations', async (t) => {
  const ctx = context(t);
  const v = vmi([{ name: 'scratch', emptyDisk: { capacity: '10Mi' } }]);
  await prepareDisks(v, ctx);
  const file = path.join(ctx.emptyDiskDir, 'scratch.qcow2');
  const info = await imageInfo(file);
  assert.equal(info.format, 'qcow2');
  assert.equal(info['virtual-size'], 10 * 1024 * 1024);
  assert.equal(info['backing-filename'], undefined);
  // a second sync (a launcher restart) must not wipe what the guest wrote
  await run('qemu-io', ['-c', 'write -P 0x5a 0 4k', file]);
  await prepareDisks(v, ctx);
  const read = await run('qemu-io', ['-c', 'read -P 0x5a 0 4k', file]);
  assert.doesNotMatch(read.stdout, /Pattern verification failed/);
});

test('cloudInitNoCloud: a cidata ISO with user-data, meta-data and network-config, renamed over a planted symlink', async (t) => {
  const ctx = context(t);
  const dir = path.join(ctx.ephemeralDiskDir, 'cloud-init-data/ns1/v1');
  mkdirSync(dir, { recursive: true });
  const victim = path.join(ctx.ephemeralDiskDir, 'victim');
  writeFileSync(victim, 'untouched');
  symlinkSync(victim, path.join(dir, 'noCloud.iso'));
  const v = vmi([{ name: 'ci', cloudInitNoCloud: { userData: '#cloud-config\n', networkData: 'version: 2\n' } }]);
  await prepareDisks(v, ctx);
  const file = path.join(dir, 'noCloud.iso');
  const pvd = (await run('isoinfo', ['-d', '-i', file])).stdout;
  assert.match(pvd, /^Volume id: cidata$/m);
  const listing = (await run('isoinfo', ['-f', '-R', '-i', file])).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(listing, ['/meta-data', '/network-config', '/user-data']);
  assert.equal((await run('isoinfo', ['-R', '-i', file, '-x', '/user-data'])).stdout, '#cloud-config\n');
  const metaData = JSON.parse((await run('isoinfo', ['-R', '-i', file, '-x', '/meta-data'])).stdout) as Record<string, string>;
  assert.equal(metaData['local-hostname'], 'v1');
  assert.match(metaData['instance-id'] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'the firmware UUID');
  assert.equal((await run('isoinfo', ['-R', '-i', file, '-x', '/network-config'])).stdout, 'version: 2\n');
  assert.equal(readFileSync(victim, 'utf8'), 'untouched', 'the symlink was replaced, not written through');
  assert.equal(existsSync(`${file}.d`), false, 'the staging directory is gone');
  assert.equal(statSync(file).size % MiB, 0, "padded to whole 1 MiB cylinders, as KubeVirt's xorrisofs options make it");
});

test('cloudInitNoCloud with SSH key credentials propagated by noCloud: public-keys in meta-data, one per secret file', async (t) => {
  const ctx = context(t);
  const secretSourceDir = path.join(ctx.privateDir, 'secret');
  new SecretVolume(accessCredentialSecretPath(ctx.privateDir, 'a')).write({ two: 'ssh-rsa B b\n', one: 'ssh-ed25519 A a\n', empty: '' });
  new SecretVolume(accessCredentialSecretPath(ctx.privateDir, 'b')).write({ k: 'ssh-ed25519 C c' });
  const v = vmi([{ name: 'ci', cloudInitNoCloud: { userData: '#cloud-config\n' } }]);
  v.spec.accessCredentials = [
    { sshPublicKey: { source: { secret: { secretName: 'a' } }, propagationMethod: { noCloud: {} } } },
    { sshPublicKey: { source: { secret: { secretName: 'b' } }, propagationMethod: { noCloud: {} } } },
  ];
  await prepareDisks(v, { ...ctx, secretSourceDir });
  const file = path.join(ctx.ephemeralDiskDir, 'cloud-init-data/ns1/v1/noCloud.iso');
  const metaData = JSON.parse((await run('isoinfo', ['-R', '-i', file, '-x', '/meta-data'])).stdout) as Record<string, unknown>;
  // files in name order (empty skipped), the secrets in the credentials' order; whole files, untrimmed
  assert.deepEqual(metaData['public-keys'], { '0': 'ssh-ed25519 A a\n', '1': 'ssh-rsa B b\n', '2': 'ssh-ed25519 C c' });
  assert.deepEqual(Object.keys(metaData), ['instance-id', 'local-hostname', 'public-keys']);
});

test('cloudInitNoCloud without credentials: no public-keys (omitempty)', async (t) => {
  const ctx = context(t);
  await prepareDisks(vmi([{ name: 'ci', cloudInitNoCloud: { userData: '#cloud-config\n' } }]), ctx);
  const file = path.join(ctx.ephemeralDiskDir, 'cloud-init-data/ns1/v1/noCloud.iso');
  const metaData = JSON.parse((await run('isoinfo', ['-R', '-i', file, '-x', '/meta-data'])).stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(metaData), ['instance-id', 'local-hostname']);
});

test('cloud-init secrets: userdata or userData, networkdata or networkData from <secretSourceDir>/<volume>; none there is an error', (t) => {
  const dir = mkdtempSync('/tmp/kvts-ci-secret-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const volume = (source: object) => ({ name: 'ci', cloudInitConfigDrive: source });
  mkdirSync(path.join(dir, 'ci'));
  writeFileSync(path.join(dir, 'ci', 'userData'), '#cloud-config from the secret\n');
  writeFileSync(path.join(dir, 'ci', 'networkdata'), 'version: 2\n');
  const both = withSecretData(volume({ secretRef: { name: 's' }, networkDataSecretRef: { name: 's' }, userData: 'inline' }), dir);
  assert.deepEqual(
    [both.cloudInitConfigDrive?.userData, both.cloudInitConfigDrive?.networkData],
    ['#cloud-config from the secret\n', 'version: 2\n'],
  );
  const inline = volume({ userData: 'inline' });
  assert.equal(withSecretData(inline, dir), inline, 'no secretRef: the volume as it is');
  assert.throws(
    () => withSecretData({ name: 'other', cloudInitNoCloud: { secretRef: { name: 's' } } }, dir),
    /^Error: no cloud-init data-source found at volume: other$/,
  );
});
