// One control plane for a whole `node --test` run, shared by every test file:
//   node --test --test-global-setup=test/control-plane/global-setup.ts ...
// It starts before the files run (or connects to $KUBECONFIG's cluster) and hands them its KUBECONFIG,
// so each file's startControlPlane() connects to it instead of starting its own.
import { startControlPlane, type ControlPlane } from './control-plane.ts';

let cp: ControlPlane | undefined;

export async function globalSetup(): Promise<void> {
  cp = await startControlPlane();
  Object.assign(process.env, cp.env);
}

export async function globalTeardown(): Promise<void> {
  await cp?.stop();
}
