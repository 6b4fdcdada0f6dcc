// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentHostNameRequest {
}

export interface AgentHostNameRequest__Output {
}
