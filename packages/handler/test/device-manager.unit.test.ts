// The device manager against a kubelet's side of the device plugin API (test/bed/test-kubelet.ts, the same
// protos): registration with KubeVirt's resource names and socket names, ListAndWatch, Allocate, health
// following the device node, and registering again after a kubelet restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@kubevirt-ts/shared';
import { startTestKubelet, type TestKubelet } from '../../../test/bed/test-kubelet.ts';
import { poll } from '../../../test/bed/poll.ts';
import { DeviceController, devicePermissions, permanentHostDevicePlugins } from '../src/device-manager/device-controller.ts';
import { GenericDevicePlugin } from '../src/device-manager/generic-device.ts';

const logger = createLogger({ component: 'virt-handler', verbosity: 0 });
const RESOURCES = ['devices.kubevirt.io/kvm', 'devices.kubevirt.io/tun', 'devices.kubevirt.io/vhost-net'];

describe('device plugins (kvm, tun, vhost-net) with the kubelet', () => {
  let root: string;
  let kubelet: TestKubelet | undefined;
  let controller: DeviceController | undefined;

  before(() => {
    root = mkdtempSync('/tmp/kvdp');
  });
  after(async () => {
    await controller?.stop();
    await kubelet?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('not initialized without a kubelet; registers each plugin once the kubelet is up', async () => {
    mkdirSync(path.join(root, 'device-plugins'));
    controller = new DeviceController({
      logger,
      backoffMs: [50, 100, 200],
      permanentPlugins: permanentHostDevicePlugins({
        hypervisorDevice: 'kvm',
        maxDevices: 1000,
        permissions: devicePermissions(),
        kubeletRoot: root,
        deviceRoot: '/',
        logger,
      }),
    });
    controller.run();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(controller.initialized(), false, 'no kubelet.sock: not initialized');
    kubelet = await startTestKubelet(root);
    const k = kubelet;
    await poll('three plugins registered', async () => (RESOURCES.every((r) => k.plugins.get(r)?.updates) ? true : undefined), 10_000);
    await poll('controller initialized', async () => controller?.initialized() || undefined, 5000);
    for (const name of ['kvm', 'tun', 'vhost-net']) {
      const reg = k.registrations.find((r) => r.resource_name === `devices.kubevirt.io/${name}`);
      assert.deepEqual({ version: reg?.version, endpoint: reg?.endpoint }, { version: 'v1beta1', endpoint: `kubevirt-${name}.sock` });
      assert.ok(existsSync(path.join(root, 'device-plugins', `kubevirt-${name}.sock`)));
    }
  });

  test('ListAndWatch advertises --max-devices devices, healthy where the node has the device', async () => {
    const k = kubelet as TestKubelet;
    for (const [name, dev] of [
      ['kvm', '/dev/kvm'],
      ['tun', '/dev/net/tun'],
      ['vhost-net', '/dev/vhost-net'],
    ] as const) {
      const plugin = k.plugins.get(`devices.kubevirt.io/${name}`);
      assert.ok(plugin);
      assert.equal(plugin.devices.length, 1000);
      assert.equal(plugin.devices[0]?.ID, `${name}0`);
      assert.equal(plugin.devices[999]?.ID, `${name}999`);
      // Devices start Healthy (as KubeVirt's); the health check reports a missing node a moment later.
      const health = existsSync(dev) ? 'Healthy' : 'Unhealthy';
      await poll(
        `${name}: every device ${health}`,
        async () => (plugin.devices.every((d) => d.health === health) ? true : undefined),
        10_000,
      );
      assert.deepEqual(plugin.options, { pre_start_required: false });
    }
  });

  test('Allocate hands out the device node with the cgroup permissions', async () => {
    const k = kubelet as TestKubelet;
    const perms = devicePermissions();
    for (const [name, dev] of [
      ['kvm', '/dev/kvm'],
      ['tun', '/dev/net/tun'],
      ['vhost-net', '/dev/vhost-net'],
    ] as const) {
      const res = await k.allocate(`devices.kubevirt.io/${name}`, [`${name}7`]);
      assert.equal(res.container_responses?.length, 1);
      assert.deepEqual(res.container_responses?.[0]?.devices, [{ container_path: dev, host_path: dev, permissions: perms }]);
      assert.deepEqual(res.container_responses?.[0]?.mounts, []);
    }
  });

  test('a kubelet restart (sockets removed, kubelet.sock new) makes every plugin register again', async () => {
    const k = kubelet as TestKubelet;
    const before = k.registrations.length;
    await k.restart();
    await poll(
      'three plugins registered again',
      async () => (RESOURCES.every((r) => k.plugins.get(r)?.updates) ? true : undefined),
      10_000,
    );
    assert.equal(k.registrations.length - before, 3);
    assert.deepEqual(
      k.registrations
        .slice(before)
        .map((r) => r.resource_name)
        .sort(),
      RESOURCES,
    );
    await poll('controller initialized again', async () => controller?.initialized() || undefined, 5000);
  });

  test('stop sends an empty list and removes the sockets', async () => {
    const k = kubelet as TestKubelet;
    const plugins = RESOURCES.map((r) => k.plugins.get(r));
    await controller?.stop();
    controller = undefined;
    for (const p of plugins) {
      await poll('empty device list', async () => (p?.devices.length === 0 ? true : undefined), 3000);
    }
    for (const name of ['kvm', 'tun', 'vhost-net'])
      assert.equal(existsSync(path.join(root, 'device-plugins', `kubevirt-${name}.sock`)), false);
  });
});

describe('device health follows the device node', () => {
  test('Unhealthy when the node is gone, Healthy when it is back', async () => {
    const root = mkdtempSync('/tmp/kvdp');
    const devRoot = path.join(root, 'host');
    mkdirSync(path.join(devRoot, 'dev'), { recursive: true });
    writeFileSync(path.join(devRoot, 'dev', 'kvm'), '');
    const kubelet = await startTestKubelet(path.join(root, 'kubelet'));
    const plugin = new GenericDevicePlugin({
      deviceName: 'kvm',
      devicePath: '/dev/kvm',
      maxDevices: 3,
      permissions: 'rw',
      preOpen: false,
      devicePluginPath: kubelet.pluginDir,
      deviceRoot: devRoot,
      logger,
    });
    const stop = new AbortController();
    const running = plugin.start(stop.signal);
    try {
      const health = () =>
        kubelet.plugins
          .get('devices.kubevirt.io/kvm')
          ?.devices.map((d) => d.health)
          .join(',');
      await poll('healthy list', async () => (health() === 'Healthy,Healthy,Healthy' ? true : undefined), 5000);
      rmSync(path.join(devRoot, 'dev', 'kvm'));
      await poll('unhealthy after removal', async () => (health() === 'Unhealthy,Unhealthy,Unhealthy' ? true : undefined), 5000);
      writeFileSync(path.join(devRoot, 'dev', 'kvm'), '');
      await poll('healthy again', async () => (health() === 'Healthy,Healthy,Healthy' ? true : undefined), 5000);
    } finally {
      stop.abort();
      await running;
      await kubelet.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
