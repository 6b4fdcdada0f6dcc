// Original file: proto/kubevirt/cmd/info/info.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CmdInfoRequest as _kubevirt_cmd_info_CmdInfoRequest, CmdInfoRequest__Output as _kubevirt_cmd_info_CmdInfoRequest__Output } from '../../../kubevirt/cmd/info/CmdInfoRequest.ts';
import type { CmdInfoResponse as _kubevirt_cmd_info_CmdInfoResponse, CmdInfoResponse__Output as _kubevirt_cmd_info_CmdInfoResponse__Output } from '../../../kubevirt/cmd/info/CmdInfoResponse.ts';

export interface CmdInfoClient extends grpc.Client {
  Info(argument: _kubevirt_cmd_info_CmdInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _kubevirt_cmd_info_CmdInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _kubevirt_cmd_info_CmdInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _kubevirt_cmd_info_CmdInfoRequest, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_cmd_info_CmdInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_cmd_info_CmdInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_cmd_info_CmdInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_cmd_info_CmdInfoRequest, callback: grpc.requestCallback<_kubevirt_cmd_info_CmdInfoResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CmdInfoHandlers extends grpc.UntypedServiceImplementation {
  Info: grpc.handleUnaryCall<_kubevirt_cmd_info_CmdInfoRequest__Output, _kubevirt_cmd_info_CmdInfoResponse>;
  
}

export interface CmdInfoDefinition extends grpc.ServiceDefinition {
  Info: MethodDefinition<_kubevirt_cmd_info_CmdInfoRequest, _kubevirt_cmd_info_CmdInfoResponse, _kubevirt_cmd_info_CmdInfoRequest__Output, _kubevirt_cmd_info_CmdInfoResponse__Output>
}
