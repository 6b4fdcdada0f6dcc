// Waiting on real parts: retry a probe until it yields a value, or fail naming what did not happen
// (with the tail of the daemon's log, when given).
import { setTimeout as sleep } from 'node:timers/promises';

export async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, logs?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${logs ? `\n${logs().slice(-8000)}` : ''}`);
    await sleep(200);
  }
}
