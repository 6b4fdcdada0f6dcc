// The VMI corpus (test/fixtures/vmis: KubeVirt's examples/ and user guide), each defaulted as virt-api's
// webhook leaves it, and the converter context a launcher pod would give it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parseVMI, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { applyWebhookDefaults } from '../../../test/bed/vmi-defaults.ts';
import type { ConverterContext, EFIEnvironment } from '../src/converter/index.ts';
import { POD_CONTEXT } from './pod-context.ts';

const DIR = path.join(import.meta.dirname, 'fixtures', 'vmis');

export interface CorpusVMI {
  file: string;
  /** As the user wrote it */
  written: Record<string, unknown>;
  /** As virt-handler sends it: webhook-defaulted, parsed as the launcher parses it */
  vmi: VirtualMachineInstance;
  /** For the unsupported ones: the field the error must name (the file's `# expect:` line) */
  expect?: string;
}

function load(dir: string, file: string): CorpusVMI {
  const text = readFileSync(path.join(dir, file), 'utf8');
  const written = parse(text) as Record<string, unknown>;
  const vmi = parseVMI(applyWebhookDefaults(written));
  const expect = /^# expect: (\S+)$/m.exec(text)?.[1];
  return expect ? { file, written, vmi, expect } : { file, written, vmi };
}

export function corpus(): CorpusVMI[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => load(DIR, f));
}

export function unsupportedCorpus(): CorpusVMI[] {
  const dir = path.join(DIR, 'unsupported');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => load(dir, f));
}

/** Volumes the test bed gives as block devices (a loop device at /dev/<volume>). */
export const BLOCK_VOLUMES: Readonly<Record<string, readonly string[]>> = { 'vmi-pvc-block': ['blockdisk'] };

/** A host of two CPUs on one NUMA cell, both in the pod's cpuset (what virt-handler and the cgroup say). */
export const HOST_TOPOLOGY = {
  numa_cells: [
    {
      id: 0,
      cpus: [
        { id: 0, siblings: [] },
        { id: 1, siblings: [] },
      ],
    },
  ],
};
export const POD_CPUSET = [0, 1];

/** The launcher's context for a corpus VMI: KubeVirt's pod paths, emulation, the given EFI roms. */
export function corpusContext(vmi: VirtualMachineInstance, efiEnvironment: EFIEnvironment): ConverterContext {
  const block = new Set(BLOCK_VOLUMES[vmi.metadata.name] ?? []);
  const isBlockPVC: Record<string, boolean> = {};
  const isBlockDV: Record<string, boolean> = {};
  const disksInfo: Record<string, { format: string }> = {};
  for (const v of vmi.spec.volumes ?? []) {
    if (v.persistentVolumeClaim) isBlockPVC[v.name] = block.has(v.name);
    if (v.dataVolume) isBlockDV[v.name] = block.has(v.name);
    // the launcher inspects each containerDisk image (disk-info.ts); the corpus's are raw
    if (v.containerDisk) disksInfo[v.name] = { format: 'raw' };
  }
  return {
    ...POD_CONTEXT,
    efiEnvironment,
    isBlockPVC,
    isBlockDV,
    disksInfo,
    topology: HOST_TOPOLOGY,
    cpuSet: POD_CPUSET,
    // what virt-handler sends (DomainAttachmentByInterfaceName): a tap for every masquerade and bridge NIC
    domainAttachmentByInterfaceName: Object.fromEntries(
      (vmi.spec.domain.devices?.interfaces ?? []).filter((i) => i.masquerade || i.bridge).map((i) => [i.name, 'tap']),
    ),
  };
}
