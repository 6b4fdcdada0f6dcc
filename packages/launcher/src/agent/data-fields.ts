// KubeVirt's agentDataFields (cmd-server): each VMStatsRequest marker, the guest-agent command
// GetVMStats runs for it, and the VMStatsResponse field its raw reply goes into.
import type { cmdv1 } from '@kubevirt-ts/proto';

type StatsField = keyof cmdv1.VMStatsRequest__Output & keyof cmdv1.VMStatsResponse;

export const AGENT_DATA_FIELDS = [
  ['guestGetLoad', 'guest-get-load'],
  ['guestGetCpuStats', 'guest-get-cpustats'],
  ['guestGetDiskStats', 'guest-get-diskstats'],
  ['guestGetTime', 'guest-get-time'],
  ['guestGetVcpus', 'guest-get-vcpus'],
  ['guestGetMemoryBlockInfo', 'guest-get-memory-block-info'],
  ['guestGetUsers', 'guest-get-users'],
  ['guestGetOsInfo', 'guest-get-osinfo'],
  ['guestGetDisks', 'guest-get-disks'],
  ['guestGetHostName', 'guest-get-host-name'],
  ['guestGetTimezone', 'guest-get-timezone'],
  ['guestNetworkGetRoute', 'guest-network-get-route'],
  ['guestNetworkGetInterfaces', 'guest-network-get-interfaces'],
  ['guestGetMemoryBlocks', 'guest-get-memory-blocks'],
] as const satisfies ReadonlyArray<readonly [StatsField, `guest-${string}`]>;

/** The guest-agent commands GetVMStats may ask for. */
export type AgentDataCommand = (typeof AGENT_DATA_FIELDS)[number][1];
