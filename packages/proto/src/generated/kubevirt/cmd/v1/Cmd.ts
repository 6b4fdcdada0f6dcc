// Original file: proto/kubevirt/cmd/v1/cmd.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BackupRequest as _kubevirt_cmd_v1_BackupRequest, BackupRequest__Output as _kubevirt_cmd_v1_BackupRequest__Output } from '../../../kubevirt/cmd/v1/BackupRequest.ts';
import type { DirtyRateStatsResponse as _kubevirt_cmd_v1_DirtyRateStatsResponse, DirtyRateStatsResponse__Output as _kubevirt_cmd_v1_DirtyRateStatsResponse__Output } from '../../../kubevirt/cmd/v1/DirtyRateStatsResponse.ts';
import type { DomainResponse as _kubevirt_cmd_v1_DomainResponse, DomainResponse__Output as _kubevirt_cmd_v1_DomainResponse__Output } from '../../../kubevirt/cmd/v1/DomainResponse.ts';
import type { DomainStatsResponse as _kubevirt_cmd_v1_DomainStatsResponse, DomainStatsResponse__Output as _kubevirt_cmd_v1_DomainStatsResponse__Output } from '../../../kubevirt/cmd/v1/DomainStatsResponse.ts';
import type { EmptyRequest as _kubevirt_cmd_v1_EmptyRequest, EmptyRequest__Output as _kubevirt_cmd_v1_EmptyRequest__Output } from '../../../kubevirt/cmd/v1/EmptyRequest.ts';
import type { ExecRequest as _kubevirt_cmd_v1_ExecRequest, ExecRequest__Output as _kubevirt_cmd_v1_ExecRequest__Output } from '../../../kubevirt/cmd/v1/ExecRequest.ts';
import type { ExecResponse as _kubevirt_cmd_v1_ExecResponse, ExecResponse__Output as _kubevirt_cmd_v1_ExecResponse__Output } from '../../../kubevirt/cmd/v1/ExecResponse.ts';
import type { FreezeRequest as _kubevirt_cmd_v1_FreezeRequest, FreezeRequest__Output as _kubevirt_cmd_v1_FreezeRequest__Output } from '../../../kubevirt/cmd/v1/FreezeRequest.ts';
import type { GuestFilesystemsResponse as _kubevirt_cmd_v1_GuestFilesystemsResponse, GuestFilesystemsResponse__Output as _kubevirt_cmd_v1_GuestFilesystemsResponse__Output } from '../../../kubevirt/cmd/v1/GuestFilesystemsResponse.ts';
import type { GuestInfoResponse as _kubevirt_cmd_v1_GuestInfoResponse, GuestInfoResponse__Output as _kubevirt_cmd_v1_GuestInfoResponse__Output } from '../../../kubevirt/cmd/v1/GuestInfoResponse.ts';
import type { GuestPingRequest as _kubevirt_cmd_v1_GuestPingRequest, GuestPingRequest__Output as _kubevirt_cmd_v1_GuestPingRequest__Output } from '../../../kubevirt/cmd/v1/GuestPingRequest.ts';
import type { GuestPingResponse as _kubevirt_cmd_v1_GuestPingResponse, GuestPingResponse__Output as _kubevirt_cmd_v1_GuestPingResponse__Output } from '../../../kubevirt/cmd/v1/GuestPingResponse.ts';
import type { GuestUserListResponse as _kubevirt_cmd_v1_GuestUserListResponse, GuestUserListResponse__Output as _kubevirt_cmd_v1_GuestUserListResponse__Output } from '../../../kubevirt/cmd/v1/GuestUserListResponse.ts';
import type { InjectLaunchSecretRequest as _kubevirt_cmd_v1_InjectLaunchSecretRequest, InjectLaunchSecretRequest__Output as _kubevirt_cmd_v1_InjectLaunchSecretRequest__Output } from '../../../kubevirt/cmd/v1/InjectLaunchSecretRequest.ts';
import type { LaunchMeasurementResponse as _kubevirt_cmd_v1_LaunchMeasurementResponse, LaunchMeasurementResponse__Output as _kubevirt_cmd_v1_LaunchMeasurementResponse__Output } from '../../../kubevirt/cmd/v1/LaunchMeasurementResponse.ts';
import type { MemoryDumpRequest as _kubevirt_cmd_v1_MemoryDumpRequest, MemoryDumpRequest__Output as _kubevirt_cmd_v1_MemoryDumpRequest__Output } from '../../../kubevirt/cmd/v1/MemoryDumpRequest.ts';
import type { MigrationRequest as _kubevirt_cmd_v1_MigrationRequest, MigrationRequest__Output as _kubevirt_cmd_v1_MigrationRequest__Output } from '../../../kubevirt/cmd/v1/MigrationRequest.ts';
import type { QemuVersionResponse as _kubevirt_cmd_v1_QemuVersionResponse, QemuVersionResponse__Output as _kubevirt_cmd_v1_QemuVersionResponse__Output } from '../../../kubevirt/cmd/v1/QemuVersionResponse.ts';
import type { RedefineCheckpointRequest as _kubevirt_cmd_v1_RedefineCheckpointRequest, RedefineCheckpointRequest__Output as _kubevirt_cmd_v1_RedefineCheckpointRequest__Output } from '../../../kubevirt/cmd/v1/RedefineCheckpointRequest.ts';
import type { RedefineCheckpointResponse as _kubevirt_cmd_v1_RedefineCheckpointResponse, RedefineCheckpointResponse__Output as _kubevirt_cmd_v1_RedefineCheckpointResponse__Output } from '../../../kubevirt/cmd/v1/RedefineCheckpointResponse.ts';
import type { Response as _kubevirt_cmd_v1_Response, Response__Output as _kubevirt_cmd_v1_Response__Output } from '../../../kubevirt/cmd/v1/Response.ts';
import type { SEVInfoResponse as _kubevirt_cmd_v1_SEVInfoResponse, SEVInfoResponse__Output as _kubevirt_cmd_v1_SEVInfoResponse__Output } from '../../../kubevirt/cmd/v1/SEVInfoResponse.ts';
import type { ScreenshotResponse as _kubevirt_cmd_v1_ScreenshotResponse, ScreenshotResponse__Output as _kubevirt_cmd_v1_ScreenshotResponse__Output } from '../../../kubevirt/cmd/v1/ScreenshotResponse.ts';
import type { VMIRequest as _kubevirt_cmd_v1_VMIRequest, VMIRequest__Output as _kubevirt_cmd_v1_VMIRequest__Output } from '../../../kubevirt/cmd/v1/VMIRequest.ts';
import type { VMStatsRequest as _kubevirt_cmd_v1_VMStatsRequest, VMStatsRequest__Output as _kubevirt_cmd_v1_VMStatsRequest__Output } from '../../../kubevirt/cmd/v1/VMStatsRequest.ts';
import type { VMStatsResponse as _kubevirt_cmd_v1_VMStatsResponse, VMStatsResponse__Output as _kubevirt_cmd_v1_VMStatsResponse__Output } from '../../../kubevirt/cmd/v1/VMStatsResponse.ts';

export interface CmdClient extends grpc.Client {
  BackupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  BackupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  BackupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  BackupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  backupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  backupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  backupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  backupVirtualMachine(argument: _kubevirt_cmd_v1_BackupRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  CancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  CancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  CancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  CancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  cancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  cancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  cancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  cancelVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  DeleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  DeleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  DeleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  DeleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  deleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  deleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  deleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  deleteVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  Exec(argument: _kubevirt_cmd_v1_ExecRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  Exec(argument: _kubevirt_cmd_v1_ExecRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  Exec(argument: _kubevirt_cmd_v1_ExecRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  Exec(argument: _kubevirt_cmd_v1_ExecRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  exec(argument: _kubevirt_cmd_v1_ExecRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  exec(argument: _kubevirt_cmd_v1_ExecRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  exec(argument: _kubevirt_cmd_v1_ExecRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  exec(argument: _kubevirt_cmd_v1_ExecRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_ExecResponse__Output>): grpc.ClientUnaryCall;
  
  FinalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  FinalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  FinalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  FinalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  finalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  finalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  finalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  finalizeVirtualMachineMigration(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  FreezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  FreezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  FreezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  FreezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  freezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  freezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  freezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  freezeVirtualMachine(argument: _kubevirt_cmd_v1_FreezeRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  GetDomain(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  GetDomain(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  GetDomain(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  GetDomain(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  getDomain(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  getDomain(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  getDomain(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  getDomain(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainResponse__Output>): grpc.ClientUnaryCall;
  
  GetDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  GetDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  GetDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  GetDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainDirtyRateStats(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_DirtyRateStatsResponse__Output>): grpc.ClientUnaryCall;
  
  GetDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  GetDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  GetDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  GetDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  getDomainStats(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_DomainStatsResponse__Output>): grpc.ClientUnaryCall;
  
  GetFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  GetFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  GetFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  GetFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  getFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  getFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  getFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  getFilesystems(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestFilesystemsResponse__Output>): grpc.ClientUnaryCall;
  
  GetGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  GetGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  GetGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  GetGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  getGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  getGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  getGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  getGuestInfo(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestInfoResponse__Output>): grpc.ClientUnaryCall;
  
  GetLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  GetLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  GetLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  GetLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  getLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  getLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  getLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  getLaunchMeasurement(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_LaunchMeasurementResponse__Output>): grpc.ClientUnaryCall;
  
  GetQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  GetQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  GetQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  GetQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  getQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  getQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  getQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  getQemuVersion(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_QemuVersionResponse__Output>): grpc.ClientUnaryCall;
  
  GetSEVInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  GetSEVInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  GetSEVInfo(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  GetSEVInfo(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  getSevInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  getSevInfo(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  getSevInfo(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  getSevInfo(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_SEVInfoResponse__Output>): grpc.ClientUnaryCall;
  
  GetScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  GetScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  GetScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  GetScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  getScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  getScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  getScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  getScreenshot(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_ScreenshotResponse__Output>): grpc.ClientUnaryCall;
  
  GetUsers(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  GetUsers(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  GetUsers(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  GetUsers(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  getUsers(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  getUsers(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  getUsers(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  getUsers(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestUserListResponse__Output>): grpc.ClientUnaryCall;
  
  GetVMStats(argument: _kubevirt_cmd_v1_VMStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  GetVMStats(argument: _kubevirt_cmd_v1_VMStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  GetVMStats(argument: _kubevirt_cmd_v1_VMStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  GetVMStats(argument: _kubevirt_cmd_v1_VMStatsRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  getVmStats(argument: _kubevirt_cmd_v1_VMStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  getVmStats(argument: _kubevirt_cmd_v1_VMStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  getVmStats(argument: _kubevirt_cmd_v1_VMStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  getVmStats(argument: _kubevirt_cmd_v1_VMStatsRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_VMStatsResponse__Output>): grpc.ClientUnaryCall;
  
  GuestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  GuestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  GuestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  GuestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  guestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  guestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  guestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  guestPing(argument: _kubevirt_cmd_v1_GuestPingRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_GuestPingResponse__Output>): grpc.ClientUnaryCall;
  
  HotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  HotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  HotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  HotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  hotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  hotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  hotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  hotplugHostDevices(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  InjectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  InjectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  InjectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  InjectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  injectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  injectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  injectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  injectLaunchSecret(argument: _kubevirt_cmd_v1_InjectLaunchSecretRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  KillVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  KillVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  KillVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  KillVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  killVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  killVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  killVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  killVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  MigrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  MigrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  MigrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  MigrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  migrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  migrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  migrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  migrateVirtualMachine(argument: _kubevirt_cmd_v1_MigrationRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  PauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  PauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  PauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  PauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  pauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  pauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  pauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  pauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  Ping(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  Ping(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  Ping(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  Ping(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ping(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ping(argument: _kubevirt_cmd_v1_EmptyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ping(argument: _kubevirt_cmd_v1_EmptyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ping(argument: _kubevirt_cmd_v1_EmptyRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  RedefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  RedefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  RedefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  RedefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  redefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  redefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  redefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  redefineCheckpoint(argument: _kubevirt_cmd_v1_RedefineCheckpointRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_RedefineCheckpointResponse__Output>): grpc.ClientUnaryCall;
  
  ResetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ResetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ResetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ResetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  resetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  resetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  resetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  resetVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  ShutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ShutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ShutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  ShutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  shutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  shutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  shutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  shutdownVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  SignalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SignalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SignalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SignalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  signalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  signalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  signalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  signalTargetPodCleanup(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  SoftRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SoftRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SoftRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SoftRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  softRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  softRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  softRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  softRebootVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  SyncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncMigrationTarget(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  SyncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  SyncVirtualMachineCPUs(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachineCPUs(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachineCPUs(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachineCPUs(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineCpUs(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineCpUs(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineCpUs(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineCpUs(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  SyncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  SyncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  syncVirtualMachineMemory(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  UnfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  UnfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  UnfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  UnfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unfreezeVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  UnpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  UnpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  UnpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  UnpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  unpauseVirtualMachine(argument: _kubevirt_cmd_v1_VMIRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
  VirtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  VirtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  VirtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  VirtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  virtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  virtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  virtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  virtualMachineMemoryDump(argument: _kubevirt_cmd_v1_MemoryDumpRequest, callback: grpc.requestCallback<_kubevirt_cmd_v1_Response__Output>): grpc.ClientUnaryCall;
  
}

export interface CmdHandlers extends grpc.UntypedServiceImplementation {
  BackupVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_BackupRequest__Output, _kubevirt_cmd_v1_Response>;
  
  CancelVirtualMachineMigration: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  DeleteVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  Exec: grpc.handleUnaryCall<_kubevirt_cmd_v1_ExecRequest__Output, _kubevirt_cmd_v1_ExecResponse>;
  
  FinalizeVirtualMachineMigration: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  FreezeVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_FreezeRequest__Output, _kubevirt_cmd_v1_Response>;
  
  GetDomain: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_DomainResponse>;
  
  GetDomainDirtyRateStats: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_DirtyRateStatsResponse>;
  
  GetDomainStats: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_DomainStatsResponse>;
  
  GetFilesystems: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_GuestFilesystemsResponse>;
  
  GetGuestInfo: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_GuestInfoResponse>;
  
  GetLaunchMeasurement: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_LaunchMeasurementResponse>;
  
  GetQemuVersion: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_QemuVersionResponse>;
  
  GetSEVInfo: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_SEVInfoResponse>;
  
  GetScreenshot: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_ScreenshotResponse>;
  
  GetUsers: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_GuestUserListResponse>;
  
  GetVMStats: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMStatsRequest__Output, _kubevirt_cmd_v1_VMStatsResponse>;
  
  GuestPing: grpc.handleUnaryCall<_kubevirt_cmd_v1_GuestPingRequest__Output, _kubevirt_cmd_v1_GuestPingResponse>;
  
  HotplugHostDevices: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  InjectLaunchSecret: grpc.handleUnaryCall<_kubevirt_cmd_v1_InjectLaunchSecretRequest__Output, _kubevirt_cmd_v1_Response>;
  
  KillVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  MigrateVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_MigrationRequest__Output, _kubevirt_cmd_v1_Response>;
  
  PauseVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  Ping: grpc.handleUnaryCall<_kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_Response>;
  
  RedefineCheckpoint: grpc.handleUnaryCall<_kubevirt_cmd_v1_RedefineCheckpointRequest__Output, _kubevirt_cmd_v1_RedefineCheckpointResponse>;
  
  ResetVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  ShutdownVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  SignalTargetPodCleanup: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  SoftRebootVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  SyncMigrationTarget: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  SyncVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  SyncVirtualMachineCPUs: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  SyncVirtualMachineMemory: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  UnfreezeVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  UnpauseVirtualMachine: grpc.handleUnaryCall<_kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response>;
  
  VirtualMachineMemoryDump: grpc.handleUnaryCall<_kubevirt_cmd_v1_MemoryDumpRequest__Output, _kubevirt_cmd_v1_Response>;
  
}

export interface CmdDefinition extends grpc.ServiceDefinition {
  BackupVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_BackupRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_BackupRequest__Output, _kubevirt_cmd_v1_Response__Output>
  CancelVirtualMachineMigration: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  DeleteVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  Exec: MethodDefinition<_kubevirt_cmd_v1_ExecRequest, _kubevirt_cmd_v1_ExecResponse, _kubevirt_cmd_v1_ExecRequest__Output, _kubevirt_cmd_v1_ExecResponse__Output>
  FinalizeVirtualMachineMigration: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  FreezeVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_FreezeRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_FreezeRequest__Output, _kubevirt_cmd_v1_Response__Output>
  GetDomain: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_DomainResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_DomainResponse__Output>
  GetDomainDirtyRateStats: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_DirtyRateStatsResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_DirtyRateStatsResponse__Output>
  GetDomainStats: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_DomainStatsResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_DomainStatsResponse__Output>
  GetFilesystems: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_GuestFilesystemsResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_GuestFilesystemsResponse__Output>
  GetGuestInfo: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_GuestInfoResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_GuestInfoResponse__Output>
  GetLaunchMeasurement: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_LaunchMeasurementResponse, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_LaunchMeasurementResponse__Output>
  GetQemuVersion: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_QemuVersionResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_QemuVersionResponse__Output>
  GetSEVInfo: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_SEVInfoResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_SEVInfoResponse__Output>
  GetScreenshot: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_ScreenshotResponse, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_ScreenshotResponse__Output>
  GetUsers: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_GuestUserListResponse, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_GuestUserListResponse__Output>
  GetVMStats: MethodDefinition<_kubevirt_cmd_v1_VMStatsRequest, _kubevirt_cmd_v1_VMStatsResponse, _kubevirt_cmd_v1_VMStatsRequest__Output, _kubevirt_cmd_v1_VMStatsResponse__Output>
  GuestPing: MethodDefinition<_kubevirt_cmd_v1_GuestPingRequest, _kubevirt_cmd_v1_GuestPingResponse, _kubevirt_cmd_v1_GuestPingRequest__Output, _kubevirt_cmd_v1_GuestPingResponse__Output>
  HotplugHostDevices: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  InjectLaunchSecret: MethodDefinition<_kubevirt_cmd_v1_InjectLaunchSecretRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_InjectLaunchSecretRequest__Output, _kubevirt_cmd_v1_Response__Output>
  KillVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  MigrateVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_MigrationRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_MigrationRequest__Output, _kubevirt_cmd_v1_Response__Output>
  PauseVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  Ping: MethodDefinition<_kubevirt_cmd_v1_EmptyRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_EmptyRequest__Output, _kubevirt_cmd_v1_Response__Output>
  RedefineCheckpoint: MethodDefinition<_kubevirt_cmd_v1_RedefineCheckpointRequest, _kubevirt_cmd_v1_RedefineCheckpointResponse, _kubevirt_cmd_v1_RedefineCheckpointRequest__Output, _kubevirt_cmd_v1_RedefineCheckpointResponse__Output>
  ResetVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  ShutdownVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  SignalTargetPodCleanup: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  SoftRebootVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  SyncMigrationTarget: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  SyncVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  SyncVirtualMachineCPUs: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  SyncVirtualMachineMemory: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  UnfreezeVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  UnpauseVirtualMachine: MethodDefinition<_kubevirt_cmd_v1_VMIRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_VMIRequest__Output, _kubevirt_cmd_v1_Response__Output>
  VirtualMachineMemoryDump: MethodDefinition<_kubevirt_cmd_v1_MemoryDumpRequest, _kubevirt_cmd_v1_Response, _kubevirt_cmd_v1_MemoryDumpRequest__Output, _kubevirt_cmd_v1_Response__Output>
}
