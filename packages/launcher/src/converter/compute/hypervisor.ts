// kvm.KvmDomainConfigurator: KVM when the launcher found /dev/kvm, else software emulation (TCG,
// `<domain type='qemu'>`) if the cluster allows it (`--allow-emulation`), else the VMI cannot run.
import type { DomainConfigurator } from '../configurator.ts';
import type { ResolvedContext } from '../context.ts';

/** KubeVirt's text, word for word: virt-handler shows it as the Sync failure. */
export const KVM_NOT_PRESENT = 'kvm not present and emulation is not allowed';

/** Whether the domain runs under software emulation (so host-passthrough and the like cannot work). */
export function softwareEmulation(ctx: Pick<ResolvedContext, 'hypervisorDeviceAvailable'>): boolean {
  return !ctx.hypervisorDeviceAvailable;
}

export const configureHypervisor: DomainConfigurator = (_vmi, spec, ctx) => {
  if (ctx.hypervisorDeviceAvailable) return;
  if (!ctx.allowEmulation) throw new Error(KVM_NOT_PRESENT);
  spec.Type = 'qemu';
};
