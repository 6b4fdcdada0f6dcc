// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentOsInfoRequest {
}

export interface AgentOsInfoRequest__Output {
}
