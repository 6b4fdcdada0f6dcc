// NewHandlerDaemonSet's container args (pkg/virt-operator/resource/generate/components/daemonsets.go), the
// $(NODE_NAME) and $(MY_POD_IP) references resolved as the kubelet resolves them.
export const OPERATOR_ARGS: readonly string[] = [
  '--port',
  '8443',
  '--hostname-override',
  'node01',
  '--pod-ip-address',
  '10.244.0.7',
  '--max-metric-requests',
  '3',
  '--console-server-port',
  '8186',
  '--vmstats-server-port',
  '8187',
  '--graceful-shutdown-seconds',
  '315',
  '--migration-cn-types',
  'migration',
  '-v',
  '2',
];
