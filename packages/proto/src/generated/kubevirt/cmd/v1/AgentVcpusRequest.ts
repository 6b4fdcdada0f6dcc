// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentVcpusRequest {
}

export interface AgentVcpusRequest__Output {
}
