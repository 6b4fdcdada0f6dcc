// A VMI booted by a launcher in a pod sandbox of its own, as far as the guest's shell prompt on the
// serial console: the set-up of tests that look at what the guest sees.
import assert from 'node:assert/strict';
import { cmdClient, type CmdClient } from '@kubevirt-ts/proto';
import { GUEST_PROMPT } from './guest.ts';
import { asRequest, startLauncher, stopLauncherTest, type LaunchOptions, type RunningLauncher } from './launcher.ts';
import { createPodSandbox, type PodSandbox } from './pod-sandbox.ts';
import { SerialConsole } from './serial.ts';

export interface BootedGuest {
  sandbox: PodSandbox;
  launcher: RunningLauncher;
  client: CmdClient;
  serial: SerialConsole;
  /** libvirt's name of the domain, `<namespace>_<name>` */
  domain: string;
  stop(): Promise<void>;
}

/** Syncs `vmi` into a new launcher and waits for the prompt; `preparePod` plays kubelet first (volumes). */
export async function bootGuest(
  vmi: { metadata: { name: string; namespace: string; uid: string } },
  preparePod?: (sandbox: PodSandbox) => void,
  launch: { extraArgs?: readonly string[]; options?: LaunchOptions } = {},
): Promise<BootedGuest> {
  const sandbox = await createPodSandbox();
  let launcher: RunningLauncher | undefined;
  let client: CmdClient | undefined;
  let serial: SerialConsole | undefined;
  try {
    preparePod?.(sandbox);
    launcher = await startLauncher(sandbox, vmi, ['--qemu-timeout', '2m', ...(launch.extraArgs ?? [])], launch.options);
    client = await cmdClient(launcher.cmdSocket);
    assert.deepEqual(await client.SyncVirtualMachine(asRequest(vmi)), { success: true, message: '' });
    serial = await SerialConsole.open(sandbox.hostPath(`/var/run/kubevirt-private/${vmi.metadata.uid}/virt-serial0`));
    await serial.waitForPrompt(GUEST_PROMPT, 120_000);
  } catch (err) {
    await stopLauncherTest({ serial, client, launcher, sandbox });
    throw err;
  }
  const parts = { sandbox, launcher, client, serial };
  return { ...parts, domain: `${vmi.metadata.namespace}_${vmi.metadata.name}`, stop: () => stopLauncherTest(parts) };
}
