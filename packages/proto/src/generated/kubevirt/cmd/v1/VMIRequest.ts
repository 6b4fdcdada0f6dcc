// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { VMI as _kubevirt_cmd_v1_VMI, VMI__Output as _kubevirt_cmd_v1_VMI__Output } from '../../../kubevirt/cmd/v1/VMI.ts';
import type { VirtualMachineOptions as _kubevirt_cmd_v1_VirtualMachineOptions, VirtualMachineOptions__Output as _kubevirt_cmd_v1_VirtualMachineOptions__Output } from '../../../kubevirt/cmd/v1/VirtualMachineOptions.ts';

export interface VMIRequest {
  'vmi'?: (_kubevirt_cmd_v1_VMI | null);
  'options'?: (_kubevirt_cmd_v1_VirtualMachineOptions | null);
}

export interface VMIRequest__Output {
  'vmi': (_kubevirt_cmd_v1_VMI__Output | null);
  'options': (_kubevirt_cmd_v1_VirtualMachineOptions__Output | null);
}
