// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Memory as _kubevirt_cmd_v1_Memory, Memory__Output as _kubevirt_cmd_v1_Memory__Output } from '../../../kubevirt/cmd/v1/Memory.ts';
import type { Pages as _kubevirt_cmd_v1_Pages, Pages__Output as _kubevirt_cmd_v1_Pages__Output } from '../../../kubevirt/cmd/v1/Pages.ts';
import type { Sibling as _kubevirt_cmd_v1_Sibling, Sibling__Output as _kubevirt_cmd_v1_Sibling__Output } from '../../../kubevirt/cmd/v1/Sibling.ts';
import type { CPU as _kubevirt_cmd_v1_CPU, CPU__Output as _kubevirt_cmd_v1_CPU__Output } from '../../../kubevirt/cmd/v1/CPU.ts';

export interface Cell {
  'id'?: (number);
  'memory'?: (_kubevirt_cmd_v1_Memory | null);
  'pages'?: (_kubevirt_cmd_v1_Pages)[];
  'distances'?: (_kubevirt_cmd_v1_Sibling)[];
  'cpus'?: (_kubevirt_cmd_v1_CPU)[];
}

export interface Cell__Output {
  'id': (number);
  'memory': (_kubevirt_cmd_v1_Memory__Output | null);
  'pages': (_kubevirt_cmd_v1_Pages__Output)[];
  'distances': (_kubevirt_cmd_v1_Sibling__Output)[];
  'cpus': (_kubevirt_cmd_v1_CPU__Output)[];
}
