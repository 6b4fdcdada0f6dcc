// hardware.ParseCPUSetLine (pkg/util/hardware): a cpuset list as cgroups and libvirt write it.

/** `0-3,8,10-11` → [0, 1, 2, 3, 8, 10, 11]; at most `limit` CPUs. */
export function parseCPUSetLine(line: string, limit = 50000): number[] {
  const cpus: number[] = [];
  for (const part of line.trim().split(',').filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`failed to parse cpuset file: invalid cpuset ${JSON.stringify(line.trim())}`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from + cpus.length > limit) throw new Error(`failed to parse cpuset file: invalid range ${part}`);
    for (let c = from; c <= to; c++) cpus.push(c);
  }
  return cpus;
}
