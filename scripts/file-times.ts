// A node:test reporter that prints each test file's wall time, slowest first, after the run: where the
// e2e lane's time goes, in every CI log. Used beside the spec reporter by scripts/test.
import path from 'node:path';

interface TestEvent {
  type: string;
  data?: { file?: string; name?: string; nesting?: number; details?: { duration_ms?: number } };
}

export default async function* fileTimes(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const seconds = new Map<string, number>();
  for await (const { type, data } of source) {
    // the runner reports each file as a top-level test named by the path it was given, completed once it ends
    if (type !== 'test:complete' || data?.nesting !== 0 || !data.file || !data.name) continue;
    if (path.resolve(data.name) !== data.file) continue;
    seconds.set(path.relative(process.cwd(), data.file), (data.details?.duration_ms ?? 0) / 1000);
  }
  if (seconds.size === 0) return;
  const rows = [...seconds].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, s]) => sum + s, 0);
  yield `== file times (${rows.length} files, ${total.toFixed(0)} s)\n`;
  for (const [file, s] of rows) yield `${s.toFixed(1).padStart(8)} s  ${file}\n`;
}
