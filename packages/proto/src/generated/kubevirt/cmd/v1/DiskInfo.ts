// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { Long } from '@grpc/proto-loader';

export interface DiskInfo {
  'format'?: (string);
  'backingFile'?: (string);
  'actualSize'?: (number | string | Long);
  'virtualSize'?: (number | string | Long);
}

export interface DiskInfo__Output {
  'format': (string);
  'backingFile': (string);
  'actualSize': (string);
  'virtualSize': (string);
}
