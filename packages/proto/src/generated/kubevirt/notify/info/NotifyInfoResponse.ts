// Original file: proto/kubevirt/notify/info/info.proto


export interface NotifyInfoResponse {
  'supportedNotifyVersions'?: (number)[];
}

export interface NotifyInfoResponse__Output {
  'supportedNotifyVersions': (number)[];
}
