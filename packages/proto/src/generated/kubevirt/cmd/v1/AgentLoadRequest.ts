// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentLoadRequest {
}

export interface AgentLoadRequest__Output {
}
