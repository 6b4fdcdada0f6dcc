// What ships: the bundles scripts/build.ts makes, the two images' Dockerfiles, and deploy/'s manifests, the
// last against the test bed's kube-apiserver, with virt-handler's RBAC tried call by call under its own token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DockerfileParser, ModifiableInstruction, type Entrypoint, type Instruction } from 'dockerfile-ast';
import { parse as parseYAML, parseAllDocuments } from 'yaml';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import { parseFlags } from '@kubevirt-ts/shared';
import { handlerFlags } from '@kubevirt-ts/handler';
import { launcherFlags } from '@kubevirt-ts/launcher';
import { build, DAEMONS, NODE_FLAGS, type BuildResult, type Daemon } from '../scripts/build.ts';
import { startControlPlane, type ControlPlane } from './control-plane/control-plane.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const DOCKERFILES = { 'virt-launcher': 'Dockerfile.launcher', 'virt-handler': 'Dockerfile.handler' } as const;
type Dockerfile = (typeof DOCKERFILES)[keyof typeof DOCKERFILES];

/**
 * What each image must hold at KubeVirt's paths, and what it must be: `bundle:<name>` (scripts/build.ts),
 * `native:<name>` (scripts/build-native), `context:<path>` (a file of this repository). The launcher image's
 * are the programs KubeVirt's pods run from it (cmd/virt-launcher/BUILD.bazel, virt-launcher-tar): the
 * compute container's command, virt-probe (probes), container-disk (copied into containerDisk containers),
 * virt-tail (guest-console-log), node-labeller.sh (virt-handler's init container, on PATH) and
 * /usr/libexec/virtiofsd (the virtiofs containers' command). The handler image's: the daemon and
 * cgroup-device-filter (its virt-chroot set-cgroups-resources, for cgroup v2 nodes).
 */
const IMAGES: Record<Dockerfile, { entrypoint: string; programs: Record<string, string> }> = {
  'Dockerfile.launcher': {
    entrypoint: '/usr/bin/virt-launcher-monitor',
    programs: {
      '/usr/bin/virt-launcher-monitor': 'native:virt-launcher-monitor',
      '/usr/bin/virt-launcher': 'bundle:virt-launcher',
      '/usr/bin/virt-probe': 'bundle:virt-probe',
      '/usr/bin/container-disk': 'native:container-disk',
      '/usr/bin/virt-tail': 'native:virt-tail',
      '/usr/bin/node-labeller.sh': 'context:packages/launcher/native/node-labeller.sh',
      '/usr/libexec/virtiofsd': 'context:packages/launcher/native/virtiofsd',
      '/usr/bin/virt-launcher-cli': 'bundle:virt-launcher-cli',
    },
  },
  'Dockerfile.handler': {
    entrypoint: '/usr/bin/virt-handler',
    programs: {
      '/usr/bin/virt-handler': 'bundle:virt-handler',
      '/usr/bin/cgroup-device-filter': 'native:cgroup-device-filter',
    },
  },
};
const BASE_IMAGE = 'node:24-bookworm-slim';
const run = promisify(execFile);

// --- build once, into a directory outside the repository (no node_modules above it to fall back on) --------

const work = mkdtempSync(path.join(tmpdir(), 'kubevirt-ts-packaging-'));
let built: BuildResult;
// kube-apiserver starts while the build and the Dockerfile checks run; awaited by the cluster tests.
let controlPlane: Promise<ControlPlane> | undefined;

before(async () => {
  controlPlane = startControlPlane();
  controlPlane.catch(() => {}); // reported where it is awaited
  built = await build(path.join(work, 'dist'));
});

after(async () => {
  await (await controlPlane?.catch(() => undefined))?.stop();
  rmSync(work, { recursive: true, force: true });
});

// --- .dockerignore, as Docker reads it: last matching pattern wins; a match on a parent directory counts -----

function dockerignore(): (file: string) => boolean {
  const rules = readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      return { negated, pattern: path.posix.normalize((negated ? line.slice(1) : line).replace(/^\/+/, '')) };
    });
  return (file) => {
    const parents = file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const { negated, pattern } of rules) {
      if (parents.some((p) => path.matchesGlob(p, pattern))) excluded = !negated;
    }
    return excluded;
  };
}

// --- Dockerfiles -----------------------------------------------------------------------------------------

interface Stage {
  base: string;
  name: string | null;
  instructions: Instruction[];
}

function stagesOf(dockerfile: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(readFileSync(path.join(REPO, dockerfile), 'utf8')).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [base = '', as, name = null] = instruction.getArguments().map((a) => a.getValue());
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : null, instructions: [] });
    } else {
      const stage = stages.at(-1);
      assert.ok(stage, `${dockerfile}: ${instruction.getKeyword()} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

interface CopyInstruction {
  from: string | null;
  sources: string[];
  dest: string;
  index: number;
}

function copiesOf(stage: Stage): CopyInstruction[] {
  return stage.instructions.flatMap((instruction, index) => {
    if (instruction.getKeyword() !== 'COPY' && instruction.getKeyword() !== 'ADD') return [];
    const flags = instruction instanceof ModifiableInstruction ? instruction.getFlags() : [];
    const args = instruction.getArguments().map((a) => a.getValue());
    const dest = args.pop() ?? '';
    return [{ from: flags.find((f) => f.getName() === 'from')?.getValue() ?? null, sources: args, dest, index }];
  });
}

function runsOf(stage: Stage): { text: string; index: number }[] {
  return stage.instructions.flatMap((instruction, index) =>
    instruction.getKeyword() === 'RUN'
      ? [
          {
            text: instruction
              .getArguments()
              .map((a) => a.getValue())
              .join(' '),
            index,
          },
        ]
      : [],
  );
}

function workdirOf(stage: Stage): string {
  const workdir = stage.instructions
    .filter((i) => i.getKeyword() === 'WORKDIR')
    .at(-1)
    ?.getArguments()[0]
    ?.getValue();
  return workdir ?? '/';
}

/** Where a COPY puts `file` (relative to the context, or to the source stage's root), if it copies it. */
function copyTarget(copy: CopyInstruction, file: string, workdir: string): string | undefined {
  const dest = path.posix.resolve(workdir, copy.dest);
  for (const source of copy.sources) {
    const src = source.replace(/\/+$/, '');
    if (src === file) return copy.dest.endsWith('/') || copy.sources.length > 1 ? path.posix.join(dest, path.posix.basename(src)) : dest;
    if (file.startsWith(`${src}/`)) return path.posix.join(dest, file.slice(src.length + 1));
  }
  return undefined;
}

/** Every file the build stage needs from the context: the bundles' own sources (descriptor.json among them), the manifests. */
function contextFilesNeeded(): string[] {
  return [
    ...built.inputs.filter((f) => !f.includes('node_modules/')),
    'scripts/build.ts',
    'tsconfig.json',
    'tsconfig.base.json',
    ...manifestsForInstall(),
  ];
}

/** What `pnpm install --frozen-lockfile` reads: the root's manifests and every workspace member's package.json. */
function manifestsForInstall(): string[] {
  const members = workspaceMembers().map((m) => `${m}/package.json`);
  const manifests = ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc', ...members];
  return manifests.filter((f) => existsSync(path.join(REPO, f)));
}

function workspaceMembers(): string[] {
  const workspace = parseYAML(readFileSync(path.join(REPO, 'pnpm-workspace.yaml'), 'utf8')) as { packages: string[] };
  return workspace.packages.flatMap((glob) =>
    glob.endsWith('/*')
      ? readdirSync(path.join(REPO, glob.slice(0, -2)), { withFileTypes: true })
          .filter((d) => d.isDirectory() && existsSync(path.join(REPO, glob.slice(0, -2), d.name, 'package.json')))
          .map((d) => `${glob.slice(0, -2)}/${d.name}`)
      : [glob],
  );
}

let nativeBuilt: Promise<string> | undefined;
/** scripts/build-native's programs, built once into the test's directory (as the image's native stage does). */
function nativeOutputs(): Promise<string> {
  nativeBuilt ??= run('bash', [path.join(REPO, 'scripts/build-native'), '--outdir', path.join(work, 'native')]).then(() =>
    path.join(work, 'native'),
  );
  return nativeBuilt;
}

/**
 * Where each file of the final stage comes from: `bundle:<daemon>` for a COPY --from=build of a bundle (or a
 * symlink to one), `native:<program>` for a COPY --from=native of a program the native stage's
 * `build-native --outdir` makes, `context:<path>` for a COPY from the build context.
 */
async function imageOrigins(stages: Stage[]): Promise<Map<string, string>> {
  const final = stages.at(-1) as Stage;
  const origins = new Map<string, string>();
  for (const copy of copiesOf(final)) {
    for (const source of copy.sources) {
      const target = copyTarget(copy, source, '/') as string;
      if (copy.from === null) {
        origins.set(target, `context:${path.posix.normalize(source)}`);
        continue;
      }
      const stage = stages.find((s) => s.name === copy.from);
      assert.ok(stage, `COPY --from=${copy.from}: no such stage`);
      const relative = path.posix.relative(workdirOf(stage), source);
      if (copy.from === 'build') {
        assert.match(relative, /^dist\//, `COPY --from=build ${source}: not a build output`);
        const output = path.join(built.outDir, relative.slice('dist/'.length));
        assert.ok(existsSync(output), `COPY --from=build ${source}: the build makes no ${relative}`);
        const daemon = Object.entries(built.bundles).find(([, bundle]) => bundle === output)?.[0];
        origins.set(target, daemon === undefined ? `build:${relative}` : `bundle:${daemon}`);
      } else if (copy.from === 'native') {
        const outdir = runsOf(stage)
          .map((r) => /build-native --outdir (\S+)/.exec(r.text)?.[1])
          .find((d) => d !== undefined);
        assert.ok(outdir, 'the native stage runs scripts/build-native --outdir DIR');
        assert.equal(
          path.posix.dirname(source),
          path.posix.resolve(workdirOf(stage), outdir),
          `COPY --from=native ${source}: not a build-native output`,
        );
        const program = path.posix.basename(source);
        assert.ok(existsSync(path.join(await nativeOutputs(), program)), `scripts/build-native makes no ${program}`);
        origins.set(target, `native:${program}`);
      }
    }
  }
  // ln -s TARGET LINK in a RUN: the link is what its target is
  for (const r of runsOf(final)) {
    for (const m of r.text.matchAll(/ln -sf?n? (\S+) (\S+)/g)) {
      const origin = origins.get(m[1] as string);
      if (origin !== undefined) origins.set(m[2] as string, origin);
    }
  }
  return origins;
}

describe('Dockerfiles', () => {
  const ignored = dockerignore();

  test('.dockerignore keeps local builds and node_modules out of the context', () => {
    for (const file of ['node_modules/x', 'packages/launcher/node_modules/x', 'dist/virt-handler.mjs', '.git/HEAD']) {
      assert.ok(ignored(file), `${file} is not excluded`);
    }
  });

  for (const dockerfile of Object.values(DOCKERFILES)) {
    describe(dockerfile, () => {
      const stages = stagesOf(dockerfile);
      const final = stages.at(-1) as Stage;
      const buildStage = stages.find((s) => s.name === 'build');

      test(`images are based on ${BASE_IMAGE}`, () => {
        assert.equal(final.base, BASE_IMAGE);
        for (const stage of stages) assert.equal(stage.base, BASE_IMAGE, `stage ${stage.name ?? '(final)'}`);
      });

      test('every COPY from the context names a file or directory that exists and is not ignored', () => {
        for (const stage of stages) {
          for (const copy of copiesOf(stage).filter((c) => c.from === null)) {
            for (const source of copy.sources) {
              assert.doesNotMatch(source, /[*?[]/, `${dockerfile}: ${source}: no wildcards (the test resolves names)`);
              const file = path.posix.normalize(source.replace(/\/+$/, ''));
              assert.ok(existsSync(path.join(REPO, file)), `${dockerfile}: COPY ${source}: no such file`);
              assert.ok(!ignored(file), `${dockerfile}: COPY ${source}: excluded by .dockerignore`);
            }
          }
        }
      });

      test('the build stage gets every file the build reads, where the workspace has it, manifests before pnpm install', () => {
        assert.ok(buildStage, `${dockerfile}: no stage named build`);
        const workdir = workdirOf(buildStage);
        const copies = copiesOf(buildStage).filter((c) => c.from === null);
        const runs = runsOf(buildStage);
        const root = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { packageManager: string };
        const pnpmVersion = root.packageManager;
        assert.ok(
          runs.some((r) => r.text.includes(`npm install -g`) && r.text.includes(pnpmVersion)),
          `installs ${pnpmVersion}`,
        );
        const install = runs.find((r) => /pnpm install --frozen-lockfile/.test(r.text));
        const buildRun = runs.find((r) => /pnpm (run )?build/.test(r.text));
        assert.ok(install && buildRun, 'runs pnpm install --frozen-lockfile, then pnpm run build');
        const needed = contextFilesNeeded();
        for (const file of needed) {
          assert.ok(!ignored(file), `${file} is excluded by .dockerignore`);
          const copy = copies.find((c) => copyTarget(c, file, workdir) !== undefined);
          assert.ok(copy, `${dockerfile}: no COPY brings ${file}`);
          assert.equal(copyTarget(copy, file, workdir), path.posix.join(workdir, file), `${dockerfile}: ${file} lands elsewhere`);
          assert.ok(copy.index < buildRun.index, `${dockerfile}: ${file} arrives after the build`);
        }
        for (const file of manifestsForInstall()) {
          const copy = copies.find((c) => copyTarget(c, file, workdir) !== undefined);
          assert.ok(copy && copy.index < install.index, `${dockerfile}: ${file} must be copied before pnpm install`);
        }
      });

      test(`the entrypoint is ${IMAGES[dockerfile].entrypoint}, and every program KubeVirt's pods run from the image is this repository's`, async () => {
        const image = IMAGES[dockerfile];
        const entrypoints = final.instructions.filter((i) => i.getKeyword() === 'ENTRYPOINT');
        assert.deepEqual(
          entrypoints.map((i) => (i as Entrypoint).getJSONStrings().map((s) => s.getJSONValue())),
          [[image.entrypoint]],
        );
        assert.deepEqual(
          final.instructions.filter((i) => i.getKeyword() === 'CMD'),
          [],
          'no CMD: the pod gives the arguments',
        );
        const origins = await imageOrigins(stages);
        for (const [program, expected] of Object.entries(image.programs)) {
          assert.equal(origins.get(program), expected, `${dockerfile}: ${program}`);
        }
        assert.ok(image.programs[image.entrypoint], 'the entrypoint is one of the programs');
      });
    });
  }
});

describe("Dockerfile.launcher: KubeVirt's launcher image", () => {
  const stages = stagesOf('Dockerfile.launcher');
  const final = stages.at(-1) as Stage;
  const runs = runsOf(final);
  const index = (keyword: string, pattern: RegExp) =>
    final.instructions.findIndex(
      (i) =>
        i.getKeyword() === keyword &&
        pattern.test(
          i
            .getArguments()
            .map((a) => a.getValue())
            .join(' '),
        ),
    );

  test('a native stage compiles packages/launcher/native with gcc and libc6-dev, sources copied first', () => {
    const native = stages.find((st) => st.name === 'native');
    assert.ok(native, 'no stage named native');
    const nativeRuns = runsOf(native);
    assert.ok(
      nativeRuns.some((r) => /apt-get install/.test(r.text) && /\bgcc\b/.test(r.text) && /\blibc6-dev\b/.test(r.text)),
      'installs gcc libc6-dev',
    );
    const buildRun = nativeRuns.find((r) => /scripts\/build-native --outdir /.test(r.text));
    assert.ok(buildRun, 'runs scripts/build-native --outdir');
    const workdir = workdirOf(native);
    const needed = [
      'scripts/build-native',
      ...readdirSync(path.join(REPO, 'packages/launcher/native')).map((f) => `packages/launcher/native/${f}`),
    ];
    for (const file of needed) {
      const copy: CopyInstruction | undefined = copiesOf(native).find((c) => c.from === null && copyTarget(c, file, workdir) !== undefined);
      assert.ok(copy, `the native stage gets no ${file}`);
      assert.equal(copyTarget(copy, file, workdir), path.posix.join(workdir, file));
      assert.ok(copy.index < buildRun.index, `${file} arrives after the build`);
    }
  });

  test("KubeVirt's qemu user and group, 107, made before any package can take the id; the image runs as 107", () => {
    const qemu = runs.find((r) => /groupadd -g 107 qemu\b/.test(r.text) && /useradd -u 107 -g 107\b.* qemu\b/.test(r.text));
    assert.ok(qemu, 'groupadd -g 107 qemu && useradd -u 107 -g 107 ... qemu');
    assert.match(qemu.text, /-d \/home\/qemu\b/, "home /home/qemu, as KubeVirt's passwd entry");
    const firstInstall = runs.find((r) => /apt-get install/.test(r.text));
    assert.ok(firstInstall && qemu.index < firstInstall.index, 'qemu is made before apt-get install');
    const users = final.instructions
      .filter((i) => i.getKeyword() === 'USER')
      .map((i) =>
        i
          .getArguments()
          .map((a) => a.getValue())
          .join(' '),
      );
    assert.deepEqual(users, ['107']);
  });

  test('virt-launcher-monitor carries cap_net_bind_service (+ep), set after it is copied in', () => {
    const setcap = index('RUN', /setcap cap_net_bind_service=\+ep \/usr\/bin\/virt-launcher-monitor/);
    assert.ok(setcap >= 0, 'setcap cap_net_bind_service=+ep /usr/bin/virt-launcher-monitor');
    assert.ok(index('COPY', /virt-launcher-monitor/) < setcap);
    assert.ok(
      runs.some((r) => /apt-get install[^&]*\blibcap2-bin\b/.test(r.text)),
      'libcap2-bin brings setcap',
    );
  });

  test('/var/run is the relative link ../run, and node-labeller.sh is executable on PATH', () => {
    assert.ok(
      runs.some((r) => /ln -sfn \.\.\/run \/var\/run\b/.test(r.text)),
      'ln -sfn ../run /var/run',
    );
    assert.ok(
      statSync(path.join(REPO, 'packages/launcher/native/node-labeller.sh')).mode & 0o111,
      'node-labeller.sh is executable in the context',
    );
    assert.ok(
      runs.some((r) => /chmod 0?755 \/usr\/bin\/node-labeller\.sh/.test(r.text)),
      'chmod 0755 /usr/bin/node-labeller.sh',
    );
  });

  test("/usr/libexec/virtiofsd is executable and its C daemon's lock directory is 107's", () => {
    assert.ok(statSync(path.join(REPO, 'packages/launcher/native/virtiofsd')).mode & 0o111, 'virtiofsd is executable in the context');
    assert.ok(
      runs.some((r) => /chmod 0?755 [^&]*\/usr\/libexec\/virtiofsd/.test(r.text)),
      'chmod 0755 /usr/libexec/virtiofsd',
    );
    assert.ok(
      runs.some((r) => /install -d -o 107 -g 107 [^&]*\/run\/virtiofsd/.test(r.text)),
      'install -d -o 107 -g 107 /run/virtiofsd',
    );
  });
});

// --- the bundles ------------------------------------------------------------------------------------------

describe('bundles', () => {
  test('each bundle starts with a node shebang and is executable', () => {
    for (const bundle of Object.values(built.bundles)) {
      assert.match(readFileSync(bundle, 'utf8').split('\n')[0] ?? '', /^#!\/usr\/bin\/env (-S )?node( --[-a-z0-9=]+)*$/, bundle);
      assert.ok(statSync(bundle).mode & 0o111, `${bundle} is not executable`);
    }
  });

  test('each bundle runs with its node flags when executed as the image does (the shebang), and is pure ASCII', async () => {
    for (const [daemon, bundle] of Object.entries(built.bundles) as Array<[Daemon, string]>) {
      const text = readFileSync(bundle, 'latin1');
      // a non-ASCII character anywhere would make V8 hold the whole source as UTF-16
      assert.equal(/[^\x00-\x7f]/.exec(text)?.index, undefined, `${daemon}: non-ASCII byte`);
      const firstLine = text.slice(0, text.indexOf('\n'));
      for (const flag of NODE_FLAGS[daemon]) assert.ok(firstLine.split(' ').includes(flag), `${daemon}'s shebang lacks ${flag}`);
    }
    // executed directly, the kernel runs env, env runs node with the flags: V8 sees them
    const probe = path.join(work, 'flags-probe.mjs');
    const handlerText = readFileSync(built.bundles['virt-handler'], 'utf8');
    writeFileSync(probe, `${handlerText.slice(0, handlerText.indexOf('\n'))}\nprocess.stdout.write(JSON.stringify(process.execArgv));\n`, {
      mode: 0o755,
    });
    const { stdout } = await run(probe, [], { cwd: work });
    assert.deepEqual(JSON.parse(stdout), NODE_FLAGS['virt-handler']);
  });

  test('each bundle prints its usage for --help, exit 0, loading no module from outside dist', async () => {
    const hook = path.join(work, 'record-loads.mjs');
    writeFileSync(
      hook,
      [
        "import { registerHooks } from 'node:module';",
        "import { appendFileSync } from 'node:fs';",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the hook module's own source, a template literal there
        'registerHooks({ load(url, context, next) { appendFileSync(process.env.LOADED, `${url}\\n`); return next(url, context); } });',
      ].join('\n'),
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_')));
    await Promise.all(
      (Object.keys(DAEMONS) as Daemon[]).map(async (daemon) => {
        const loaded = path.join(work, `${daemon}.loaded`);
        const args = ['--import', pathToFileURL(hook).href, built.bundles[daemon], '--help'];
        const { stdout, stderr } = await run(process.execPath, args, { cwd: work, env: { ...env, LOADED: loaded } });
        assert.match(stdout + stderr, /^Usage of /m, `${daemon} --help`);
        const files = readFileSync(loaded, 'utf8')
          .split('\n')
          .filter((url) => url.startsWith('file:'));
        assert.deepEqual(files, [pathToFileURL(built.bundles[daemon]).href], `${daemon} loaded more than its bundle`);
      }),
    );
  });

  test('each bundle runs alone in an empty directory: the gRPC contracts are inside it', async () => {
    const lone = path.join(work, 'lone');
    mkdirSync(lone);
    for (const [daemon, bundle] of Object.entries(built.bundles)) {
      const copy = path.join(lone, `${daemon}.mjs`);
      copyFileSync(bundle, copy);
      const { stdout, stderr } = await run(process.execPath, [copy, '--help'], { cwd: lone });
      assert.match(stdout + stderr, /^Usage of /m, `${daemon} --help, alone`);
    }
  });
});

// --- deploy/ ----------------------------------------------------------------------------------------------

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

function manifests(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path.join(REPO, 'deploy', file), 'utf8')).map((doc) => doc.toJS() as KubeObject);
}

const deployFiles = () =>
  readdirSync(path.join(REPO, 'deploy'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

function find(kind: string, name?: string): KubeObject {
  const all = deployFiles().flatMap(manifests);
  const found = all.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.ok(found, `deploy/ has no ${kind} ${name ?? ''}`);
  return found;
}

interface Container {
  command?: string[];
  args?: string[];
  volumeMounts?: { mountPath: string }[];
}

function podSpecOf(o: KubeObject): { containers: Container[] } {
  const spec = o.spec as { containers?: Container[]; template?: { spec: { containers: Container[] } } };
  return spec.template?.spec ?? (spec as { containers: Container[] });
}

/** A fact's path in an object: dot-separated keys (`\\.` a dot in a key), `[name=X]` a list item by name, `[*]` all items. */
function factAt(root: unknown, factPath: string): unknown {
  const steps = factPath.split(/(?<!\\)\./).map((k) => k.replaceAll('\\.', '.'));
  let values: unknown[] = [root];
  let many = false;
  for (const step of steps) {
    const m = /^(.*?)(?:\[(\*|name=([^\]]+))\])?$/.exec(step) as RegExpExecArray;
    const [, key = '', selector, name] = m;
    values = values.map((v) => (v as Record<string, unknown> | undefined)?.[key]);
    if (selector === '*') {
      values = values.flatMap((v) => (Array.isArray(v) ? v : []));
      many = true;
    } else if (name !== undefined) {
      values = values.map((v) => (Array.isArray(v) ? v.find((item: { name?: string }) => item.name === name) : undefined));
    }
  }
  return many ? values : values[0];
}

function resolvePlaceholders(value: unknown, placeholders: Record<string, string>): unknown {
  if (typeof value === 'string') return Object.entries(placeholders).reduce((s, [k, v]) => s.replaceAll(k, v), value);
  if (Array.isArray(value)) return value.map((v) => resolvePlaceholders(v, placeholders));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolvePlaceholders(v, placeholders)]));
  }
  return value;
}

/** Deep equality where a rendered `{ matches: RE }` stands for a string the rendering randomises. */
function matchesFact(actual: unknown, expected: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected) && Object.keys(expected).join() === 'matches') {
    return typeof actual === 'string' && new RegExp((expected as { matches: string }).matches).test(actual);
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => matchesFact(actual[i], e));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    return [...keys].every((k) => matchesFact((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]));
  }
  return actual === expected;
}

describe("deploy/virt-handler.yaml is virt-operator's rendering", () => {
  // NewHandlerDaemonSet for a default KubeVirt CR, vendored (test/fixtures/kubevirt/README.md says from where)
  const rendered = JSON.parse(
    readFileSync(path.join(REPO, 'test', 'fixtures', 'kubevirt', 'virt-handler-daemonset.json'), 'utf8'),
  ) as KubeObject;
  const images: Record<string, string> = {
    '<launcher image>': 'kubevirt-ts/virt-launcher:latest',
    '<handler image>': 'kubevirt-ts/virt-handler:latest',
  };
  const withOurImages = (v: unknown): unknown =>
    typeof v === 'string'
      ? (images[v] ?? v)
      : Array.isArray(v)
        ? v.map(withOurImages)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withOurImages(x)]))
          : v;
  const expected = withOurImages(rendered) as KubeObject;
  const ours = find('DaemonSet', 'virt-handler');

  /** Every leaf path of an object, as `a.b[0].c`, with its value. */
  const leaves = (v: unknown, at = ''): Array<[string, unknown]> =>
    Array.isArray(v)
      ? v.flatMap((x, i) => leaves(x, `${at}[${i}]`))
      : v !== null && typeof v === 'object' && Object.keys(v).length > 0
        ? Object.entries(v).flatMap(([k, x]) => leaves(x, at === '' ? k : `${at}.${k}`))
        : [[at, v]];

  test('every field virt-operator renders is in deploy/ with its value', () => {
    const have = new Map(leaves(ours));
    const missing = leaves(expected).filter(([p, v]) => !have.has(p) || JSON.stringify(have.get(p)) !== JSON.stringify(v));
    assert.deepEqual(
      missing.map(([p, v]) => `${p} = ${JSON.stringify(v)} (deploy/ has ${JSON.stringify(have.get(p))})`),
      [],
    );
  });

  test('deploy/ has no field virt-operator does not render', () => {
    const want = new Map(leaves(expected));
    assert.deepEqual(
      leaves(ours)
        .filter(([p]) => !want.has(p))
        .map(([p]) => p),
      [],
    );
  });

  test("the init container runs the launcher image's node-labeller.sh into the node-labeller volume the handler reads", () => {
    const spec = (
      ours.spec as {
        template: { spec: { initContainers: Array<{ image: string; args: string[]; volumeMounts: Array<{ mountPath: string }> }> } };
      }
    ).template.spec;
    const [init] = spec.initContainers;
    assert.equal(init?.image, 'kubevirt-ts/virt-launcher:latest');
    assert.deepEqual(init?.args, ['node-labeller.sh']);
    assert.equal(init?.volumeMounts[0]?.mountPath, parseFlags(handlerFlags, [])['node-labeller-dir']);
  });
});

describe('deploy/ and the daemons agree', () => {
  test("the DaemonSet's arguments parse as virt-handler's flags, and its mounts are where the flags look", () => {
    const [container] = podSpecOf(find('DaemonSet', 'virt-handler')).containers;
    assert.ok(container?.args);
    const args = container.args.map((a) => a.replace('$(NODE_NAME)', 'node01').replace('$(MY_POD_IP)', '10.0.0.1'));
    const flags = parseFlags(handlerFlags, args);
    assert.equal(flags.port, 8443);
    assert.equal(flags['graceful-shutdown-seconds'], 315);
    const mounts = (container.volumeMounts ?? []).map((m) => m.mountPath);
    const dirs = [flags['kubevirt-share-dir'], flags['kubevirt-private-dir'], flags['pods-base-dir'], path.dirname(flags['tls-cert-file'])];
    for (const dir of dirs) {
      assert.ok(mounts.includes(dir), `${dir} is not mounted`);
    }
    assert.ok(container.command?.[0] === 'virt-handler', 'command virt-handler (the image links /usr/bin/virt-handler)');
  });

  // virt-controller renders KubeVirt's whole flag set (--hook-sidecars, --ovmf-path, --disk-memory-limit,
  // --hypervisor, --allow-emulation): virt-launcher takes every one.
  test("the example launcher pod's arguments, as the monitor passes them on, parse as virt-launcher's flags, and its mounts are where the flags look", () => {
    const [compute] = podSpecOf(find('Pod')).containers;
    assert.deepEqual(compute?.command, ['/usr/bin/virt-launcher-monitor']);
    const args = (compute?.args ?? []).filter((a) => a !== '--keep-after-failure');
    const flags = parseFlags(launcherFlags, args);
    const vmi = find('VirtualMachineInstance');
    assert.deepEqual([flags.name, flags.namespace], [vmi.metadata.name, vmi.metadata.namespace]);
    const mounts = (compute?.volumeMounts ?? []).map((m) => m.mountPath);
    const dirs = [
      flags['kubevirt-share-dir'],
      `${flags['kubevirt-share-dir']}/sockets`,
      flags['ephemeral-disk-dir'],
      flags['container-disk-dir'],
      flags['hotplug-disk-dir'],
      '/var/run/kubevirt-private',
      '/var/run/libvirt',
    ];
    for (const dir of dirs) {
      assert.ok(mounts.includes(dir), `${dir} is not mounted`);
    }
  });

  test("the example launcher pod is virt-controller's rendering for the example VMI, fact by fact (test/fixtures/kubevirt/launcher-pod-rendering.json)", () => {
    const rendering = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/kubevirt/launcher-pod-rendering.json'), 'utf8')) as {
      facts: { path: string; equals: unknown; from: string }[];
    };
    const pod = find('Pod');
    const vmi = find('VirtualMachineInstance') as KubeObject & { spec: { volumes: { containerDisk?: { image: string } }[] } };
    const owner = (pod.metadata['ownerReferences'] as { kind: string; name: string; uid: string }[])[0];
    assert.deepEqual([owner?.kind, owner?.name], ['VirtualMachineInstance', vmi.metadata.name]);
    const compute = (pod['spec'] as { containers: { name: string; image: string }[] }).containers.find((c) => c.name === 'compute');
    const placeholders: Record<string, string> = {
      '${uid}': owner?.uid ?? '',
      '${name}': vmi.metadata.name,
      '${namespace}': vmi.metadata.namespace ?? '',
      '${launcherImage}': compute?.image ?? '',
      '${containerDiskImage}': vmi.spec.volumes.find((v) => v.containerDisk)?.containerDisk?.image ?? '',
    };
    for (const fact of rendering.facts) {
      const actual = factAt(pod, fact.path);
      const expected = resolvePlaceholders(fact.equals, placeholders);
      assert.ok(
        matchesFact(actual, expected),
        `${fact.path} (${fact.from}):\n  pod:      ${JSON.stringify(actual)}\n  rendered: ${JSON.stringify(expected)}`,
      );
    }
  });
});

// --- against kube-apiserver -------------------------------------------------------------------------------

interface RawResponse {
  status: number;
  body: Record<string, unknown>;
}

function request(cp: ControlPlane, method: string, urlPath: string, body?: unknown): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(urlPath, cp.url),
      {
        method,
        ...(cp.ca === undefined ? {} : { ca: cp.ca }),
        headers: { authorization: `Bearer ${cp.adminToken ?? ''}`, 'content-type': 'application/json', accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The collection an object is created in, found through discovery (so CRDs work as built-ins do). */
async function collectionOf(cp: ControlPlane, o: KubeObject): Promise<string> {
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const discovery = await request(cp, 'GET', base);
  const resources = (discovery.body.resources ?? []) as { name: string; kind: string; namespaced: boolean }[];
  const resource = resources.find((r) => r.kind === o.kind && !r.name.includes('/'));
  assert.ok(resource, `${o.apiVersion} ${o.kind}: not served`);
  assert.equal(o.metadata.namespace !== undefined, resource.namespaced, `${o.kind} ${o.metadata.name}: metadata.namespace`);
  return resource.namespaced ? `${base}/namespaces/${o.metadata.namespace}/${resource.name}` : `${base}/${resource.name}`;
}

/**
 * Paths of what was sent but is not in what the apiserver kept: 1.20 drops unknown fields without a word,
 * so a misspelt field shows up only here.
 */
function dropped(sent: unknown, kept: unknown, at = ''): string[] {
  if (sent === null || typeof sent !== 'object') {
    return sent === kept ? [] : [`${at} (${JSON.stringify(sent)} became ${JSON.stringify(kept)})`];
  }
  if (kept === null || typeof kept !== 'object') return [at];
  return Object.entries(sent).flatMap(([key, value]) => dropped(value, (kept as Record<string, unknown>)[key], `${at}.${key}`));
}

async function create(cp: ControlPlane, o: KubeObject, opts: { dryRun: boolean }): Promise<void> {
  const res = await request(cp, 'POST', `${await collectionOf(cp, o)}${opts.dryRun ? '?dryRun=All' : ''}`, o);
  assert.ok(res.status === 200 || res.status === 201, `${o.kind} ${o.metadata.name}: ${res.status} ${String(res.body.message)}`);
  // A native sidecar (init container restartPolicy: Always, as virt-controller renders guest-console-log) is
  // Kubernetes 1.29's; the test bed's kube-apiserver 1.20 does not know the field.
  const newerThanTestApiserver = /^\.spec\.initContainers\.\d+\.restartPolicy /;
  assert.deepEqual(
    dropped(o, res.body).filter((f) => !newerThanTestApiserver.test(f)),
    [],
    `${o.kind} ${o.metadata.name}: fields the apiserver did not keep`,
  );
}

/** The HTTP status of a call through client-node: 200 for success, else the ApiException's code. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

const VMI = { group: 'kubevirt.io', version: 'v1', plural: 'virtualmachineinstances' } as const;
const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;
const HANDLER_SA = { namespace: 'kubevirt', name: 'kubevirt-handler' } as const;
const NODE = 'kvts-packaging-node';

describe('deploy/ on kube-apiserver', () => {
  let cp: ControlPlane;
  let skip: string | false = false;

  before(async () => {
    cp = await (controlPlane as Promise<ControlPlane>);
    // The manifests name cluster-wide objects (ClusterRole kubevirt-handler, namespace kubevirt) a cluster with
    // KubeVirt installed has already: only a control plane of our own is safe to create them in.
    if (!cp.owned) skip = 'KUBECONFIG names a cluster this test did not start';
  });

  test('every manifest is accepted, every field kept (the namespace for real, the rest as dry-run)', async (t) => {
    if (skip) return t.skip(skip);
    await create(cp, find('Namespace', 'kubevirt'), { dryRun: false });
    for (const file of deployFiles()) {
      for (const o of manifests(file).filter((m) => m.kind !== 'Namespace')) {
        await t.test(`${file}: ${o.kind} ${o.metadata.name}`, () => create(cp, o, { dryRun: true }));
      }
    }
  });

  describe("virt-handler's RBAC, under the kubevirt-handler service account's token", () => {
    let admin: { core: CoreV1Api; custom: CustomObjectsApi };
    let handler: { kc: KubeConfig; core: CoreV1Api; custom: CustomObjectsApi };
    let namespace: string;
    let vmi: KubeObject & { metadata: { uid: string; resourceVersion: string } };
    const selector = `kubevirt.io/nodeName=${NODE}`;

    before(async () => {
      if (skip) return;
      for (const o of [...manifests('virt-handler-rbac.yaml'), ...manifests('kubevirt-ca.yaml')]) await create(cp, o, { dryRun: false });
      admin = { core: cp.kubeConfig().makeApiClient(CoreV1Api), custom: cp.kubeConfig().makeApiClient(CustomObjectsApi) };
      namespace = await cp.createNamespace('kvts-packaging');
      await admin.core.createNode({ body: { metadata: { name: NODE } } });
      vmi = (await admin.custom.createNamespacedCustomObject({
        ...VMI,
        namespace,
        body: {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          metadata: { name: 'testvmi', labels: { 'kubevirt.io/nodeName': NODE } },
          spec: { domain: { devices: {} } },
        },
      })) as typeof vmi;
      const kc = cp.kubeConfig(await cp.tokenFor(HANDLER_SA));
      handler = { kc, core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
      // the RBAC authorizer learns of new bindings through its informers: wait for the first grant to land
      const deadline = Date.now() + 10_000;
      while ((await statusOf(() => handler.custom.listClusterCustomObject({ ...VMI, labelSelector: selector }))) !== 200) {
        assert.ok(Date.now() < deadline, 'the kubevirt-handler binding never took effect');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });

    test('the calls virt-handler makes succeed', async (t) => {
      if (skip) return t.skip(skip);
      const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      const calls: Record<string, () => Promise<unknown>> = {
        'list VMIs on its node, cluster-wide': async () => {
          const list = (await handler.custom.listClusterCustomObject({ ...VMI, labelSelector: selector })) as { items: KubeObject[] };
          assert.deepEqual(
            list.items.map((i) => i.metadata.name),
            ['testvmi'],
          );
        },
        'watch VMIs on its node, and see an update to one': async () => {
          let seen!: (event: { type: string; object: KubeObject }) => void;
          let failed!: (err: unknown) => void;
          const event = new Promise<{ type: string; object: KubeObject }>((resolve, reject) => {
            seen = resolve;
            failed = reject;
          });
          event.catch(() => {}); // awaited below
          const watch = await new Watch(handler.kc).watch(
            '/apis/kubevirt.io/v1/virtualmachineinstances',
            { labelSelector: selector, resourceVersion: vmi.metadata.resourceVersion },
            (type, object: KubeObject) => seen({ type, object }),
            (err: unknown) => failed(err ?? new Error('watch closed')),
          );
          try {
            const body = { metadata: { annotations: { touched: 'yes' } } };
            await admin.custom.patchNamespacedCustomObject({ ...VMI, namespace, name: 'testvmi', body }, merge);
            const { type, object } = await event;
            assert.deepEqual([type, object.metadata.name], ['MODIFIED', 'testvmi']);
          } finally {
            watch.abort();
          }
        },
        'update a VMI (its status)': async () => {
          const current = (await admin.custom.getNamespacedCustomObject({ ...VMI, namespace, name: 'testvmi' })) as KubeObject;
          const body = { ...current, status: { phase: 'Running', nodeName: NODE } };
          await handler.custom.replaceNamespacedCustomObject({ ...VMI, namespace, name: 'testvmi', body });
        },
        'get its node (node labeller, KSM)': () => handler.core.readNode({ name: NODE }),
        'patch its node (schedulable label, heartbeat annotation)': () => {
          const metadata = {
            labels: { 'kubevirt.io/schedulable': 'true' },
            annotations: { 'kubevirt.io/heartbeat': new Date().toISOString() },
          };
          return handler.core.patchNode(
            { name: NODE, body: { metadata } },
            setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
          );
        },
        'create an event about a VMI, then patch it (a repeat)': async () => {
          const now = new Date();
          const created = await handler.core.createNamespacedEvent({
            namespace,
            body: {
              metadata: { generateName: 'testvmi.' },
              involvedObject: {
                apiVersion: 'kubevirt.io/v1',
                kind: 'VirtualMachineInstance',
                name: 'testvmi',
                namespace,
                uid: vmi.metadata.uid,
              },
              reason: 'Started',
              message: 'VirtualMachineInstance started.',
              type: 'Normal',
              source: { component: 'virt-handler', host: NODE },
              count: 1,
              firstTimestamp: now,
              lastTimestamp: now,
            },
          });
          await handler.core.patchNamespacedEvent({ namespace, name: created.metadata?.name ?? '', body: { count: 2 } }, merge);
        },
        'list configmaps in kubevirt by name (the informer)': () =>
          handler.core.listNamespacedConfigMap({ namespace: 'kubevirt', fieldSelector: 'metadata.name=kubevirt-ca' }),
        'list KubeVirt CRs, cluster-wide and in kubevirt': async () => {
          await handler.custom.listClusterCustomObject(KUBEVIRT);
          await handler.custom.listNamespacedCustomObject({ ...KUBEVIRT, namespace: 'kubevirt' });
        },
      };
      for (const [name, call] of Object.entries(calls)) await t.test(name, async () => assert.equal(await statusOf(call), 200));
    });

    test('anything else is forbidden', async (t) => {
      if (skip) return t.skip(skip);
      const forbidden: Record<string, () => Promise<unknown>> = {
        'get a VMI (the informers list and watch)': () => handler.custom.getNamespacedCustomObject({ ...VMI, namespace, name: 'testvmi' }),
        'patch a VMI (status writes are full updates)': () =>
          handler.custom.patchNamespacedCustomObject(
            { ...VMI, namespace, name: 'testvmi', body: { metadata: { labels: { patched: 'yes' } } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        'delete a VMI': () => handler.custom.deleteNamespacedCustomObject({ ...VMI, namespace, name: 'testvmi' }),
        'create a VMI': () =>
          handler.custom.createNamespacedCustomObject({
            ...VMI,
            namespace,
            body: { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachineInstance', metadata: { name: 'x' }, spec: {} },
          }),
        'list secrets in kubevirt': () => handler.core.listNamespacedSecret({ namespace: 'kubevirt' }),
        'list secrets cluster-wide': () => handler.core.listSecretForAllNamespaces(),
        'create a pod': () =>
          handler.core.createNamespacedPod({
            namespace,
            body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } },
          }),
        'get a configmap outside kubevirt': () => handler.core.readNamespacedConfigMap({ namespace, name: 'kubevirt-ca' }),
        'list nodes': () => handler.core.listNode(),
        'delete its node': () => handler.core.deleteNode({ name: NODE }),
        'patch a KubeVirt CR': () =>
          handler.custom.patchNamespacedCustomObject(
            { ...KUBEVIRT, namespace: 'kubevirt', name: 'kubevirt', body: {} },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        'delete an event': () => handler.core.deleteCollectionNamespacedEvent({ namespace }),
      };
      for (const [name, call] of Object.entries(forbidden)) await t.test(name, async () => assert.equal(await statusOf(call), 403));
    });
  });
});
