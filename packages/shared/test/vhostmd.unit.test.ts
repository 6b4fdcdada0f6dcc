// vhostmd's metrics disk as KubeVirt's vhostmd package writes it, read back byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { createVhostmdDisk, VHOSTMD_DISK_SIZE, writeVhostmdDisk } from '../src/vhostmd.ts';

function readDisk(file: string) {
  const b = readFileSync(file);
  const length = b.readInt32BE(12);
  return {
    signature: b.subarray(0, 4).toString('latin1'),
    flag: b.readInt32BE(4),
    checksum: b.readInt32BE(8),
    body: b.subarray(16, 16 + length).toString(),
  };
}

const sum = (s: string) => [...Buffer.from(s)].reduce((a, b) => a + b, 0);

test('createVhostmdDisk: 256 KiB, signature mvbd, unlocked, an empty metrics document with its checksum', (t) => {
  const dir = mkdtempSync('/tmp/kvts-vhostmd-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'vhostmd0');
  createVhostmdDisk(file);
  assert.equal(statSync(file).size, VHOSTMD_DISK_SIZE);
  assert.deepEqual(readDisk(file), { signature: 'mvbd', flag: 0, checksum: sum('<metrics></metrics>\n'), body: '<metrics></metrics>\n' });

  const fd = openSync(file, 'r+');
  try {
    writeVhostmdDisk(fd, '<metrics>\n  <metric type="string" context="host"></metric>\n</metrics>');
  } finally {
    closeSync(fd);
  }
  const written = readDisk(file);
  assert.equal(written.body, '<metrics>\n  <metric type="string" context="host"></metric>\n</metrics>\n');
  assert.equal(written.checksum, sum(written.body));
  assert.equal(written.flag, 0, 'unlocked once written');
  assert.equal(statSync(file).size, VHOSTMD_DISK_SIZE, 'the size stays');
  const tooBig = openSync(file, 'r+');
  try {
    assert.throws(
      () => writeVhostmdDisk(tooBig, 'x'.repeat(VHOSTMD_DISK_SIZE)),
      /vhostmd metrics body is too big, expected a maximum of 262120/,
    );
  } finally {
    closeSync(tooBig);
  }
});
