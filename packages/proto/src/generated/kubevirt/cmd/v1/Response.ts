// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface Response {
  'success'?: (boolean);
  'message'?: (string);
}

export interface Response__Output {
  'success': (boolean);
  'message': (string);
}
