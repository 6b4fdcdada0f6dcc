// compute.HypervisorFeaturesDomainConfigurator on amd64: ACPI unless turned off, APIC and SMM when
// asked for, the Hyper-V enlightenments (Windows guests), KVM hidden, PV spinlocks, and the VMware
// I/O port off.
import {
  featureHypervCodec,
  featureSpinlocksCodec,
  featuresCodec,
  newStruct,
  type FeatureHyperv,
  type FeatureState,
} from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

/** v1.FeatureState and its kin as this converter reads them (shared keeps `hyperv` opaque). */
interface State {
  enabled?: boolean;
}
export interface VMIHyperv {
  relaxed?: State;
  vapic?: State;
  spinlocks?: State & { spinlocks?: number };
  vpindex?: State;
  runtime?: State;
  synic?: State;
  synictimer?: State & { direct?: State };
  reset?: State;
  vendorid?: State & { vendorid?: string };
  frequencies?: State;
  reenlightenment?: State;
  tlbflush?: State;
  ipi?: State;
  evmcs?: State;
}

/** boolToOnOff: unset means the default */
function onOff(enabled: boolean | undefined, unset: boolean): string {
  return (enabled ?? unset) ? 'on' : 'off';
}

function state(source: State | undefined): FeatureState | null {
  return source ? { State: onOff(source.enabled, true) } : null;
}

function convertHyperv(source: VMIHyperv): FeatureHyperv {
  return newStruct(featureHypervCodec, {
    Relaxed: state(source.relaxed),
    VAPIC: state(source.vapic),
    Spinlocks: source.spinlocks
      ? newStruct(featureSpinlocksCodec, {
          State: onOff(source.spinlocks.enabled, true),
          // the API's default retry count (SetDefaults_FeatureSpinlocks)
          Retries: source.spinlocks.spinlocks ?? 4096,
        })
      : null,
    VPIndex: state(source.vpindex),
    Runtime: state(source.runtime),
    SyNIC: state(source.synic),
    SyNICTimer: source.synictimer ? { State: onOff(source.synictimer.enabled, true), Direct: state(source.synictimer.direct) } : null,
    Reset: state(source.reset),
    VendorID: source.vendorid ? { State: onOff(source.vendorid.enabled, true), Value: source.vendorid.vendorid ?? '' } : null,
    Frequencies: state(source.frequencies),
    Reenlightenment: state(source.reenlightenment),
    TLBFlush: state(source.tlbflush),
    IPI: state(source.ipi),
    EVMCS: state(source.evmcs),
  });
}

export const configureHypervisorFeatures: DomainConfigurator = (vmi, spec) => {
  const source = vmi.spec.domain.features;
  if (!source) return;
  const kvm = source.kvm as { hidden?: boolean } | undefined;
  spec.Features = newStruct(featuresCodec, {
    ACPI: source.acpi?.enabled === false ? null : {},
    APIC: source.apic && source.apic.enabled !== false ? {} : null,
    SMM: source.smm && source.smm.enabled !== false ? {} : null,
    Hyperv: source.hyperv ? convertHyperv(source.hyperv as VMIHyperv) : null,
    KVM: kvm ? { Hidden: { State: onOff(kvm.hidden, false) }, HintDedicated: null } : null,
    PVSpinlock: source.pvspinlock ? { State: onOff(source.pvspinlock.enabled, true) } : null,
    VMPort: { State: 'off' },
  });
};
