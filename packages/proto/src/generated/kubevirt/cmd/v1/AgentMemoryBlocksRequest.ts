// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentMemoryBlocksRequest {
}

export interface AgentMemoryBlocksRequest__Output {
}
