// Original file: proto/kubevirt/cmd/info/info.proto


export interface CmdInfoRequest {
}

export interface CmdInfoRequest__Output {
}
