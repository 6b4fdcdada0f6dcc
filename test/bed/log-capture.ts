// A daemon logger whose lines the test reads back: the raw text and each line parsed.
import { Writable } from 'node:stream';
import { createLogger, type Logger, type LoggerOptions } from '@kubevirt-ts/shared';

/** A KubeVirt log line: the fields tests look at, and whatever else it carries. */
export interface LogLine {
  level: string;
  msg: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  reason?: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines: LogLine[];
  /** Every line written so far, as written. */
  text(): string;
}

export function captureLogs(options: Omit<LoggerOptions, 'destination'>): CapturedLogs {
  const lines: LogLine[] = [];
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const s = chunk.toString();
      text += s;
      for (const line of s.split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { logger: createLogger({ ...options, destination }), lines, text: () => text };
}
