// One step of the conversion, as KubeVirt's DomainConfigurator: reads the (defaulted) VMI, writes
// its part of the domain.
import type { VirtualMachineInstance } from '@kubevirt-ts/shared';
import type { DomainSpec } from '../api/index.ts';
import type { ResolvedContext } from './context.ts';

export type DomainConfigurator = (vmi: VirtualMachineInstance, spec: DomainSpec, ctx: ResolvedContext) => void;
