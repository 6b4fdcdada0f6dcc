// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';

export interface SEVInfoResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'sevInfo'?: (Buffer | Uint8Array | string);
}

export interface SEVInfoResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'sevInfo': (Buffer);
}
