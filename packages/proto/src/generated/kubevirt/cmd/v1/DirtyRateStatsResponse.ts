// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';
import type { Long } from '@grpc/proto-loader';

export interface DirtyRateStatsResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'dirtyRateMbs'?: (number | string | Long);
}

export interface DirtyRateStatsResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'dirtyRateMbs': (string);
}
