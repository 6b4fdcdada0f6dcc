// Bundles each daemon into one ESM file that runs on plain Node 24, what the images ship:
//   dist/virt-launcher.mjs, dist/virt-launcher-cli.mjs, dist/virt-probe.mjs, dist/virt-handler.mjs (+ .map). Each is
//   self-contained: the gRPC contracts are inside, as @kubevirt-ts/proto's generated descriptor.json.
// Usage: node scripts/build.ts [--outdir DIR]
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { errorMessage } from '@kubevirt-ts/shared';

const REPO = path.resolve(import.meta.dirname, '..');

/** Bundle name → entry, as the packages' `bin` fields name them. */
export const DAEMONS = {
  'virt-launcher': 'packages/launcher/src/main.ts',
  'virt-launcher-cli': 'packages/launcher/src/cli.ts',
  'virt-probe': 'packages/launcher/src/virt-probe.ts',
  'virt-handler': 'packages/handler/src/main.ts',
} as const;
export type Daemon = keyof typeof DAEMONS;

/**
 * V8 flags each bundle runs with (its shebang; Node refuses --lite-mode in NODE_OPTIONS).
 * The launcher, one per VM and mostly idle: memory beats peak speed. bench/launcher-memory measured
 * RSS after 10 min with a VM: 121.5 MiB from source, 73.1 MiB bundled with these.
 * The handler: a small young generation. V8 grew it to 107 MiB committed at 500 VMIs (36 MiB used);
 * bench/handler-scale measured 409 → 258 MiB RSS at 500 VMIs with 2 MiB semi-spaces, same latency.
 * And an old generation let grow by 20 % over what survived the last full GC (V8's own choice let it
 * reach ~1.8× the live heap): 273 → 208–220 MiB RSS at 500 VMIs, 212 → 170–183 at 200, in A/B runs
 * of one session; handler CPU at 20 events/s 25–34 % vs 25–26 %, p99 within the runs' noise.
 */
export const NODE_FLAGS: Readonly<Record<Daemon, readonly string[]>> = {
  'virt-launcher': ['--lite-mode', '--max-semi-space-size=1', '--v8-pool-size=1'],
  'virt-launcher-cli': [],
  // one short run per probe
  'virt-probe': [],
  'virt-handler': ['--max-semi-space-size=2', '--heap-growing-percent=20'],
};

// Dependencies written as CommonJS call require() for Node's built-ins; an ESM bundle has no require.
const BANNER = [
  "import { createRequire as __kubevirtTsCreateRequire } from 'node:module';",
  'const require = __kubevirtTsCreateRequire(import.meta.url);',
].join('\n');

export interface BuildResult {
  outDir: string;
  /** Absolute path of each daemon's bundle. */
  bundles: Record<Daemon, string>;
  /** Every input esbuild read, relative to the repository (node_modules paths included). */
  inputs: string[];
}

export async function build(outDir = path.join(REPO, 'dist')): Promise<BuildResult> {
  rmSync(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: REPO,
    entryPoints: Object.entries(DAEMONS).map(([out, entry]) => ({ in: entry, out })),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    sourcemap: true,
    banner: { js: BANNER },
    // V8 keeps a script's source; one non-ASCII character makes it UTF-16, twice the memory (10 MiB
    // more for the handler). esbuild escapes strings and regexps; only license comments are left.
    charset: 'ascii',
    legalComments: 'eof',
    // Whitespace and comments out (the handler's source string 9.9 → 5.6 MB). Identifiers stay, so
    // function and class names in logs and stack traces are the source's; the shipped .map gives lines.
    minifyWhitespace: true,
    minifySyntax: true,
    metafile: true,
    logLevel: 'warning',
  });
  const bundles = Object.fromEntries(Object.keys(DAEMONS).map((daemon) => [daemon, path.join(outDir, `${daemon}.mjs`)])) as Record<
    Daemon,
    string
  >;
  for (const [daemon, bundle] of Object.entries(bundles)) {
    // The images link /usr/bin/<daemon> to the bundle, so it must be executable on its own.
    if (!readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node\n')) {
      throw new Error(`${DAEMONS[daemon as Daemon]}: a daemon's entry must start with #!/usr/bin/env node`);
    }
    let text = asciiComments(readFileSync(bundle, 'utf8'));
    const flags = NODE_FLAGS[daemon as Daemon];
    if (flags.length > 0) text = `#!/usr/bin/env -S node ${flags.join(' ')}\n${text.slice(text.indexOf('\n') + 1)}`;
    writeFileSync(bundle, text);
    chmodSync(bundle, 0o755);
  }
  return { outDir, bundles, inputs: Object.keys(result.metafile.inputs) };
}

/** Writes the non-ASCII characters left in license comments (`Wärting`) as `\u{e4}`: text, in a comment. */
function asciiComments(text: string): string {
  return text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  const started = performance.now();
  try {
    const { bundles } = await build(values.outdir === undefined ? undefined : path.resolve(values.outdir));
    const names = Object.values(bundles).map((bundle) => path.relative(process.cwd(), bundle));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`build: ${names.join(', ')} in ${seconds} s`);
  } catch (err) {
    // esbuild has printed its errors already, with their source lines
    if (!(err instanceof Error && 'errors' in err)) console.error(`build: ${errorMessage(err)}`);
    process.exitCode = 1;
  }
}
