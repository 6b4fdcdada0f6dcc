// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentMemoryBlockInfoRequest {
}

export interface AgentMemoryBlockInfoRequest__Output {
}
