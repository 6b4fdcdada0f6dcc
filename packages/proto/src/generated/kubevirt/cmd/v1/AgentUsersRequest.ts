// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentUsersRequest {
}

export interface AgentUsersRequest__Output {
}
