// Original file: proto/kubevirt/cmd/info/info.proto


export interface CmdInfoResponse {
  'supportedCmdVersions'?: (number)[];
}

export interface CmdInfoResponse__Output {
  'supportedCmdVersions': (number)[];
}
