// Original file: proto/kubevirt/cmd/v1/cmd.proto


export interface ClusterConfig {
  'ExpandDisksEnabled'?: (boolean);
  'FreePageReportingDisabled'?: (boolean);
  'BochsDisplayForEFIGuests'?: (boolean);
  'SerialConsoleLogDisabled'?: (boolean);
  'PCINUMAAwareTopologyEnabled'?: (boolean);
  'VGPULiveMigrationEnabled'?: (boolean);
  'GraceIOVirtualizationEnabled'?: (boolean);
}

export interface ClusterConfig__Output {
  'ExpandDisksEnabled': (boolean);
  'FreePageReportingDisabled': (boolean);
  'BochsDisplayForEFIGuests': (boolean);
  'SerialConsoleLogDisabled': (boolean);
  'PCINUMAAwareTopologyEnabled': (boolean);
  'VGPULiveMigrationEnabled': (boolean);
  'GraceIOVirtualizationEnabled': (boolean);
}
