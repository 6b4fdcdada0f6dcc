// The images scripts/build-images makes, read from the OCI archives it hands to containerd: the names
// CRI looks the manifests' images up by, the test guest in KubeVirt's containerDisk and kernel boot
// layouts, the pause image, and the base the Dockerfiles build on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { builtImages } from './real-node.ts';

interface Descriptor {
  digest: string;
  mediaType?: string;
  annotations?: Record<string, string>;
}
interface ImageConfig {
  config?: { Entrypoint?: string[]; Cmd?: string[]; User?: string; Env?: string[] };
}
/** A layer entry as `tar --numeric-owner -tv` lists it. */
interface Entry {
  mode: string;
  owner: string;
  path: string;
}

let images: Map<string, string>;
let dir: string;

before(async () => {
  images = new Map((await builtImages()).map((i) => [i.name, i.archive]));
  dir = mkdtempSync(path.join(tmpdir(), 'kvts-images-'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The image's config and the entries of all its layers. */
function open(name: string): { config: ImageConfig; entries: Entry[] } {
  const archive = images.get(name);
  assert.ok(archive, `scripts/build-images made ${name}`);
  const at = mkdtempSync(path.join(dir, 'img-'));
  execFileSync('tar', ['-xf', archive, '-C', at]);
  const blob = (digest: string) => path.join(at, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(path.join(at, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  assert.equal(index.manifests.length, 1);
  const top = index.manifests[0]!;
  const manifest = JSON.parse(readFileSync(blob(top.digest), 'utf8')) as { config: Descriptor; layers: Descriptor[] };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as ImageConfig;
  const entries = manifest.layers.flatMap((l) =>
    execFileSync('tar', ['--numeric-owner', '-tvf', blob(l.digest)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [mode = '', owner = '', , , , ...rest] = line.split(/\s+/);
        return {
          mode,
          owner,
          path: rest
            .join(' ')
            .replace(/^\.\//, '')
            .replace(/ -> .*$/, '')
            .replace(/\/$/, ''),
        };
      }),
  );
  return { config, entries };
}

test('every image carries the name CRI normalises the manifests’ short names to', () => {
  assert.deepEqual([...images.keys()].sort(), [
    'docker.io/kubevirt-ts/pause:latest',
    'docker.io/kubevirt-ts/test-guest:latest',
    'docker.io/kubevirt-ts/virt-handler:latest',
    'docker.io/kubevirt-ts/virt-launcher:latest',
    'docker.io/library/node:24-bookworm-slim',
  ]);
  for (const [name, archive] of images) {
    // index.json alone: the layers need not be unpacked for the name
    const index = JSON.parse(execFileSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' })) as { manifests: Descriptor[] };
    assert.equal(index.manifests[0]?.annotations?.['org.opencontainers.image.ref.name'], name, `${name}: the archive names it so`);
  }
});

test('the test guest is a containerDisk (/disk/, qemu 107:107) and a kernel boot container (/boot/)', () => {
  const { entries } = open('docker.io/kubevirt-ts/test-guest:latest');
  const files = entries.filter((e) => e.mode.startsWith('-'));
  assert.deepEqual(files.map((e) => e.path).sort(), ['boot/initrd.img', 'boot/vmlinux', 'disk/data.img']);
  for (const f of files) assert.equal(f.owner, '107/107', `${f.path} owned by qemu's uid and gid`);
});

test('the pause image is one static program that runs as nobody', () => {
  const { config, entries } = open('docker.io/kubevirt-ts/pause:latest');
  assert.deepEqual(
    entries.filter((e) => !e.mode.startsWith('d')).map((e) => e.path),
    ['pause'],
  );
  assert.deepEqual(config.config?.Entrypoint, ['/pause']);
  assert.equal(config.config?.User, '65535:65535');
});

test('the base is node:24-bookworm-slim as the Dockerfiles expect it: Node 24, npm, user node, the CA bundle', () => {
  const { config, entries } = open('docker.io/library/node:24-bookworm-slim');
  const paths = new Set(entries.map((e) => e.path));
  for (const p of [
    'usr/local/bin/node',
    'usr/local/bin/npm',
    'usr/local/bin/npx',
    'usr/local/lib/node_modules/npm/package.json',
    'etc/ssl/certs/ca-certificates.crt',
  ]) {
    assert.ok(paths.has(p), `${p} in the base`);
  }
  assert.equal(entries.find((e) => e.path === 'home/node')?.owner, '1000/1000', "user node's home, as the official image has it");
  assert.ok(config.config?.Env?.includes('NODE_VERSION=24.21.0'));
  assert.ok(config.config?.Env?.includes('NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'));
  assert.deepEqual(config.config?.Cmd, ['node']);
  // slimmed as Debian's images are: no manual pages
  assert.equal(
    [...paths].some((p) => p.startsWith('usr/share/man/') && p !== 'usr/share/man/'),
    false,
  );
});
