// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Long } from '@grpc/proto-loader';

export interface Memory {
  'amount'?: (number | string | Long);
  'unit'?: (string);
}

export interface Memory__Output {
  'amount': (string);
  'unit': (string);
}
