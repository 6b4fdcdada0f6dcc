// Original file: proto/kubevirt/notify/v1/notify.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DomainEventRequest as _kubevirt_notify_v1_DomainEventRequest, DomainEventRequest__Output as _kubevirt_notify_v1_DomainEventRequest__Output } from '../../../kubevirt/notify/v1/DomainEventRequest.ts';
import type { K8sEventRequest as _kubevirt_notify_v1_K8sEventRequest, K8sEventRequest__Output as _kubevirt_notify_v1_K8sEventRequest__Output } from '../../../kubevirt/notify/v1/K8sEventRequest.ts';
import type { Response as _kubevirt_notify_v1_Response, Response__Output as _kubevirt_notify_v1_Response__Output } from '../../../kubevirt/notify/v1/Response.ts';

export interface NotifyClient extends grpc.Client {
  HandleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  HandleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  HandleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  HandleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleDomainEvent(argument: _kubevirt_notify_v1_DomainEventRequest, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  
  HandleK8sEvent(argument: _kubevirt_notify_v1_K8sEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  HandleK8sEvent(argument: _kubevirt_notify_v1_K8sEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  HandleK8sEvent(argument: _kubevirt_notify_v1_K8sEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  HandleK8sEvent(argument: _kubevirt_notify_v1_K8sEventRequest, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleK8SEvent(argument: _kubevirt_notify_v1_K8sEventRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleK8SEvent(argument: _kubevirt_notify_v1_K8sEventRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleK8SEvent(argument: _kubevirt_notify_v1_K8sEventRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  handleK8SEvent(argument: _kubevirt_notify_v1_K8sEventRequest, callback: grpc.requestCallback<_kubevirt_notify_v1_Response__Output>): grpc.ClientUnaryCall;
  
}

export interface NotifyHandlers extends grpc.UntypedServiceImplementation {
  HandleDomainEvent: grpc.handleUnaryCall<_kubevirt_notify_v1_DomainEventRequest__Output, _kubevirt_notify_v1_Response>;
  
  HandleK8sEvent: grpc.handleUnaryCall<_kubevirt_notify_v1_K8sEventRequest__Output, _kubevirt_notify_v1_Response>;
  
}

export interface NotifyDefinition extends grpc.ServiceDefinition {
  HandleDomainEvent: MethodDefinition<_kubevirt_notify_v1_DomainEventRequest, _kubevirt_notify_v1_Response, _kubevirt_notify_v1_DomainEventRequest__Output, _kubevirt_notify_v1_Response__Output>
  HandleK8sEvent: MethodDefinition<_kubevirt_notify_v1_K8sEventRequest, _kubevirt_notify_v1_Response, _kubevirt_notify_v1_K8sEventRequest__Output, _kubevirt_notify_v1_Response__Output>
}
