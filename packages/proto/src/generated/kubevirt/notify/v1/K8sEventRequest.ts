// Original file: proto/kubevirt/notify/v1/notify.proto


export interface K8sEventRequest {
  'eventJSON'?: (Buffer | Uint8Array | string);
}

export interface K8sEventRequest__Output {
  'eventJSON': (Buffer);
}
