// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type { SMBios as _kubevirt_cmd_v1_SMBios, SMBios__Output as _kubevirt_cmd_v1_SMBios__Output } from '../../../kubevirt/cmd/v1/SMBios.ts';
import type { Topology as _kubevirt_cmd_v1_Topology, Topology__Output as _kubevirt_cmd_v1_Topology__Output } from '../../../kubevirt/cmd/v1/Topology.ts';
import type { DiskInfo as _kubevirt_cmd_v1_DiskInfo, DiskInfo__Output as _kubevirt_cmd_v1_DiskInfo__Output } from '../../../kubevirt/cmd/v1/DiskInfo.ts';
import type { ClusterConfig as _kubevirt_cmd_v1_ClusterConfig, ClusterConfig__Output as _kubevirt_cmd_v1_ClusterConfig__Output } from '../../../kubevirt/cmd/v1/ClusterConfig.ts';
import type { InterfaceBindingMigration as _kubevirt_cmd_v1_InterfaceBindingMigration, InterfaceBindingMigration__Output as _kubevirt_cmd_v1_InterfaceBindingMigration__Output } from '../../../kubevirt/cmd/v1/InterfaceBindingMigration.ts';

export interface VirtualMachineOptions {
  'VirtualMachineSMBios'?: (_kubevirt_cmd_v1_SMBios | null);
  'MemBalloonStatsPeriod'?: (number);
  'PreallocatedVolumes'?: (string)[];
  'topology'?: (_kubevirt_cmd_v1_Topology | null);
  'DisksInfo'?: ({[key: string]: _kubevirt_cmd_v1_DiskInfo});
  'ExpandDisksEnabled'?: (boolean);
  'clusterConfig'?: (_kubevirt_cmd_v1_ClusterConfig | null);
  'interfaceDomainAttachment'?: ({[key: string]: string});
  'interfaceMigration'?: ({[key: string]: _kubevirt_cmd_v1_InterfaceBindingMigration});
  'pluginsJson'?: (Buffer | Uint8Array | string);
  'GraceHostDeviceAliases'?: (string)[];
}

export interface VirtualMachineOptions__Output {
  'VirtualMachineSMBios': (_kubevirt_cmd_v1_SMBios__Output | null);
  'MemBalloonStatsPeriod': (number);
  'PreallocatedVolumes': (string)[];
  'topology': (_kubevirt_cmd_v1_Topology__Output | null);
  'DisksInfo': ({[key: string]: _kubevirt_cmd_v1_DiskInfo__Output});
  'ExpandDisksEnabled': (boolean);
  'clusterConfig': (_kubevirt_cmd_v1_ClusterConfig__Output | null);
  'interfaceDomainAttachment': ({[key: string]: string});
  'interfaceMigration': ({[key: string]: _kubevirt_cmd_v1_InterfaceBindingMigration__Output});
  'pluginsJson': (Buffer);
  'GraceHostDeviceAliases': (string)[];
}
