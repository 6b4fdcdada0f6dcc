// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';

export interface GuestUserListResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'guestUserListResponse'?: (string);
}

export interface GuestUserListResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'guestUserListResponse': (string);
}
