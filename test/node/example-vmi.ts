// The example VMI the real node runs (test/node/real-node.test.ts and `pnpm demo`): the test guest of
// scripts/build-images serving both its kernel and initrd (kernel boot) and its data disk (containerDisk),
// imported into containerd, never pulled.

/** scripts/build-images: the test guest as containerDisk and kernel-boot image */
export const GUEST_IMAGE = 'docker.io/kubevirt-ts/test-guest:latest';

export interface ExampleVMIOptions {
  /** An interface on the pod network (the guest takes its address by DHCP). */
  podNetwork?: boolean;
  /** Its binding: masquerade (the default) or bridge (the guest takes the pod's own IP). */
  binding?: 'masquerade' | 'bridge';
  /** The interface's `ports`: with masquerade, only these reach the guest. */
  ports?: number[];
}

export function exampleVMI(name: string, namespace: string, o: ExampleVMIOptions = {}) {
  const iface = {
    name: 'default',
    ...(o.binding === 'bridge' ? { bridge: {} } : { masquerade: {} }),
    ...(o.ports ? { ports: o.ports.map((port) => ({ port })) } : {}),
  };
  const guestImage = { image: GUEST_IMAGE, imagePullPolicy: 'Never' };
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace },
    spec: {
      terminationGracePeriodSeconds: 5,
      domain: {
        cpu: { cores: 1 },
        memory: { guest: '128Mi' },
        resources: { requests: { memory: '128Mi' } },
        machine: { type: 'q35' },
        firmware: {
          kernelBoot: {
            kernelArgs: 'console=ttyS0 panic=-1 quiet',
            container: { ...guestImage, kernelPath: '/boot/vmlinux', initrdPath: '/boot/initrd.img' },
          },
        },
        devices: {
          disks: [{ name: 'data', disk: { bus: 'virtio' } }],
          ...(o.podNetwork ? { interfaces: [iface] } : { autoattachPodInterface: false }),
          autoattachMemBalloon: false,
        },
      },
      ...(o.podNetwork ? { networks: [{ name: 'default', pod: {} }] } : {}),
      volumes: [{ name: 'data', containerDisk: guestImage }],
    },
  };
}
