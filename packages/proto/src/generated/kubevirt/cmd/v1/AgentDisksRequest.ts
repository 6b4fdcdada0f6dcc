// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentDisksRequest {
}

export interface AgentDisksRequest__Output {
}
