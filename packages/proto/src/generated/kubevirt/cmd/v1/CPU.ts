// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface CPU {
  'id'?: (number);
  'siblings'?: (number)[];
}

export interface CPU__Output {
  'id': (number);
  'siblings': (number)[];
}
