// Original file: proto/kubevirt/notify/v1/notify.proto


export interface DomainEventRequest {
  'domainJSON'?: (Buffer | Uint8Array | string);
  'statusJSON'?: (Buffer | Uint8Array | string);
  'eventType'?: (string);
}

export interface DomainEventRequest__Output {
  'domainJSON': (Buffer);
  'statusJSON': (Buffer);
  'eventType': (string);
}
