// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { VMI as _kubevirt_cmd_v1_VMI, VMI__Output as _kubevirt_cmd_v1_VMI__Output } from '../../../kubevirt/cmd/v1/VMI.ts';

export interface InjectLaunchSecretRequest {
  'vmi'?: (_kubevirt_cmd_v1_VMI | null);
  'options'?: (Buffer | Uint8Array | string);
}

export interface InjectLaunchSecretRequest__Output {
  'vmi': (_kubevirt_cmd_v1_VMI__Output | null);
  'options': (Buffer);
}
