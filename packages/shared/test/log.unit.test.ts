import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, errorMessage, forObject, verbosityToLevel, withReason, type LoggerOptions } from '../src/log.ts';

function capture(options: Omit<LoggerOptions, 'destination'>) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (line: string) => void lines.push(line) } });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

const vmi = {
  kind: 'VirtualMachineInstance',
  metadata: { name: 'testvmi', namespace: 'default', uid: '5b5b3e7c-9a0b-4f5e-8c55-2f0c8a3d7e11' },
};

describe('log lines carry KubeVirt fields', () => {
  test('component, level, msg, pos and a microsecond UTC timestamp', () => {
    const { logger, records } = capture({ component: 'virt-handler' });
    logger.info('Processing event default/testvmi');
    const [line] = records();
    assert.equal(line?.['component'], 'virt-handler');
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['msg'], 'Processing event default/testvmi');
    assert.match(String(line?.['pos']), /^log\.unit\.test\.ts:\d+$/);
    assert.match(String(line?.['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  test("level names are KubeVirt's: info, warning, error", () => {
    const { logger, records } = capture({ component: 'virt-launcher' });
    logger.info('a');
    logger.warn('b');
    logger.error('c');
    assert.deepEqual(
      records().map((r) => r['level']),
      ['info', 'warning', 'error'],
    );
  });

  test('forObject adds kind, name, namespace and uid, like log.Log.Object(vmi)', () => {
    const { logger, records } = capture({ component: 'virt-handler' });
    forObject(logger, vmi).info('VMI is in phase: Running');
    const [line] = records();
    assert.equal(line?.['kind'], 'VirtualMachineInstance');
    assert.equal(line?.['name'], 'testvmi');
    assert.equal(line?.['namespace'], 'default');
    assert.equal(line?.['uid'], '5b5b3e7c-9a0b-4f5e-8c55-2f0c8a3d7e11');
  });

  test("forObject leaves namespace out when the object has none, and reads a Domain's ObjectMeta", () => {
    const { logger, records } = capture({ component: 'virt-handler' });
    forObject(logger, { kind: 'Node', metadata: { name: 'node01' } }).info('x');
    forObject(logger, { kind: 'Domain', ObjectMeta: { name: 'testvmi', namespace: 'default', uid: 'u' } }).info('y');
    const [node, domain] = records();
    assert.equal('namespace' in (node ?? {}), false);
    assert.equal(node?.['uid'], '');
    assert.equal(domain?.['name'], 'testvmi');
    assert.equal(domain?.['namespace'], 'default');
  });

  test('withReason and an error passed first both become the reason field (log.Log.Reason(err))', () => {
    const { logger, records } = capture({ component: 'virt-handler' });
    withReason(forObject(logger, vmi), new Error('connection refused')).error('Synchronizing the VirtualMachineInstance failed.');
    logger.error(new Error('no such domain'), 'failed to get domain');
    const [first, second] = records();
    assert.equal(first?.['reason'], 'connection refused');
    assert.equal(first?.['msg'], 'Synchronizing the VirtualMachineInstance failed.');
    assert.equal(first?.['name'], 'testvmi');
    assert.equal(second?.['reason'], 'no such domain');
    assert.equal(second?.['msg'], 'failed to get domain');
  });

  test("errorMessage: an Error's message, anything else stringified; a reason field takes the error itself", () => {
    assert.equal(errorMessage(new TypeError('bad input')), 'bad input');
    assert.equal(errorMessage('plain text'), 'plain text');
    assert.equal(errorMessage(42), '42');
    assert.equal(errorMessage(undefined), 'undefined');
    const { logger, records } = capture({ component: 'virt-launcher' });
    logger.warn({ reason: new Error('libvirt not ready') }, 'retrying');
    logger.warn({ reason: 'already text' }, 'retrying');
    const [err, text] = records();
    assert.equal(err?.['reason'], 'libvirt not ready');
    assert.equal(text?.['reason'], 'already text');
  });
});

describe('secrets never reach a log line', () => {
  test('a token is redacted at the top, nested, and in child bindings', () => {
    const { logger, lines, records } = capture({ component: 'virt-handler' });
    const token = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9.secret-token';
    logger.info({ token }, 'top');
    logger.info({ request: { headers: { authorization: `Bearer ${token}` } } }, 'nested');
    logger.child({ credentials: { password: token, privateKey: token } }).info('child');
    logger.info({ tls: { key: token } }, 'key');
    for (const line of lines) assert.equal(line.includes(token), false, line);
    const [top, nested, child] = records();
    assert.equal(top?.['token'], '[REDACTED]');
    assert.deepEqual(nested?.['request'], { headers: { authorization: '[REDACTED]' } });
    assert.deepEqual(child?.['credentials'], { password: '[REDACTED]', privateKey: '[REDACTED]' });
  });
});

describe('-v verbosity', () => {
  test('maps klog levels to pino levels: info is V(2)', () => {
    assert.equal(verbosityToLevel(0), 'warn');
    assert.equal(verbosityToLevel(1), 'warn');
    assert.equal(verbosityToLevel(2), 'info');
    assert.equal(verbosityToLevel(3), 'debug');
    assert.equal(verbosityToLevel(4), 'debug');
    assert.equal(verbosityToLevel(5), 'trace');
    assert.equal(verbosityToLevel(9), 'trace');
    assert.throws(() => verbosityToLevel(-1), RangeError);
  });

  test('the default (-v 2) drops debug lines; -v 4 keeps them, still named info', () => {
    const quiet = capture({ component: 'virt-handler' });
    quiet.logger.debug('V(4) detail');
    assert.equal(quiet.lines.length, 0);
    const verbose = capture({ component: 'virt-handler', verbosity: 4 });
    verbose.logger.debug('V(4) detail');
    verbose.logger.trace('V(5) detail');
    assert.deepEqual(
      verbose.records().map((r) => [r['level'], r['msg']]),
      [['info', 'V(4) detail']],
    );
  });

  test('-v 1 keeps warnings only', () => {
    const { logger, records } = capture({ component: 'virt-handler', verbosity: 1 });
    logger.info('dropped');
    logger.warn('kept');
    assert.deepEqual(
      records().map((r) => r['msg']),
      ['kept'],
    );
  });
});
