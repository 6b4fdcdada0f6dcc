// Original file: proto/kubevirt/notify/info/info.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { NotifyInfoRequest as _kubevirt_notify_info_NotifyInfoRequest, NotifyInfoRequest__Output as _kubevirt_notify_info_NotifyInfoRequest__Output } from '../../../kubevirt/notify/info/NotifyInfoRequest.ts';
import type { NotifyInfoResponse as _kubevirt_notify_info_NotifyInfoResponse, NotifyInfoResponse__Output as _kubevirt_notify_info_NotifyInfoResponse__Output } from '../../../kubevirt/notify/info/NotifyInfoResponse.ts';

export interface NotifyInfoClient extends grpc.Client {
  Info(argument: _kubevirt_notify_info_NotifyInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _kubevirt_notify_info_NotifyInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _kubevirt_notify_info_NotifyInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  Info(argument: _kubevirt_notify_info_NotifyInfoRequest, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_notify_info_NotifyInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_notify_info_NotifyInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_notify_info_NotifyInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  info(argument: _kubevirt_notify_info_NotifyInfoRequest, callback: grpc.requestCallback<_kubevirt_notify_info_NotifyInfoResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface NotifyInfoHandlers extends grpc.UntypedServiceImplementation {
  Info: grpc.handleUnaryCall<_kubevirt_notify_info_NotifyInfoRequest__Output, _kubevirt_notify_info_NotifyInfoResponse>;
  
}

export interface NotifyInfoDefinition extends grpc.ServiceDefinition {
  Info: MethodDefinition<_kubevirt_notify_info_NotifyInfoRequest, _kubevirt_notify_info_NotifyInfoResponse, _kubevirt_notify_info_NotifyInfoRequest__Output, _kubevirt_notify_info_NotifyInfoResponse__Output>
}
