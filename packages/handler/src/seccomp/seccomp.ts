// pkg/virt-handler/seccomp: with the KubevirtSeccompProfile feature gate on, virt-handler installs
// KubeVirt's seccomp profile as `<kubelet-root>/seccomp/kubevirt/kubevirt.json`, where the kubelet finds
// a Localhost profile named `kubevirt/kubevirt.json` — the one virt-controller puts on launcher pods when
// the CR's seccompConfiguration asks for it. The profile is containers/common's default with
// userfaultfd allowed (post-copy migration needs it). It is installed at start and on every CR change.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage, withReason, type Logger } from '@kubevirt-ts/shared';
// containers/common's default profile as Debian's golang-github-containers-common 0.50.1 ships it
// (/usr/share/containers/seccomp.json), the profile KubeVirt builds from seccomp.DefaultProfile().
import containersDefault from './containers-default.json' with { type: 'json' };

export const KubevirtSeccompProfileFeatureGate = 'KubevirtSeccompProfile';
/** The profile's path under the kubelet's seccomp root: what `localhostProfile` names. */
export const KubevirtProfileName = 'kubevirt/kubevirt.json';

const ActErrno = 'SCMP_ACT_ERRNO';
const ActAllow = 'SCMP_ACT_ALLOW';

interface SyscallRule {
  names: string[];
  action: string;
  [field: string]: unknown;
}

export interface SeccompProfile {
  defaultAction: string;
  syscalls: SyscallRule[];
  [field: string]: unknown;
}

/** defaultProfile(): the default with userfaultfd out of its first errno rule and allowed instead. */
export function kubevirtProfile(base: SeccompProfile = containersDefault as SeccompProfile): SeccompProfile {
  const syscalls: SyscallRule[] = base.syscalls.map((rule) => ({ ...rule, names: [...rule.names] }));
  const denying = syscalls.find((rule) => rule.names.includes('userfaultfd'));
  // KubeVirt drops it from the first rule naming it only when that rule denies it
  if (denying?.action === ActErrno) denying.names = denying.names.filter((name) => name !== 'userfaultfd');
  syscalls.push({ names: ['userfaultfd'], action: ActAllow, args: [] });
  return { ...base, syscalls };
}

/** InstallPolicy: writes the profile unless the same bytes are already there. */
export function installPolicy(kubeletRoot: string, profile: SeccompProfile = kubevirtProfile()): void {
  const fail = (err: unknown) => new Error(`failed to install default seccomp profile: ${errorMessage(err)}`);
  const installPath = path.join(kubeletRoot, 'seccomp', 'kubevirt');
  const profilePath = path.join(installPath, 'kubevirt.json');
  const bytes = JSON.stringify(profile);
  let current: string | undefined;
  try {
    mkdirSync(installPath, { recursive: true, mode: 0o700 });
    current = readFileSync(profilePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(err);
  }
  if (current === bytes) return;
  try {
    writeFileSync(profilePath, bytes, { mode: 0o700 });
  } catch (err) {
    throw fail(err);
  }
}

/** shouldInstallKubevirtSeccompProfile: the cluster-config callback. */
export function shouldInstallKubevirtSeccompProfile(enabled: boolean, kubeletRoot: string, logger: Logger): void {
  if (!enabled) {
    logger.info('Kubevirt Seccomp profile is not enabled');
    return;
  }
  try {
    installPolicy(kubeletRoot);
  } catch (err) {
    withReason(logger, err).error(`Failed to install Kubevirt Seccomp profile, ${errorMessage(err)}`);
    return;
  }
  logger.info(`Kubevirt Seccomp profile was installed at ${kubeletRoot}`);
}
