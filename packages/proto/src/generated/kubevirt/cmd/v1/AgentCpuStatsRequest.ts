// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentCpuStatsRequest {
}

export interface AgentCpuStatsRequest__Output {
}
