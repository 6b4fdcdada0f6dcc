// virt-handler's command line as KubeVirt defines it (cmd/virt-handler AddFlags, pkg/service) and as
// virt-operator renders it (components/daemonsets.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, FlagError } from '@kubevirt-ts/shared';
import { handlerFlags } from '../src/flags.ts';
import { OPERATOR_ARGS } from './operator-args.ts';

test("virt-operator's command line parses", () => {
  const f = parseFlags(handlerFlags, OPERATOR_ARGS);
  assert.equal(f.port, 8443);
  assert.equal(f['hostname-override'], 'node01');
  assert.equal(f['pod-ip-address'], '10.244.0.7');
  assert.equal(f['console-server-port'], 8186);
  assert.equal(f['vmstats-server-port'], 8187);
  assert.equal(f['graceful-shutdown-seconds'], 315);
  assert.deepEqual(f['migration-cn-types'], ['migration']);
  assert.equal(f.v, 2);
});

test("every flag of cmd/virt-handler exists with KubeVirt's default", () => {
  const f = parseFlags(handlerFlags, []);
  const kubevirt: Record<string, unknown> = {
    v: 2,
    kubeconfig: '',
    master: '',
    listen: '0.0.0.0',
    port: 8185,
    'hostname-override': '',
    'pod-ip-address': '',
    'kubevirt-share-dir': '/var/run/kubevirt',
    'kubevirt-private-dir': '/var/run/kubevirt-private',
    'kubelet-pods-dir': '/var/lib/kubelet/pods',
    'kubelet-root': '/var/lib/kubelet',
    'ca-configmap-name': 'kubevirt-ca',
    'migration-client-cert-file': '/etc/virt-handler/migrationservercertificates/tls.crt',
    'migration-client-key-file': '/etc/virt-handler/migrationservercertificates/tls.key',
    'tls-cert-file': '/etc/virt-handler/servercertificates/tls.crt',
    'tls-key-file': '/etc/virt-handler/servercertificates/tls.key',
    'externally-managed': false,
    'watchdog-timeout': 30_000,
    'max-devices': 1000,
    'max-metric-requests': 3,
    'console-server-port': 8186,
    'vmstats-server-port': 8187,
    'domain-resync-period-seconds': 300,
    'graceful-shutdown-seconds': 300,
    'enable-node-labeller': true,
    'migration-cn-types': ['virt-handler', 'migration'],
    'vsock-client-cert-file': '/etc/virt-handler/vsockclientcertificates/tls.crt',
    'vsock-client-key-file': '/etc/virt-handler/vsockclientcertificates/tls.key',
  };
  for (const [name, value] of Object.entries(kubevirt)) assert.deepEqual(f[name as keyof typeof f], value, `--${name}`);
});

test('--enable-node-labeller=false, --master URL, repeated --migration-cn-types, --max-devices', () => {
  const f = parseFlags(handlerFlags, [
    '--enable-node-labeller=false',
    '--master',
    'https://10.0.0.1:6443',
    '--migration-cn-types',
    'migration',
    '--migration-cn-types',
    'virt-handler',
    '--max-devices',
    '110',
  ]);
  assert.equal(f['enable-node-labeller'], false);
  assert.equal(f.master, 'https://10.0.0.1:6443');
  assert.deepEqual(f['migration-cn-types'], ['migration', 'virt-handler']);
  assert.equal(f['max-devices'], 110);
});

test('a bad value or an unknown flag is a FlagError (exit 2) naming the flag', () => {
  assert.throws(
    () => parseFlags(handlerFlags, ['--vmstats-server-port', 'x']),
    (e: unknown) => e instanceof FlagError && e.flag === '--vmstats-server-port' && e.exitCode === 2,
  );
  assert.throws(
    () => parseFlags(handlerFlags, ['--max-devices', '-1']),
    (e: unknown) => e instanceof FlagError && e.flag === '--max-devices',
  );
  assert.throws(() => parseFlags(handlerFlags, ['--no-such-flag']), /unknown flag: --no-such-flag/);
});
