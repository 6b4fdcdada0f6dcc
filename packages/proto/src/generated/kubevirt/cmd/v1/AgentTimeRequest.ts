// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentTimeRequest {
}

export interface AgentTimeRequest__Output {
}
