// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';

export interface GuestInfoResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'guestInfoResponse'?: (string);
}

export interface GuestInfoResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'guestInfoResponse': (string);
}
