// This process's mount points, as /proc/self/mountinfo lists them.
import { readFileSync } from 'node:fs';

/** Mount points at or under `dir`, deepest first (a path mounted twice shows twice). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((t): t is string => t !== undefined && (t === dir || t.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}
