// compute.ClockDomainConfigurator: the VMI's clock and timers, when it has any (KubeVirt adds none
// of its own; the TSC frequency hint needs a topology hint this port does not have).
import { newStruct, timerCodec, type Clock, type Timer } from '../../api/index.ts';
import type { DomainConfigurator } from '../configurator.ts';

export const configureClock: DomainConfigurator = (vmi, spec) => {
  const source = vmi.spec.domain.clock as VMIClock | undefined;
  if (!source) return;
  const clock: Clock = { Offset: '', Timezone: '', Adjustment: '', Timer: null };
  if (source.utc) {
    clock.Offset = 'utc';
    clock.Adjustment = source.utc.offsetSeconds === undefined ? 'reset' : String(source.utc.offsetSeconds);
  } else if (source.timezone !== undefined) {
    clock.Offset = 'timezone';
    clock.Timezone = source.timezone;
  }
  const t = source.timer;
  if (t) {
    const timers: Timer[] = [];
    if (t.rtc) {
      timers.push(timer('rtc', t.rtc.present, { Track: t.rtc.track ?? '', TickPolicy: t.rtc.tickPolicy ?? '' }));
    }
    if (t.pit) timers.push(timer('pit', t.pit.present, { TickPolicy: t.pit.tickPolicy ?? '' }));
    if (t.kvm) timers.push(timer('kvmclock', t.kvm.present));
    if (t.hpet) timers.push(timer('hpet', t.hpet.present, { TickPolicy: t.hpet.tickPolicy ?? '' }));
    if (t.hyperv) timers.push(timer('hypervclock', t.hyperv.present));
    clock.Timer = timers;
  }
  spec.Clock = clock;
};

function timer(name: string, present: boolean | undefined, rest: Partial<Timer> = {}): Timer {
  return newStruct(timerCodec, { Name: name, Present: present === false ? 'no' : 'yes', ...rest });
}

interface VMITimer {
  /** the Go field Enabled, whose JSON name is `present` */
  present?: boolean;
}
interface TickingTimer extends VMITimer {
  tickPolicy?: string;
}

/** v1.Clock as this converter reads it (shared keeps the clock opaque). */
export interface VMIClock {
  utc?: { offsetSeconds?: number };
  timezone?: string;
  timer?: { hpet?: TickingTimer; pit?: TickingTimer; rtc?: TickingTimer & { track?: string }; kvm?: VMITimer; hyperv?: VMITimer };
}
