// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface DomainStatsRequest {
}

export interface DomainStatsRequest__Output {
}
