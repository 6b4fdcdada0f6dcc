// Original file: proto/kubevirt/notify/info/info.proto


export interface NotifyInfoRequest {
}

export interface NotifyInfoRequest__Output {
}
