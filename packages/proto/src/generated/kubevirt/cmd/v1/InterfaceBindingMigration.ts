// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface InterfaceBindingMigration {
  'Method'?: (string);
}

export interface InterfaceBindingMigration__Output {
  'Method': (string);
}
