// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';
import type { DomainStatsResponse as _kubevirt_cmd_v1_DomainStatsResponse, DomainStatsResponse__Output as _kubevirt_cmd_v1_DomainStatsResponse__Output } from '../../../kubevirt/cmd/v1/DomainStatsResponse.ts';
import type { DirtyRateStatsResponse as _kubevirt_cmd_v1_DirtyRateStatsResponse, DirtyRateStatsResponse__Output as _kubevirt_cmd_v1_DirtyRateStatsResponse__Output } from '../../../kubevirt/cmd/v1/DirtyRateStatsResponse.ts';

export interface VMStatsResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'domainStats'?: (_kubevirt_cmd_v1_DomainStatsResponse | null);
  'dirtyRateStats'?: (_kubevirt_cmd_v1_DirtyRateStatsResponse | null);
  'guestAgentVersion'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetLoad'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetCpuStats'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetDiskStats'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetTime'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetVcpus'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetMemoryBlockInfo'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetUsers'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetOsInfo'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetDisks'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetHostName'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetTimezone'?: (_kubevirt_cmd_v1_Response | null);
  'guestNetworkGetRoute'?: (_kubevirt_cmd_v1_Response | null);
  'guestNetworkGetInterfaces'?: (_kubevirt_cmd_v1_Response | null);
  'guestGetMemoryBlocks'?: (_kubevirt_cmd_v1_Response | null);
}

export interface VMStatsResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'domainStats': (_kubevirt_cmd_v1_DomainStatsResponse__Output | null);
  'dirtyRateStats': (_kubevirt_cmd_v1_DirtyRateStatsResponse__Output | null);
  'guestAgentVersion': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetLoad': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetCpuStats': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetDiskStats': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetTime': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetVcpus': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetMemoryBlockInfo': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetUsers': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetOsInfo': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetDisks': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetHostName': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetTimezone': (_kubevirt_cmd_v1_Response__Output | null);
  'guestNetworkGetRoute': (_kubevirt_cmd_v1_Response__Output | null);
  'guestNetworkGetInterfaces': (_kubevirt_cmd_v1_Response__Output | null);
  'guestGetMemoryBlocks': (_kubevirt_cmd_v1_Response__Output | null);
}
