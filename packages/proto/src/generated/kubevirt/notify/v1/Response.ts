// Original file: proto/kubevirt/notify/v1/notify.proto


export interface Response {
  'success'?: (boolean);
  'message'?: (string);
}

export interface Response__Output {
  'success': (boolean);
  'message': (string);
}
