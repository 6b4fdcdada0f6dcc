// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Cell as _kubevirt_cmd_v1_Cell, Cell__Output as _kubevirt_cmd_v1_Cell__Output } from '../../../kubevirt/cmd/v1/Cell.ts';

export interface Topology {
  'numa_cells'?: (_kubevirt_cmd_v1_Cell)[];
}

export interface Topology__Output {
  'numa_cells': (_kubevirt_cmd_v1_Cell__Output)[];
}
