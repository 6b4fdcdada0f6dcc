// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface SMBios {
  'manufacturer'?: (string);
  'product'?: (string);
  'version'?: (string);
  'sku'?: (string);
  'family'?: (string);
}

export interface SMBios__Output {
  'manufacturer': (string);
  'product': (string);
  'version': (string);
  'sku': (string);
  'family': (string);
}
