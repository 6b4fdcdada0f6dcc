// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';

export interface ScreenshotResponse {
  'response'?: (_kubevirt_cmd_v1_Response | null);
  'mime'?: (string);
  'data'?: (Buffer | Uint8Array | string);
}

export interface ScreenshotResponse__Output {
  'response': (_kubevirt_cmd_v1_Response__Output | null);
  'mime': (string);
  'data': (Buffer);
}
