// Our VMI field names against KubeVirt's own (the OpenAPI-generated types of
// @kubevirt-ui-ext/kubevirt-api): a field we read or accept under a name KubeVirt does not have fails
// `tsc -b`, as `clock.timer.*.enabled` (KubeVirt's is `present`) would have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  V1Clock,
  V1FeatureHyperv,
  V1Input,
  V1PanicDevice,
  V1SoundDevice,
  V1Watchdog,
  V1TPMDevice,
  V1VirtualMachineInstance,
  V1VirtualMachineInstanceSpec,
} from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import type { VirtualMachineInstance, VirtualMachineInstanceSpec } from '@kubevirt-ts/shared';
import type { VMIClock } from '../src/converter/compute/clock.ts';
import type { VMIHyperv } from '../src/converter/compute/hypervisor-features.ts';
import type { VMIInput } from '../src/converter/compute/input.ts';
import type { VMIWatchdog } from '../src/converter/compute/watchdog.ts';
import type { VMITPM } from '../src/converter/compute/tpm.ts';
import type { VMISound } from '../src/converter/compute/sound.ts';
import type { VMIPanicDevice } from '../src/converter/compute/panic-devices.ts';
import { SUPPORTED_FIELDS } from '../src/converter/index.ts';

type Item<T> = T extends readonly (infer E)[] ? E : T;
type Node<T> = NonNullable<Item<NonNullable<T>>>;

type NamedKeys<T> = keyof { [K in keyof T & string as string extends K ? never : K]: 0 } & string;

type Fields<Ours, Theirs, Path extends string> = {
  // an index signature (an object we keep opaque) names no field
  [K in NamedKeys<Ours>]: K extends keyof Theirs ? UnknownFields<Ours[K], Theirs[K], `${Path}.${K}`> : `${Path}.${K}`;
};

/** The paths (dot-separated) of `Ours` whose last name `Theirs` lacks; never when every name is KubeVirt's. */
export type UnknownFields<Ours, Theirs, Path extends string = ''> =
  Node<Ours> extends object ? (Node<Theirs> extends object ? Fields<Node<Ours>, Node<Theirs>, Path>[NamedKeys<Node<Ours>>] : never) : never;

/**
 * Where the generated types are not the wire's names: `default` becomes `_default`, `VSOCKCID`
 * `vSOCKCID`, and metav1.Time fields and the spec's serviceAccountName (types.go) are left out.
 */
type GeneratorRenames =
  | 'spec.serviceAccountName'
  | 'spec.networks.multus.default'
  | '.spec.serviceAccountName'
  | '.spec.networks.multus.default'
  | '.status.VSOCKCID'
  | '.status.conditions.lastProbeTime'
  | '.status.conditions.lastTransitionTime';

type Assert<T extends never> = T;
type Renamed<T> = Exclude<T, GeneratorRenames>;

// the shared VMI schema: spec and status, every field named as KubeVirt names it
export type SpecFields = Assert<Renamed<UnknownFields<VirtualMachineInstanceSpec, V1VirtualMachineInstanceSpec, 'spec'>>>;
export type VMIFields = Assert<Renamed<UnknownFields<VirtualMachineInstance, V1VirtualMachineInstance>>>;
// what the converter reads from the parts shared keeps opaque
export type ClockFields = Assert<UnknownFields<VMIClock, V1Clock, 'clock'>>;
export type HypervFields = Assert<UnknownFields<VMIHyperv, V1FeatureHyperv, 'hyperv'>>;
export type InputFields = Assert<UnknownFields<VMIInput, V1Input, 'input'>>;
export type TPMFields = Assert<UnknownFields<VMITPM, V1TPMDevice, 'tpm'>>;
export type SoundFields = Assert<UnknownFields<VMISound, V1SoundDevice, 'sound'>>;
export type PanicDeviceFields = Assert<UnknownFields<VMIPanicDevice, V1PanicDevice, 'panic'>>;
export type WatchdogFields = Assert<UnknownFields<VMIWatchdog, V1Watchdog, 'watchdog'>>;

// the check itself can fail: the old timer switch is caught, with its path
type OldTimer = UnknownFields<{ timer: { hpet: { enabled: boolean } } }, V1Clock, 'clock'>;
export const oldTimer: OldTimer = 'clock.timer.hpet.enabled';
// @ts-expect-error a path KubeVirt does have is not reported
export const presentTimer: UnknownFields<{ timer: { hpet: { present: boolean } } }, V1Clock, 'clock'> = 'clock.timer.hpet.present';

test('every SUPPORTED_FIELDS path is a KubeVirt field name (the type check above covers the names it reads)', () => {
  // spot-check the list against the names the types prove: the clock's timers are switched by present
  const timers = SUPPORTED_FIELDS.filter((f) => f.startsWith('spec.domain.clock.timer.'));
  assert.ok(timers.length > 0);
  for (const f of timers) assert.doesNotMatch(f, /\.enabled$/, f);
});
