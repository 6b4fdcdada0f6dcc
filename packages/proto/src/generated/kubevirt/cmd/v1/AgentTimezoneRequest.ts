// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentTimezoneRequest {
}

export interface AgentTimezoneRequest__Output {
}
