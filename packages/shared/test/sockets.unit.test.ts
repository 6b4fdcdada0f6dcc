import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertSocketPathLength,
  ContainerDiskDir,
  domainNotifyPipeSocketPath,
  domainNotifySocketPath,
  EphemeralDiskDir,
  ghostRecordDir,
  ghostRecordPath,
  HotplugDiskDir,
  KubeletPodsDir,
  launcherInitSocketPath,
  launcherSocketPath,
  launcherUnresponsivePath,
  networkInfoCacheDir,
  pathInProcRoot,
  serialConsoleSocketPath,
  socketDirectoryOnHost,
  socketFilePathOnHost,
  socketsDirectory,
  usbRedirSocketPath,
  VirtPrivateDir,
  VirtShareDir,
  vmiPrivateDir,
  vncSocketPath,
} from '../src/sockets.ts';

const vmiUID = '5b5b3e7c-9a0b-4f5e-8c55-2f0c8a3d7e11';
const podUID = '3c2a1f0e-8b7d-4c6e-9f5a-0e1d2c3b4a59';

describe('KubeVirt directory layout', () => {
  test('share, private, ephemeral, container-disk and hotplug directories', () => {
    assert.equal(VirtShareDir, '/var/run/kubevirt');
    assert.equal(VirtPrivateDir, '/var/run/kubevirt-private');
    assert.equal(EphemeralDiskDir, '/var/run/kubevirt-ephemeral-disks');
    assert.equal(ContainerDiskDir, '/var/run/kubevirt/container-disks');
    assert.equal(HotplugDiskDir, '/var/run/kubevirt/hotplug-disks');
  });

  test('launcher: listens on launcher-init-sock, renames to launcher-sock when ready', () => {
    assert.equal(socketsDirectory(), '/var/run/kubevirt/sockets');
    assert.equal(launcherInitSocketPath(), '/var/run/kubevirt/sockets/launcher-init-sock');
    assert.equal(launcherSocketPath(), '/var/run/kubevirt/sockets/launcher-sock');
    assert.equal(launcherSocketPath('/tmp/share'), '/tmp/share/sockets/launcher-sock');
  });

  test('notify: the launcher dials domain-notify-pipe.sock, the handler serves domain-notify.sock', () => {
    assert.equal(domainNotifyPipeSocketPath(), '/var/run/kubevirt/domain-notify-pipe.sock');
    assert.equal(domainNotifySocketPath(), '/var/run/kubevirt/domain-notify.sock');
  });

  test('handler finds a launcher socket through the kubelet pods directory', () => {
    assert.equal(socketDirectoryOnHost(podUID), `/pods/${podUID}/volumes/kubernetes.io~empty-dir/sockets`);
    assert.equal(socketFilePathOnHost(podUID), `/pods/${podUID}/volumes/kubernetes.io~empty-dir/sockets/launcher-sock`);
    assert.equal(
      socketFilePathOnHost(podUID, KubeletPodsDir),
      `/var/lib/kubelet/pods/${podUID}/volumes/kubernetes.io~empty-dir/sockets/launcher-sock`,
    );
    assert.equal(
      launcherUnresponsivePath(socketFilePathOnHost(podUID)),
      `/pods/${podUID}/volumes/kubernetes.io~empty-dir/sockets/launcher-unresponsive`,
    );
  });

  test('ghost records and the network info cache live in the private directory', () => {
    assert.equal(ghostRecordDir(), '/var/run/kubevirt-private/ghost-records');
    assert.equal(ghostRecordPath(vmiUID), `/var/run/kubevirt-private/ghost-records/${vmiUID}`);
    assert.equal(networkInfoCacheDir(vmiUID), `/var/run/kubevirt-private/network-info-cache/${vmiUID}`);
  });

  test('per-VMI console, VNC and usbredir sockets', () => {
    assert.equal(vmiPrivateDir(vmiUID), `/var/run/kubevirt-private/${vmiUID}`);
    assert.equal(serialConsoleSocketPath(vmiUID), `/var/run/kubevirt-private/${vmiUID}/virt-serial0`);
    assert.equal(vncSocketPath(vmiUID), `/var/run/kubevirt-private/${vmiUID}/virt-vnc`);
    assert.equal(usbRedirSocketPath(vmiUID, 2), `/var/run/kubevirt-private/${vmiUID}/virt-usbredir-2`);
  });
});

describe('pathInProcRoot', () => {
  test('rewrites /var/run to /run, since the absolute symlink would resolve in our own root', () => {
    assert.equal(pathInProcRoot(4242, domainNotifyPipeSocketPath()), '/proc/4242/root/run/kubevirt/domain-notify-pipe.sock');
    assert.equal(pathInProcRoot(4242, serialConsoleSocketPath(vmiUID)), `/proc/4242/root/run/kubevirt-private/${vmiUID}/virt-serial0`);
    assert.equal(pathInProcRoot(4242, '/var/run'), '/proc/4242/root/run');
  });

  test('leaves other paths alone', () => {
    assert.equal(pathInProcRoot(7, '/run/kubevirt/x'), '/proc/7/root/run/kubevirt/x');
    assert.equal(pathInProcRoot(7, '/var/runner/x'), '/proc/7/root/var/runner/x');
    assert.equal(pathInProcRoot(7, '/var/lib/kubelet'), '/proc/7/root/var/lib/kubelet');
    assert.equal(pathInProcRoot(7, '/'), '/proc/7/root');
  });

  test('rejects relative paths and bad pids', () => {
    assert.throws(() => pathInProcRoot(7, 'var/run/x'), /absolute/);
    assert.throws(() => pathInProcRoot(0, '/x'), /process id/);
  });
});

describe('unix socket path length', () => {
  test('107 bytes fit, 108 do not, and the error says why', () => {
    assertSocketPathLength(`/${'a'.repeat(106)}`);
    assert.throws(
      () => assertSocketPathLength(`/${'a'.repeat(107)}`),
      (err: Error) => err instanceof RangeError && /108 bytes, longer than the 107/.test(err.message),
    );
  });

  test('counts bytes, not characters', () => {
    assert.throws(() => assertSocketPathLength(`/${'é'.repeat(54)}`), /109 bytes/);
  });

  test("the handler container's view of a launcher socket fits; the host's kubelet path does not", () => {
    assertSocketPathLength(socketFilePathOnHost(podUID));
    assert.throws(() => assertSocketPathLength(socketFilePathOnHost(podUID, KubeletPodsDir)), /112 bytes/);
  });
});
