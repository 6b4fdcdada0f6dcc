// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';

export interface GuestFilesystemsResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'guestFilesystemsResponse'?: (string);
}

export interface GuestFilesystemsResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'guestFilesystemsResponse': (string);
}
