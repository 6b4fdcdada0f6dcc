// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { DomainStatsRequest as _kubevirt_cmd_v1_DomainStatsRequest, DomainStatsRequest__Output as _kubevirt_cmd_v1_DomainStatsRequest__Output } from '../../../kubevirt/cmd/v1/DomainStatsRequest.ts';
import type { DirtyRateRequest as _kubevirt_cmd_v1_DirtyRateRequest, DirtyRateRequest__Output as _kubevirt_cmd_v1_DirtyRateRequest__Output } from '../../../kubevirt/cmd/v1/DirtyRateRequest.ts';
import type { AgentLoadRequest as _kubevirt_cmd_v1_AgentLoadRequest, AgentLoadRequest__Output as _kubevirt_cmd_v1_AgentLoadRequest__Output } from '../../../kubevirt/cmd/v1/AgentLoadRequest.ts';
import type { AgentCpuStatsRequest as _kubevirt_cmd_v1_AgentCpuStatsRequest, AgentCpuStatsRequest__Output as _kubevirt_cmd_v1_AgentCpuStatsRequest__Output } from '../../../kubevirt/cmd/v1/AgentCpuStatsRequest.ts';
import type { AgentDiskStatsRequest as _kubevirt_cmd_v1_AgentDiskStatsRequest, AgentDiskStatsRequest__Output as _kubevirt_cmd_v1_AgentDiskStatsRequest__Output } from '../../../kubevirt/cmd/v1/AgentDiskStatsRequest.ts';
import type { AgentTimeRequest as _kubevirt_cmd_v1_AgentTimeRequest, AgentTimeRequest__Output as _kubevirt_cmd_v1_AgentTimeRequest__Output } from '../../../kubevirt/cmd/v1/AgentTimeRequest.ts';
import type { AgentVcpusRequest as _kubevirt_cmd_v1_AgentVcpusRequest, AgentVcpusRequest__Output as _kubevirt_cmd_v1_AgentVcpusRequest__Output } from '../../../kubevirt/cmd/v1/AgentVcpusRequest.ts';
import type { AgentMemoryBlockInfoRequest as _kubevirt_cmd_v1_AgentMemoryBlockInfoRequest, AgentMemoryBlockInfoRequest__Output as _kubevirt_cmd_v1_AgentMemoryBlockInfoRequest__Output } from '../../../kubevirt/cmd/v1/AgentMemoryBlockInfoRequest.ts';
import type { AgentUsersRequest as _kubevirt_cmd_v1_AgentUsersRequest, AgentUsersRequest__Output as _kubevirt_cmd_v1_AgentUsersRequest__Output } from '../../../kubevirt/cmd/v1/AgentUsersRequest.ts';
import type { AgentOsInfoRequest as _kubevirt_cmd_v1_AgentOsInfoRequest, AgentOsInfoRequest__Output as _kubevirt_cmd_v1_AgentOsInfoRequest__Output } from '../../../kubevirt/cmd/v1/AgentOsInfoRequest.ts';
import type { AgentDisksRequest as _kubevirt_cmd_v1_AgentDisksRequest, AgentDisksRequest__Output as _kubevirt_cmd_v1_AgentDisksRequest__Output } from '../../../kubevirt/cmd/v1/AgentDisksRequest.ts';
import type { AgentHostNameRequest as _kubevirt_cmd_v1_AgentHostNameRequest, AgentHostNameRequest__Output as _kubevirt_cmd_v1_AgentHostNameRequest__Output } from '../../../kubevirt/cmd/v1/AgentHostNameRequest.ts';
import type { AgentTimezoneRequest as _kubevirt_cmd_v1_AgentTimezoneRequest, AgentTimezoneRequest__Output as _kubevirt_cmd_v1_AgentTimezoneRequest__Output } from '../../../kubevirt/cmd/v1/AgentTimezoneRequest.ts';
import type { AgentNetworkRouteRequest as _kubevirt_cmd_v1_AgentNetworkRouteRequest, AgentNetworkRouteRequest__Output as _kubevirt_cmd_v1_AgentNetworkRouteRequest__Output } from '../../../kubevirt/cmd/v1/AgentNetworkRouteRequest.ts';
import type { AgentNetworkInterfacesRequest as _kubevirt_cmd_v1_AgentNetworkInterfacesRequest, AgentNetworkInterfacesRequest__Output as _kubevirt_cmd_v1_AgentNetworkInterfacesRequest__Output } from '../../../kubevirt/cmd/v1/AgentNetworkInterfacesRequest.ts';
import type { AgentMemoryBlocksRequest as _kubevirt_cmd_v1_AgentMemoryBlocksRequest, AgentMemoryBlocksRequest__Output as _kubevirt_cmd_v1_AgentMemoryBlocksRequest__Output } from '../../../kubevirt/cmd/v1/AgentMemoryBlocksRequest.ts';

export interface VMStatsRequest {
  'domainStats'?: (_kubevirt_cmd_v1_DomainStatsRequest | null);
  'dirtyRate'?: (_kubevirt_cmd_v1_DirtyRateRequest | null);
  'guestGetLoad'?: (_kubevirt_cmd_v1_AgentLoadRequest | null);
  'guestGetCpuStats'?: (_kubevirt_cmd_v1_AgentCpuStatsRequest | null);
  'guestGetDiskStats'?: (_kubevirt_cmd_v1_AgentDiskStatsRequest | null);
  'guestGetTime'?: (_kubevirt_cmd_v1_AgentTimeRequest | null);
  'guestGetVcpus'?: (_kubevirt_cmd_v1_AgentVcpusRequest | null);
  'guestGetMemoryBlockInfo'?: (_kubevirt_cmd_v1_AgentMemoryBlockInfoRequest | null);
  'guestGetUsers'?: (_kubevirt_cmd_v1_AgentUsersRequest | null);
  'guestGetOsInfo'?: (_kubevirt_cmd_v1_AgentOsInfoRequest | null);
  'guestGetDisks'?: (_kubevirt_cmd_v1_AgentDisksRequest | null);
  'guestGetHostName'?: (_kubevirt_cmd_v1_AgentHostNameRequest | null);
  'guestGetTimezone'?: (_kubevirt_cmd_v1_AgentTimezoneRequest | null);
  'guestNetworkGetRoute'?: (_kubevirt_cmd_v1_AgentNetworkRouteRequest | null);
  'guestNetworkGetInterfaces'?: (_kubevirt_cmd_v1_AgentNetworkInterfacesRequest | null);
  'guestGetMemoryBlocks'?: (_kubevirt_cmd_v1_AgentMemoryBlocksRequest | null);
}

export interface VMStatsRequest__Output {
  'domainStats': (_kubevirt_cmd_v1_DomainStatsRequest__Output | null);
  'dirtyRate': (_kubevirt_cmd_v1_DirtyRateRequest__Output | null);
  'guestGetLoad': (_kubevirt_cmd_v1_AgentLoadRequest__Output | null);
  'guestGetCpuStats': (_kubevirt_cmd_v1_AgentCpuStatsRequest__Output | null);
  'guestGetDiskStats': (_kubevirt_cmd_v1_AgentDiskStatsRequest__Output | null);
  'guestGetTime': (_kubevirt_cmd_v1_AgentTimeRequest__Output | null);
  'guestGetVcpus': (_kubevirt_cmd_v1_AgentVcpusRequest__Output | null);
  'guestGetMemoryBlockInfo': (_kubevirt_cmd_v1_AgentMemoryBlockInfoRequest__Output | null);
  'guestGetUsers': (_kubevirt_cmd_v1_AgentUsersRequest__Output | null);
  'guestGetOsInfo': (_kubevirt_cmd_v1_AgentOsInfoRequest__Output | null);
  'guestGetDisks': (_kubevirt_cmd_v1_AgentDisksRequest__Output | null);
  'guestGetHostName': (_kubevirt_cmd_v1_AgentHostNameRequest__Output | null);
  'guestGetTimezone': (_kubevirt_cmd_v1_AgentTimezoneRequest__Output | null);
  'guestNetworkGetRoute': (_kubevirt_cmd_v1_AgentNetworkRouteRequest__Output | null);
  'guestNetworkGetInterfaces': (_kubevirt_cmd_v1_AgentNetworkInterfacesRequest__Output | null);
  'guestGetMemoryBlocks': (_kubevirt_cmd_v1_AgentMemoryBlocksRequest__Output | null);
}
