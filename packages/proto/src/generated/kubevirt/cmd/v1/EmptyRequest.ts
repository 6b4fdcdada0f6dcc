// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface EmptyRequest {
}

export interface EmptyRequest__Output {
}
