// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface GuestPingRequest {
  'domainName'?: (string);
  'timeoutSeconds'?: (number);
}

export interface GuestPingRequest__Output {
  'domainName': (string);
  'timeoutSeconds': (number);
}
