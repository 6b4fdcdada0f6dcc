// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentDiskStatsRequest {
}

export interface AgentDiskStatsRequest__Output {
}
