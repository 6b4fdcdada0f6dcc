// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Long } from '@grpc/proto-loader';

export interface Sibling {
  'id'?: (number);
  'value'?: (number | string | Long);
}

export interface Sibling__Output {
  'id': (number);
  'value': (string);
}
