// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Long } from '@grpc/proto-loader';

export interface Pages {
  'count'?: (number | string | Long);
  'unit'?: (string);
  'size'?: (number);
}

export interface Pages__Output {
  'count': (string);
  'unit': (string);
  'size': (number);
}
