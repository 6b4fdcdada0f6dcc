// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { VMI as _kubevirt_cmd_v1_VMI, VMI__Output as _kubevirt_cmd_v1_VMI__Output } from '../../../kubevirt/cmd/v1/VMI.ts';

export interface MemoryDumpRequest {
  'vmi'?: (_kubevirt_cmd_v1_VMI | null);
  'dumpPath'?: (string);
}

export interface MemoryDumpRequest__Output {
  'vmi': (_kubevirt_cmd_v1_VMI__Output | null);
  'dumpPath': (string);
}
