// The node labeller's confidential-computing labels (SEV, SEV-ES, SEV-SNP, TDX), which this machine's
// libvirt cannot show (node-labeller.test.ts labels a Node from the real files, where all are
// unsupported): node-labeller.sh's three files written here as a host with each feature would have
// them, read by loadNodeLabellerData, labelled by prepareLabels as KubeVirt's prepareLabels does.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CapabilitiesFile,
  DomCapabilitiesFile,
  HypervLabel,
  SEVESLabel,
  SEVLabel,
  SEVSNPLabel,
  SupportedFeaturesFile,
  TDXLabel,
  loadNodeLabellerData,
  prepareLabels,
} from '../src/node-labeller.ts';

const CONFIDENTIAL = [SEVLabel, SEVESLabel, SEVSNPLabel, TDXLabel];

/** virsh domcapabilities of a host: a host-model CPU (the labeller requires one) and the given <features> body. */
const domCapabilities = (features: string) => `<domainCapabilities>
  <path>/usr/bin/qemu-system-x86_64</path>
  <cpu>
    <mode name='host-model' supported='yes'>
      <model fallback='forbid'>EPYC-Milan</model>
      <vendor>AMD</vendor>
      <feature policy='require' name='x2apic'/>
    </mode>
    <mode name='custom' supported='yes'>
      <model usable='yes'>EPYC-Milan</model>
    </mode>
  </cpu>
  <features>
${features}
  </features>
</domainCapabilities>
`;

const SUPPORTED_FEATURES = `<cpu mode='custom' match='exact'>
  <model fallback='forbid'>EPYC-Milan</model>
  <feature policy='require' name='x2apic'/>
</cpu>
`;

const CAPABILITIES = `<capabilities>
  <host><cpu><arch>x86_64</arch></cpu></host>
  <guest><os_type>hvm</os_type><arch name='x86_64'><machine>pc-q35-7.2</machine><machine>q35</machine></arch></guest>
</capabilities>
`;

const SEV = (maxESGuests: number) => `    <sev supported='yes'>
      <cbitpos>51</cbitpos>
      <reducedPhysBits>1</reducedPhysBits>
      <maxGuests>509</maxGuests>
      <maxESGuests>${maxESGuests}</maxESGuests>
    </sev>`;

const LAUNCH_SECURITY = (...types: string[]) => `    <launchSecurity supported='yes'>
      <enum name='sectype'>
${types.map((t) => `        <value>${t}</value>`).join('\n')}
      </enum>
    </launchSecurity>`;

describe('node labeller: SEV, SEV-ES, SEV-SNP and TDX labels from virsh domcapabilities', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** The labeller's confidential-computing labels for a host whose domcapabilities have `features`. */
  const labelsFor = (features: string): string[] => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kvts-node-labeller-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, DomCapabilitiesFile), domCapabilities(features));
    writeFileSync(path.join(dir, SupportedFeaturesFile), SUPPORTED_FEATURES);
    writeFileSync(path.join(dir, CapabilitiesFile), CAPABILITIES);
    const labels = prepareLabels({
      data: loadNodeLabellerData(dir),
      obsoleteCPUModels: undefined,
      hypervFeatures: [],
      realtimeCapable: false,
    });
    for (const l of CONFIDENTIAL) if (l in labels) assert.equal(labels[l], 'true', l);
    assert.deepEqual(
      Object.keys(labels).filter((l) => l.startsWith(HypervLabel)),
      [],
      'no Hyper-V labels: KubeVirt reads those from KVM, which this labeller does not probe',
    );
    return CONFIDENTIAL.filter((l) => l in labels);
  };

  test('nothing supported → none of the labels', () => {
    assert.deepEqual(labelsFor(`    <sev supported='no'/>\n    <tdx supported='no'/>`), []);
    assert.deepEqual(labelsFor(''), []);
  });

  test('SEV without ES guests (maxESGuests 0) → kubevirt.io/sev only', () => {
    assert.deepEqual(labelsFor(SEV(0)), [SEVLabel]);
  });

  test('SEV with ES guests → sev and sev-es; sev-snp needs launchSecurity listing sev-snp as well', () => {
    assert.deepEqual(labelsFor(SEV(15)), [SEVLabel, SEVESLabel]);
    assert.deepEqual(labelsFor(`${SEV(15)}\n${LAUNCH_SECURITY('sev', 'sev-snp')}`), [SEVLabel, SEVESLabel, SEVSNPLabel]);
    // launchSecurity offering sev-snp on a host with no ES guests gives no SNP label either
    assert.deepEqual(labelsFor(`${SEV(0)}\n${LAUNCH_SECURITY('sev', 'sev-snp')}`), [SEVLabel]);
  });

  test('TDX supported → kubevirt.io/tdx', () => {
    assert.deepEqual(labelsFor(`    <sev supported='no'/>\n    <tdx supported='yes'/>\n${LAUNCH_SECURITY('tdx')}`), [TDXLabel]);
  });
});
