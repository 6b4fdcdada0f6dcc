// KubeVirt's launcher finds its EFI firmware under --ovmf-path by four file names; scripts/link-ovmf
// gives Debian's ovmf files those names (run by scripts/setup on the host and by Dockerfile.launcher in
// the image). Run here into a scratch root holding Debian's real files, then read by the converter's
// own detection: every name is found, code and variables are pairs of one build, the secure boot
// variables are the Microsoft-enrolled ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { detectEFIEnvironment } from '../src/converter/efi.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const DEBIAN_OVMF = '/usr/share/OVMF';

/** A root whose /usr/share/OVMF holds Debian's ovmf files (links to this machine's). */
function debianRoot(): string {
  assert.ok(
    existsSync(path.join(DEBIAN_OVMF, 'OVMF_CODE_4M.secboot.fd')),
    `${DEBIAN_OVMF} incomplete: install Debian's ovmf (scripts/setup)`,
  );
  const root = mkdtempSync('/tmp/kvts-ovmf-root-');
  const dir = path.join(root, 'usr/share/OVMF');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(DEBIAN_OVMF)) if (f !== 'OVMF_VARS.secboot.fd') symlinkSync(path.join(DEBIAN_OVMF, f), path.join(dir, f));
  return root;
}

const sameFile = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

test("scripts/link-ovmf: KubeVirt's names under /usr/share/edk2/ovmf (its default --ovmf-path) and /usr/share/OVMF", (t) => {
  const root = debianRoot();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  execFileSync('sh', [path.join(REPO, 'scripts/link-ovmf'), root]);
  execFileSync('sh', [path.join(REPO, 'scripts/link-ovmf'), root]); // idempotent

  const kubevirt = detectEFIEnvironment(path.join(root, 'usr/share/edk2/ovmf'));
  for (const [name, file] of Object.entries(kubevirt)) assert.notEqual(file, '', `${name} found`);
  // 4 MiB builds: the 2 MiB secure boot code does not start under TCG
  assert.ok(sameFile(kubevirt.code, path.join(DEBIAN_OVMF, 'OVMF_CODE_4M.fd')));
  assert.ok(sameFile(kubevirt.vars, path.join(DEBIAN_OVMF, 'OVMF_VARS_4M.fd')));
  assert.ok(sameFile(kubevirt.codeSecureBoot, path.join(DEBIAN_OVMF, 'OVMF_CODE_4M.secboot.fd')));
  assert.ok(sameFile(kubevirt.varsSecureBoot, path.join(DEBIAN_OVMF, 'OVMF_VARS_4M.ms.fd')), 'Microsoft keys enrolled');
  assert.equal(statSync(kubevirt.vars).size, statSync(kubevirt.varsSecureBoot).size);

  const older = detectEFIEnvironment(path.join(root, 'usr/share/OVMF'));
  for (const [name, file] of Object.entries(older)) assert.notEqual(file, '', `${name} found under /usr/share/OVMF`);
  assert.ok(sameFile(older.varsSecureBoot, path.join(DEBIAN_OVMF, 'OVMF_VARS.ms.fd')), 'the 2 MiB pair');
  assert.equal(statSync(older.codeSecureBoot).size, statSync(older.code).size);
});

test('scripts/link-ovmf runs in the launcher image after ovmf is installed, and in scripts/setup', () => {
  const dockerfile = readFileSync(path.join(REPO, 'Dockerfile.launcher'), 'utf8');
  const install = dockerfile.search(/apt-get install[^\n]*(\\\n[^\n]*)*\bovmf\b/);
  const run = dockerfile.indexOf('RUN sh /tmp/link-ovmf');
  assert.ok(install >= 0, 'Dockerfile.launcher installs ovmf');
  assert.ok(dockerfile.includes('COPY scripts/link-ovmf /tmp/link-ovmf'), 'Dockerfile.launcher copies scripts/link-ovmf');
  assert.ok(run > install, 'and runs it after the install');
  assert.match(readFileSync(path.join(REPO, 'scripts/setup'), 'utf8'), /^sh scripts\/link-ovmf$/m);
});
