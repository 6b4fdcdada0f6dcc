// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentNetworkRouteRequest {
}

export interface AgentNetworkRouteRequest__Output {
}
