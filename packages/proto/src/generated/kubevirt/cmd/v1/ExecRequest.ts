// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface ExecRequest {
  'domainName'?: (string);
  'Command'?: (string);
  'Args'?: (string)[];
  'timeoutSeconds'?: (number);
}

export interface ExecRequest__Output {
  'domainName': (string);
  'Command': (string);
  'Args': (string)[];
  'timeoutSeconds': (number);
}
