// Domain events as data: which virDomainEventID registers them, which MESSAGE procedure carries
// them, and how their body decodes (remote_domain_event_callback_*_msg). The body of every one
// starts with the callbackID the registration returned.
import {
  AgentLifecycleReason,
  AgentLifecycleState,
  DomainEventId,
  domainLifecycleDetail,
  RemoteProc,
  type AgentLifecycleReasonName,
  type AgentLifecycleStateName,
  type DomainLifecycleDetail,
} from './constants.ts';
import { readDomain, type Domain } from './procedures.ts';
import { readTypedParams, typedParamsToRecord, type TypedParamValue, type XdrReader } from './xdr.ts';

export type DomainLifecycleEvent = { domain: Domain } & DomainLifecycleDetail;

export interface DomainRebootEvent {
  domain: Domain;
}

export interface DomainDeviceEvent {
  domain: Domain;
  devAlias: string;
}

export interface DomainAgentLifecycleEvent {
  domain: Domain;
  state: AgentLifecycleStateName | 'UNKNOWN';
  reason: AgentLifecycleReasonName;
  stateCode: number;
  reasonCode: number;
}

export interface DomainMigrationIterationEvent {
  domain: Domain;
  iteration: number;
}

export interface DomainJobCompletedEvent {
  domain: Domain;
  params: Record<string, TypedParamValue>;
}

export interface DomainMemoryDeviceSizeChangeEvent {
  domain: Domain;
  alias: string;
  /** KiB */
  size: bigint;
}

/** Event name → the payload its listeners receive. */
export interface DomainEventPayloads {
  lifecycle: DomainLifecycleEvent;
  reboot: DomainRebootEvent;
  deviceRemoved: DomainDeviceEvent;
  agentLifecycle: DomainAgentLifecycleEvent;
  deviceAdded: DomainDeviceEvent;
  migrationIteration: DomainMigrationIterationEvent;
  jobCompleted: DomainJobCompletedEvent;
  deviceRemovalFailed: DomainDeviceEvent;
  memoryDeviceSizeChange: DomainMemoryDeviceSizeChangeEvent;
}

export type DomainEventName = keyof DomainEventPayloads;

interface DomainEventDef<T> {
  eventId: number;
  proc: number;
  decode(r: XdrReader): T;
}

function def<T>(eventId: number, proc: number, decode: (r: XdrReader) => T): DomainEventDef<T> {
  return { eventId, proc, decode };
}

const deviceEvent = (r: XdrReader): DomainDeviceEvent => ({ domain: readDomain(r), devAlias: r.string() });

const agentStates = new Map<number, AgentLifecycleStateName>(
  Object.entries(AgentLifecycleState).map(([k, v]) => [v, k as AgentLifecycleStateName]),
);
const agentReasons = new Map<number, AgentLifecycleReasonName>(
  Object.entries(AgentLifecycleReason).map(([k, v]) => [v, k as AgentLifecycleReasonName]),
);

export const domainEvents: { [K in DomainEventName]: DomainEventDef<DomainEventPayloads[K]> } = {
  lifecycle: def(DomainEventId.LIFECYCLE, RemoteProc.DOMAIN_EVENT_CALLBACK_LIFECYCLE, (r) => {
    const domain = readDomain(r);
    return { domain, ...domainLifecycleDetail(r.int(), r.int()) };
  }),
  reboot: def(DomainEventId.REBOOT, RemoteProc.DOMAIN_EVENT_CALLBACK_REBOOT, (r) => ({ domain: readDomain(r) })),
  deviceRemoved: def(DomainEventId.DEVICE_REMOVED, RemoteProc.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED, deviceEvent),
  agentLifecycle: def(DomainEventId.AGENT_LIFECYCLE, RemoteProc.DOMAIN_EVENT_CALLBACK_AGENT_LIFECYCLE, (r) => {
    const domain = readDomain(r);
    const stateCode = r.int();
    const reasonCode = r.int();
    return {
      domain,
      state: agentStates.get(stateCode) ?? 'UNKNOWN',
      reason: agentReasons.get(reasonCode) ?? 'UNKNOWN',
      stateCode,
      reasonCode,
    };
  }),
  deviceAdded: def(DomainEventId.DEVICE_ADDED, RemoteProc.DOMAIN_EVENT_CALLBACK_DEVICE_ADDED, deviceEvent),
  migrationIteration: def(DomainEventId.MIGRATION_ITERATION, RemoteProc.DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION, (r) => ({
    domain: readDomain(r),
    iteration: r.int(),
  })),
  jobCompleted: def(DomainEventId.JOB_COMPLETED, RemoteProc.DOMAIN_EVENT_CALLBACK_JOB_COMPLETED, (r) => ({
    domain: readDomain(r),
    params: typedParamsToRecord(readTypedParams(r)),
  })),
  deviceRemovalFailed: def(DomainEventId.DEVICE_REMOVAL_FAILED, RemoteProc.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED, deviceEvent),
  memoryDeviceSizeChange: def(DomainEventId.MEMORY_DEVICE_SIZE_CHANGE, RemoteProc.DOMAIN_EVENT_MEMORY_DEVICE_SIZE_CHANGE, (r) => ({
    domain: readDomain(r),
    alias: r.string(),
    size: r.uhyper(),
  })),
};

export const DOMAIN_EVENT_NAMES = Object.keys(domainEvents) as DomainEventName[];

const byProc = new Map<number, DomainEventName>(DOMAIN_EVENT_NAMES.map((name) => [domainEvents[name].proc, name]));

export interface DecodedDomainEvent {
  name: DomainEventName;
  callbackId: number;
  payload: DomainEventPayloads[DomainEventName];
}

/** Decodes a MESSAGE packet of the remote program; undefined for procedures we do not know. */
export function decodeDomainEvent(proc: number, r: XdrReader): DecodedDomainEvent | undefined {
  const name = byProc.get(proc);
  if (name === undefined) return undefined;
  const callbackId = r.int();
  const payload = domainEvents[name].decode(r);
  r.done();
  return { name, callbackId, payload };
}
