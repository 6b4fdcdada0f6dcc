// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface DirtyRateRequest {
}

export interface DirtyRateRequest__Output {
}
