// virtiofs filesystems as KubeVirt's converter writes them (storage.VirtiofsConfigurator,
// MemoryBackingConfigurator, configureSyntheticNUMA, SetDefaultVolumeDisk): table tests on the XML;
// and the test bed's virtiofs container against virt-controller's rendering of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { VirtioFSContainers, VirtioFSContainersMountBaseDir, type VirtualMachineInstance } from '@kubevirt-ts/shared';
import { kubevirtVirtiofsdArgs, virtioFSMountPoint, VIRTIOFSD_PROGRAM, type SharedVolume } from '../../../test/bed/virtiofs-container.ts';
import { launcherPod } from '../../../test/node/manifests.ts';
import { domainSpecToXML } from '../src/api/index.ts';
import { ConversionError, convertVMIToDomainSpec, type ConverterContext } from '../src/converter/index.ts';
import { POD_CONTEXT } from './pod-context.ts';

const execFileP = promisify(execFile);

const UID = '11111111-2222-3333-4444-555555555555';
const ctx: ConverterContext = POD_CONTEXT;

/** VMI JSON as a cluster sends it (claim names and other fields the schema passes through untyped). */
type Loose = Record<string, unknown>;
type Volumes = { name: string; [kind: string]: unknown }[];

function vmi(spec: { volumes?: Volumes }, domain: Loose = {}, annotations?: Record<string, string>): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name: 'fsvmi', namespace: 'default', uid: UID, ...(annotations ? { annotations } : {}) },
    spec: {
      domain: { resources: { requests: { memory: '128Mi' } }, devices: { autoattachPodInterface: false }, ...domain },
      ...spec,
    },
  } as VirtualMachineInstance;
}

/** A VMI sharing `volumes` through virtiofs, each under its own name. */
function sharing(volumes: Volumes, domain: Loose = {}, annotations?: Record<string, string>) {
  const filesystems = volumes.map((v) => ({ name: v.name, virtiofs: {} }));
  return vmi({ volumes }, { ...domain, devices: { autoattachPodInterface: false, filesystems } }, annotations);
}

const flat = (xml: string) =>
  xml
    .split('\n')
    .map((l) => l.trim())
    .join('\n');
function convert(v: VirtualMachineInstance): string {
  return flat(domainSpecToXML(convertVMIToDomainSpec(v, ctx)));
}

const filesystemXML = (name: string) =>
  flat(`<filesystem type="mount" accessMode="passthrough">
	<source dir="" socket="/var/run/kubevirt/virtiofs-containers/${name}.sock"></source>
	<target dir="${name}"></target>
	<driver type="virtiofs" queue="1024"></driver>
</filesystem>`);

const SHARED_MEMFD = flat(`<memoryBacking>
	<source type="memfd"></source>
	<access mode="shared"></access>
</memoryBacking>`);

const VOLUME_KINDS: [string, Volumes][] = [
  ['persistentVolumeClaim', [{ name: 'pvc', persistentVolumeClaim: { claimName: 'shared-claim' } }]],
  ['dataVolume', [{ name: 'dv', dataVolume: { name: 'shared-dv' } }]],
  ['configMap', [{ name: 'cm', configMap: { name: 'app-config' } }]],
  ['secret', [{ name: 'sec', secret: { secretName: 'app-secret' } }]],
  ['serviceAccount', [{ name: 'sa', serviceAccount: { serviceAccountName: 'default' } }]],
  ['downwardAPI', [{ name: 'dapi', downwardAPI: { fields: [] } }]],
];

for (const [kind, volumes] of VOLUME_KINDS) {
  test(`a ${kind} volume shared through virtiofs: KubeVirt's filesystem device, shared memfd memory, no disk`, () => {
    const name = volumes[0]?.name ?? '';
    const xml = convert(sharing(volumes));
    assert.ok(xml.includes(filesystemXML(name)), `filesystem of ${name} in\n${xml}`);
    assert.ok(xml.includes(SHARED_MEMFD), `shared memfd backing in\n${xml}`);
    // memfd needs the synthetic NUMA cell (configureSyntheticNUMA): all vCPUs, the guest's memory in KiB
    assert.ok(xml.includes('<numa>\n<cell id="0" cpus="0-0" memory="131072" unit="KiB"></cell>\n</numa>'), xml);
    // SetDefaultVolumeDisk: a volume a filesystem names gets no disk (no ISO, no image)
    assert.ok(!xml.includes('<disk '), `no disk in\n${xml}`);
  });
}

test('two filesystems in the VMI order, beside a disk of another volume', () => {
  const v = vmi(
    {
      volumes: [
        { name: 'b', persistentVolumeClaim: { claimName: 'b' } },
        { name: 'a', configMap: { name: 'a' } },
        { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      ],
    },
    {
      devices: {
        autoattachPodInterface: false,
        disks: [{ name: 'data', disk: { bus: 'virtio' } }],
        filesystems: [
          { name: 'b', virtiofs: {} },
          { name: 'a', virtiofs: {} },
        ],
      },
    },
  );
  const xml = convert(v);
  const b = xml.indexOf(filesystemXML('b'));
  const a = xml.indexOf(filesystemXML('a'));
  assert.ok(b >= 0 && a > b, `b then a in\n${xml}`);
  assert.equal(xml.match(/<disk /g)?.length, 1);
  assert.ok(xml.includes('<source file="/var/run/kubevirt-private/vmi-disks/data/disk.img"'), xml);
});

test('hugepages with virtiofs: hugepages, memfd and shared access together; memfd even when the annotation says false', () => {
  const volumes = [{ name: 'pvc', persistentVolumeClaim: { claimName: 'c' } }];
  const huge = { memory: { guest: '1Gi', hugepages: { pageSize: '2Mi' } } };
  const expected = flat(`<memoryBacking>
	<hugepages></hugepages>
	<source type="memfd"></source>
	<access mode="shared"></access>
</memoryBacking>`);
  assert.ok(convert(sharing(volumes, huge)).includes(expected));
  // the annotation only turns memfd off for hugepages; virtiofs needs it regardless
  assert.ok(convert(sharing(volumes, huge, { 'kubevirt.io/memfd': 'false' })).includes(expected));
});

test('without filesystems nothing is shared: no filesystem, no memoryBacking, no NUMA cell', () => {
  const xml = convert(vmi({ volumes: [{ name: 'pvc', persistentVolumeClaim: { claimName: 'c' } }] }));
  for (const absent of ['<filesystem', '<memoryBacking', '<numa']) assert.ok(!xml.includes(absent), `${absent} in\n${xml}`);
});

test('a filesystem without virtiofs is skipped, as VirtiofsConfigurator skips it (and its volume gets no disk)', () => {
  const v = vmi(
    { volumes: [{ name: 'pvc', persistentVolumeClaim: { claimName: 'c' } }] },
    { devices: { autoattachPodInterface: false, filesystems: [{ name: 'pvc' }] } },
  );
  const xml = convert(v);
  for (const absent of ['<filesystem', '<memoryBacking', '<disk ']) assert.ok(!xml.includes(absent), `${absent} in\n${xml}`);
});

test('an unknown field of a filesystem fails the conversion naming it', () => {
  const v = vmi(
    { volumes: [{ name: 'pvc', persistentVolumeClaim: { claimName: 'c' } }] },
    { devices: { autoattachPodInterface: false, filesystems: [{ name: 'pvc', virtiofs: {}, cache: 'none' }] } },
  );
  assert.throws(
    () => convertVMIToDomainSpec(v, ctx),
    (e: unknown) =>
      e instanceof ConversionError && e.message.includes('spec.domain.devices.filesystems[0].cache') && e.message.includes('not supported'),
  );
  // virtiofs is an empty struct: anything in it is unknown too
  const inner = vmi(
    { volumes: [{ name: 'pvc', persistentVolumeClaim: { claimName: 'c' } }] },
    { devices: { autoattachPodInterface: false, filesystems: [{ name: 'pvc', virtiofs: { queue: 8 } }] } },
  );
  assert.throws(() => convertVMIToDomainSpec(inner, ctx), /spec\.domain\.devices\.filesystems\[0\]\.virtiofs\.queue/);
});

const facts = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../../../test/fixtures/kubevirt/virtiofs-containers.json'), 'utf8'),
) as {
  podVolume: { name: string; computeMountPath: string };
  domainFilesystem: { driver: { queue: string }; source: { socket: string } };
  containers: {
    volume: SharedVolume;
    name: string;
    command: string[];
    args: string[];
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  securityContext: object;
  resources: object;
};

test("the socket directory and the device are KubeVirt's (test/fixtures/kubevirt/virtiofs-containers.json)", () => {
  assert.equal(VirtioFSContainers, facts.podVolume.name);
  assert.equal(VirtioFSContainersMountBaseDir, facts.podVolume.computeMountPath);
  const xml = convert(sharing([{ name: 'x', persistentVolumeClaim: { claimName: 'c' } }]));
  assert.ok(xml.includes(`socket="${facts.domainFilesystem.source.socket.replace('<filesystem name>', 'x')}"`), xml);
  assert.ok(xml.includes(`queue="${facts.domainFilesystem.driver.queue}"`), xml);
});

/** Runs the image's /usr/libexec/virtiofsd with a C daemon that prints what it got: uid, uid_map, argv. */
async function shim(args: readonly string[], user?: number): Promise<{ uid: string; uidMap: string; argv: string[] }> {
  const dir = mkdtempSync('/tmp/kvts-virtiofsd-');
  try {
    chmodSync(dir, 0o755);
    const fake = path.join(dir, 'c-virtiofsd');
    writeFileSync(fake, '#!/bin/sh\nid -u\ntr -s " " < /proc/self/uid_map\nfor a; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
    const env = { ...process.env, KUBEVIRT_TS_C_VIRTIOFSD: fake };
    const argv = ['sh', VIRTIOFSD_PROGRAM, ...args];
    // KubeVirt's container: 107, every capability dropped, no privilege escalation
    const cmd =
      user === undefined
        ? argv
        : [
            'setpriv',
            `--reuid=${user}`,
            `--regid=${user}`,
            '--clear-groups',
            '--inh-caps=-all',
            '--bounding-set=-all',
            '--no-new-privs',
            '--',
            ...argv,
          ];
    const { stdout } = await execFileP(cmd[0] as string, cmd.slice(1), { env });
    const [uid = '', uidMap = '', ...rest] = stdout.split('\n');
    return { uid, uidMap: uidMap.trim(), argv: rest.slice(0, -1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const c of facts.containers) {
  test(`${c.name}: the test bed renders virt-controller's arguments; the image's virtiofsd gives the C daemon their equivalents`, async () => {
    assert.deepEqual(kubevirtVirtiofsdArgs(c.volume), c.args);
    // the shared dir is where the volume is mounted (the pod's own service account mount for serviceAccount)
    const own = c.volumeMounts.find((m) => m.name === c.volume.name);
    if (own) assert.equal(virtioFSMountPoint(c.volume), own.mountPath);
    const got = await shim(c.args, 107);
    assert.deepEqual(got.argv, [
      `--socket-path=/var/run/kubevirt/virtiofs-containers/${c.volume.name}.sock`,
      '-o',
      `source=${virtioFSMountPoint(c.volume)}`,
      '-o',
      'sandbox=chroot',
      '-o',
      'cache=auto',
    ]);
    // root of a user namespace that maps the container's user alone
    assert.deepEqual([got.uid, got.uidMap], ['0', '0 107 1']);
  });
}

test("the image's virtiofsd as root runs the C daemon as it is; an option it cannot take is refused by name", async () => {
  const asRoot = await shim(['--socket-path=/s.sock', '--shared-dir=/a dir', '--sandbox=namespace']);
  assert.deepEqual(asRoot, {
    uid: '0',
    uidMap: '0 0 4294967295',
    argv: ['--socket-path=/s.sock', '-o', 'source=/a dir', '-o', 'sandbox=namespace'],
  });
  await assert.rejects(shim(['--thread-pool-size=4']), (e: { code?: number; stderr?: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? '', /virtiofsd: --thread-pool-size=4: not supported by this image's virtiofsd/);
    return true;
  });
});

test("the real node's virt-controller stand-in renders a configMap's virtiofs container as virt-controller does", () => {
  const fact = facts.containers.find((c) => c.volume.configMap);
  assert.ok(fact, 'a configMap container in the facts');
  const pod = launcherPod({
    vmi: {
      name: 'fsvmi',
      namespace: 'default',
      uid: UID,
      terminationGracePeriodSeconds: 0,
      spec: {
        volumes: [fact.volume as { name: string; configMap: { name: string } }],
        domain: { devices: { filesystems: [{ name: fact.volume.name, virtiofs: {} }] } },
      },
    },
  });
  const compute = pod.spec?.containers.find((c) => c.name === 'compute');
  const container = pod.spec?.containers.find((c) => c.name === fact.name);
  assert.ok(compute && container, `compute and ${fact.name} in the pod`);
  assert.deepEqual(
    [container.image, container.command, container.args, container.volumeMounts],
    [compute.image, fact.command, fact.args, fact.volumeMounts],
  );
  assert.deepEqual(container.securityContext, facts.securityContext);
  assert.deepEqual(container.resources, facts.resources);
  assert.equal(pod.spec?.containers.at(-1)?.name, fact.name, 'after the compute and containerDisk containers');
  assert.ok(pod.spec?.volumes?.some((v) => v.name === facts.podVolume.name && v.emptyDir));
  assert.ok(pod.spec?.volumes?.some((v) => v.name === fact.volume.name && v.configMap?.name === 'app-config'));
  assert.ok(compute.volumeMounts?.some((m) => m.name === facts.podVolume.name && m.mountPath === facts.podVolume.computeMountPath));
  // the configMap is no disk: the compute container does not mount it
  assert.ok(!compute.volumeMounts?.some((m) => m.name === fact.volume.name));
  assert.equal(pod.spec?.securityContext?.fsGroup, 107);
});
