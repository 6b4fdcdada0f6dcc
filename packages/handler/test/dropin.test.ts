// virt-handler started with virt-operator's exact command line (components/daemonsets.go), plus every other flag
// KubeVirt defines, against the test bed's kube-apiserver: it serves health on 8443, the console API on 8186 and
// vmstats on 8187, registers its device plugins with the kubelet, labels its node from node-labeller.sh's
// files, reads the CPU manager state, and on SIGTERM stops serving and marks the node unschedulable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../../test/control-plane/control-plane.ts';
import { handlerKubeconfig } from '../../../test/bed/handler-rbac.ts';
import { makeHandlerPki, type HandlerPki } from '../../../test/bed/handler-pki.ts';
import { handlerRequest, HANDLER_MAIN } from '../../../test/bed/handler.ts';
import { startTestKubelet, type TestKubelet } from '../../../test/bed/test-kubelet.ts';
import { makeNodeLabellerFiles } from '../../../test/bed/node-labeller-files.ts';
import { podsBaseDir } from '../../../test/bed/pod-sandbox.ts';
import { poll } from '../../../test/bed/poll.ts';
import { createKubeVirtCR } from '../../../test/bed/kubevirt-cr.ts';
import { OPERATOR_ARGS } from './operator-args.ts';

const KUBEVIRT = { group: 'kubevirt.io', version: 'v1', plural: 'kubevirts' } as const;

describe("virt-handler with virt-operator's command line", () => {
  let cp: ControlPlane;
  let dir: string;
  let pki: HandlerPki;
  let kubelet: TestKubelet;
  let child: ChildProcess | undefined;
  let logs = '';
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const nodeName = `kvts-dropin-${process.pid}`;
  const podIP = '127.0.0.1';

  before(async () => {
    dir = mkdtempSync('/tmp/kvdi');
    const labellerDir = path.join(dir, 'node-labeller');
    mkdirSync(labellerDir);
    await makeNodeLabellerFiles(labellerDir);
    cp = await startControlPlane();
    const kc = cp.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    pki = await makeHandlerPki(path.join(dir, 'pki'));
    const kubeconfig = await handlerKubeconfig(cp, path.join(dir, 'kubeconfig'));
    await core.createNode({ body: { metadata: { name: nodeName } } });
    // the kubevirt-ca configmap (the operator line names no CA file) and the KubeVirt CR
    await core
      .createNamespacedConfigMap({ namespace: 'kubevirt', body: { metadata: { name: 'kubevirt-ca' }, data: { 'ca-bundle': pki.ca.cert } } })
      .catch(() =>
        core.replaceNamespacedConfigMap({
          namespace: 'kubevirt',
          name: 'kubevirt-ca',
          body: { metadata: { name: 'kubevirt-ca' }, data: { 'ca-bundle': pki.ca.cert } },
        }),
      );
    await createKubeVirtCR(kc, 'kubevirt', { developerConfiguration: { featureGates: ['CPUManager'] } });
    const kubeletRoot = path.join(dir, 'kubelet');
    kubelet = await startTestKubelet(kubeletRoot);
    writeFileSync(path.join(kubeletRoot, 'cpu_manager_state'), JSON.stringify({ policyName: 'static', defaultCpuSet: '0-1', checksum: 1 }));

    const operatorArgs = OPERATOR_ARGS.map((a) => (a === 'node01' ? nodeName : a === '10.244.0.7' ? podIP : a));
    const everyOtherFlag = [
      '--kubeconfig',
      kubeconfig,
      '--master',
      cp.url,
      '--listen',
      '127.0.0.1',
      '--kubevirt-share-dir',
      path.join(dir, 'share'),
      '--kubevirt-private-dir',
      path.join(dir, 'private'),
      '--kubelet-pods-dir',
      path.join(dir, 'pods'),
      '--kubelet-root',
      kubeletRoot,
      '--ca-configmap-name',
      'kubevirt-ca',
      '--migration-client-cert-file',
      pki.client.certFile,
      '--migration-client-key-file',
      pki.client.keyFile,
      '--tls-cert-file',
      pki.server.certFile,
      '--tls-key-file',
      pki.server.keyFile,
      '--externally-managed=false',
      '--watchdog-timeout',
      '30s',
      '--max-devices',
      '110',
      '--domain-resync-period-seconds',
      '300',
      '--enable-node-labeller=true',
      '--vsock-client-cert-file',
      pki.client.certFile,
      '--vsock-client-key-file',
      pki.client.keyFile,
      '--pods-base-dir',
      podsBaseDir(),
      '--node-labeller-dir',
      labellerDir,
    ];
    child = spawn(process.execPath, [HANDLER_MAIN, ...operatorArgs, ...everyOtherFlag], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, POD_NAMESPACE: 'kubevirt', NODE_NAME: nodeName, MY_POD_IP: podIP },
    });
    child.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
    await poll(
      'virt-handler ready',
      async () => (logs.includes('virt-handler is ready') ? true : child?.exitCode !== null ? Promise.reject(new Error(logs)) : undefined),
      60_000,
      () => logs,
    );
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await kubelet?.stop();
    await core?.deleteNode({ name: nodeName }).catch(() => undefined);
    await custom?.deleteNamespacedCustomObject({ ...KUBEVIRT, namespace: 'kubevirt', name: 'kubevirt' }).catch(() => undefined);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('health on 8443, the console API on 8186 (client certificate), vmstats on 8187', async () => {
    const health = await handlerRequest(8443, { ca: pki.ca.cert }, 'GET', '/healthz');
    assert.equal(health.status, 200);
    const missing = await handlerRequest(
      8186,
      { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
      'GET',
      '/v1/namespaces/default/virtualmachineinstances/none/guestosinfo',
    );
    assert.equal(missing.status, 404);
    const monitoring = { ca: pki.ca.cert, cert: pki.wrongCN.cert, key: pki.wrongCN.key };
    const off = await handlerRequest(8187, monitoring, 'GET', '/v1/vmstats?domainStats=true');
    assert.deepEqual([off.status, off.body], [403, 'VMStatsCollector feature gate is not enabled']);
  });

  test("vmstats with the VMStatsCollector gate: 400 without a category, {} for a node without VMIs, virt-api's CN refused", async () => {
    await custom.patchNamespacedCustomObject(
      {
        ...KUBEVIRT,
        namespace: 'kubevirt',
        name: 'kubevirt',
        body: { spec: { configuration: { developerConfiguration: { featureGates: ['CPUManager', 'VMStatsCollector'] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const monitoring = { ca: pki.ca.cert, cert: pki.wrongCN.cert, key: pki.wrongCN.key };
    const ok = await poll(
      'vmstats on',
      async () => {
        const r = await handlerRequest(8187, monitoring, 'GET', '/v1/vmstats?domainStats=true&guestGetLoad=true');
        return r.status === 200 ? r : undefined;
      },
      10_000,
    );
    assert.deepEqual(JSON.parse(ok.body), {});
    const none = await handlerRequest(8187, monitoring, 'GET', '/v1/vmstats');
    assert.deepEqual([none.status, none.body], [400, 'at least one stats category must be requested via query parameters']);
    await assert.rejects(
      handlerRequest(8187, { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }, 'GET', '/v1/vmstats?domainStats=true'),
    );
  });

  test('kvm, tun and vhost-net registered with the kubelet, --max-devices each', async () => {
    await poll(
      'three plugins',
      async () => (kubelet.plugins.size === 3 ? true : undefined),
      10_000,
      () => logs,
    );
    for (const name of ['kvm', 'tun', 'vhost-net']) {
      const plugin = kubelet.plugins.get(`devices.kubevirt.io/${name}`);
      assert.equal(plugin?.request.endpoint, `kubevirt-${name}.sock`);
      assert.equal(plugin?.devices.length, 110);
    }
  });

  test('the node: schedulable, machine type q35 and CPU labels from node-labeller.sh, the CPU manager labels', async () => {
    const labels = await poll(
      'node labels',
      async () => {
        const l = (await core.readNode({ name: nodeName })).metadata?.labels ?? {};
        return l['kubevirt.io/schedulable'] === 'true' && l['machine-type.node.kubevirt.io/q35'] === 'true' && l['cpumanager'] === 'true'
          ? l
          : undefined;
      },
      20_000,
      () => logs,
    );
    assert.equal(labels['kubevirt.io/cpumanager'], 'true');
    assert.ok(Object.keys(labels).some((k) => k.startsWith('cpu-model.node.kubevirt.io/')));
    assert.ok(Object.keys(labels).some((k) => k.startsWith('host-model-cpu.node.kubevirt.io/')));
  });

  test('SIGTERM: exits 0, the node unschedulable, the device plugin sockets gone', async () => {
    const proc = child as ChildProcess;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, logs.slice(-3000));
    const node = await core.readNode({ name: nodeName });
    assert.equal(node.metadata?.labels?.['kubevirt.io/schedulable'], 'false');
    for (const name of ['kvm', 'tun', 'vhost-net']) assert.equal(existsSync(path.join(kubelet.pluginDir, `kubevirt-${name}.sock`)), false);
  });
});
