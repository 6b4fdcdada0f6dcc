// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';

export interface GuestPingResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
}

export interface GuestPingResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
}
