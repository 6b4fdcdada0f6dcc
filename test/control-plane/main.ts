// The control plane as a command, for the demo: starts it (or connects to $KUBECONFIG's cluster),
// prints the kubeconfig path on stdout, and stays up until SIGINT or SIGTERM.
//   node test/control-plane/main.ts        (or scripts/control-plane)
import { once } from 'node:events';
import { startControlPlane } from './control-plane.ts';

const started = Date.now();
const cp = await startControlPlane();
console.error(`control plane ${cp.url} ready in ${Date.now() - started} ms; stop with SIGINT or SIGTERM`);
console.log(cp.kubeconfigPath);
const [signal] = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
await cp.stop();
console.error(`control plane stopped (${String(signal)})`);
