// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface VMI {
  'vmiJson'?: (Buffer | Uint8Array | string);
}

export interface VMI__Output {
  'vmiJson': (Buffer);
}
