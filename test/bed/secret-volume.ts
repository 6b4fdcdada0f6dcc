// Plays the kubelet for a secret volume: the layout its atomic writer keeps. The data lives in
// `..<timestamp>/`, `..data` links to it and each key links through `..data`; an update is a new
// directory and `..data` renamed over the old link, so a reader sees the old or the new secret, never
// half of one.
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class SecretVolume {
  readonly dir: string;
  #generation = 0;
  constructor(dir: string) {
    this.dir = dir;
  }

  write(data: Record<string, string>): void {
    mkdirSync(this.dir, { recursive: true });
    const ts = `..2026_01_01_00_00_00.${String(++this.#generation).padStart(9, '0')}`;
    mkdirSync(path.join(this.dir, ts));
    for (const [k, v] of Object.entries(data)) writeFileSync(path.join(this.dir, ts, k), v);
    symlinkSync(ts, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    for (const entry of readdirSync(this.dir)) {
      if (entry.startsWith('..')) {
        if (entry !== ts && entry !== '..data') rmSync(path.join(this.dir, entry), { recursive: true });
      } else if (!(entry in data)) {
        rmSync(path.join(this.dir, entry));
      }
    }
    for (const k of Object.keys(data)) {
      rmSync(path.join(this.dir, k), { force: true });
      symlinkSync(path.join('..data', k), path.join(this.dir, k));
    }
  }
}

/** Where virt-controller mounts an access credential's secret in the launcher pod (rendervolumes.go). */
export const accessCredentialSecretPath = (privateVolume: string, secretName: string) =>
  path.join(privateVolume, 'secret', `${secretName}-access-cred`);
