// Runs one virt-launcher in a fresh pod sandbox on a dev box, with the notify events it sends printed
// by virt-launcher-cli, and tells how to drive it. With --run-as-nonroot it runs as KubeVirt's default
// compute container does: uid/gid 107 with only NET_BIND_SERVICE. Ctrl-C stops the launcher (graceful shutdown) and
// removes the sandbox.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { domainNotifyPipeSocketPath, serialConsoleSocketPath } from '@kubevirt-ts/shared';
import { createPodSandbox } from './pod-sandbox.ts';
import { startLauncher, testVMI } from './launcher.ts';

const CLI = path.resolve(import.meta.dirname, '../../packages/launcher/src/cli.ts');

const sandbox = await createPodSandbox();
const notifySocket = sandbox.hostPath(domainNotifyPipeSocketPath());
const events = spawn(process.execPath, [CLI, 'events', '--listen', notifySocket], { stdio: ['ignore', 'inherit', 'inherit'] });
const vmi = testVMI({ name: 'testvmi', uid: randomUUID() });
const vmiFile = path.join(sandbox.podDir, 'testvmi.json');
writeFileSync(vmiFile, JSON.stringify(vmi, null, 1));
const extraArgs = process.argv.slice(2);
const launcher = await startLauncher(sandbox, vmi, extraArgs, extraArgs.includes('--run-as-nonroot') ? { nonRootUser: 107 } : {});
launcher.process.stdout?.pipe(process.stderr);
launcher.process.stderr?.pipe(process.stderr);

const cli = `node ${path.relative(process.cwd(), CLI)} --socket ${launcher.cmdSocket}`;
process.stdout.write(`
virt-launcher is ready in pod sandbox ${sandbox.podUID} (pid ${sandbox.pid}).
  sync the test guest:   ${cli} --vmi ${vmiFile} sync
  then:                  ${cli} domain | guestinfo | users | filesystems | pause | unpause | shutdown
  serial console socket: ${sandbox.hostPath(serialConsoleSocketPath(vmi.metadata.uid))}
Ctrl-C stops the launcher (SIGTERM: graceful shutdown) and removes the sandbox.
`);

const stop = async () => {
  await launcher.stop('SIGTERM');
  events.kill();
  await sandbox.destroy();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
await launcher.exited;
await stop();
