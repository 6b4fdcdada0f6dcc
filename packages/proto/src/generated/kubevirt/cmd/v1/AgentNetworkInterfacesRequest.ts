// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface AgentNetworkInterfacesRequest {
}

export interface AgentNetworkInterfacesRequest__Output {
}
