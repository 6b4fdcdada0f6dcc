// virt-handler's flags, named and defaulted as in KubeVirt's cmd/virt-handler (AddFlags, with service.InitFlags'
// -v/--kubeconfig/--master and AddCommonFlags' --listen/--port), plus the few a handler run outside a cluster
// needs (a CA bundle file instead of the kubevirt-ca configmap, where the pods dir and the node-labeller files are).
import * as z from 'zod/mini';
import { goDuration, HandlerPodsBaseDir, KubeletPodsDir, KubeletRoot, VirtPrivateDir, VirtShareDir } from '@kubevirt-ts/shared';

const port = () => z.coerce.number().check(z.int(), z.gte(0), z.lte(65535));
const count = (min: number) => z.coerce.number().check(z.int(), z.gte(min));

/** node-labeller's NodeLabellerVolumePath: where the `virt-launcher` init container (node-labeller.sh) writes. */
export const NodeLabellerVolumePath = '/var/lib/kubevirt-node-labeller';
/** cmd/virt-handler defaultCNTypes. */
export const DefaultMigrationCNTypes = ['virt-handler', 'migration'];

export const handlerFlags = z.object({
  // service.ServiceListen (InitFlags, AddCommonFlags)
  v: z._default(count(0).check(z.lte(9)), 2).check(z.describe('log level for V logs')),
  kubeconfig: z._default(z.string(), '').check(z.describe('absolute path to the kubeconfig file')),
  master: z._default(z.string(), '').check(z.describe('master url')),
  listen: z._default(z.string(), '0.0.0.0').check(z.describe('Address where to listen on')),
  port: z._default(port(), 8185).check(z.describe('Port to listen on')),
  // cmd/virt-handler AddFlags, in its order
  'hostname-override': z
    ._default(z.string(), '')
    .check(z.describe('Name under which the node is registered in Kubernetes, where this virt-handler instance is running on')),
  'pod-ip-address': z._default(z.string(), '').check(z.describe('The pod ip address')),
  'kubevirt-share-dir': z._default(z.string(), VirtShareDir).check(z.describe('Shared directory between virt-handler and virt-launcher')),
  'kubevirt-private-dir': z._default(z.string(), VirtPrivateDir).check(z.describe('private directory for virt-handler state')),
  'kubelet-pods-dir': z
    ._default(z.string(), KubeletPodsDir)
    .check(z.describe("Path for pod directory (matching host's path for kubelet root)")),
  'kubelet-root': z._default(z.string(), KubeletRoot).check(z.describe('Path for Kubelet root')),
  'ca-configmap-name': z
    ._default(z.string(), 'kubevirt-ca')
    .check(
      z.describe(
        'The name of configmap containing CA certificates to authenticate requests presenting client certificates with matching CommonName',
      ),
    ),
  'migration-client-cert-file': z
    ._default(z.string(), '/etc/virt-handler/migrationservercertificates/tls.crt')
    .check(z.describe('Client certificate used to prove the identity of the virt-handler when it must call out during a request')),
  'migration-client-key-file': z
    ._default(z.string(), '/etc/virt-handler/migrationservercertificates/tls.key')
    .check(
      z.describe(
        'Private key for the client certificate used to prove the identity of the virt-handler when it must call out during a request',
      ),
    ),
  'tls-cert-file': z
    ._default(z.string(), '/etc/virt-handler/servercertificates/tls.crt')
    .check(z.describe('File containing the default x509 Certificate for HTTPS')),
  'tls-key-file': z
    ._default(z.string(), '/etc/virt-handler/servercertificates/tls.key')
    .check(z.describe('File containing the default x509 private key matching --tls-cert-file')),
  'externally-managed': z
    ._default(z.coerce.boolean(), false)
    .check(
      z.describe('Allow intermediate certificates to be used in building up the chain of trust when certificates are externally managed'),
    ),
  'watchdog-timeout': z.prefault(goDuration(), '30s').check(z.describe('Watchdog file timeout')),
  'max-devices': z._default(count(0), 1000).check(z.describe('Number of devices to register with Kubernetes device plugin framework')),
  'max-metric-requests': z._default(count(1), 3).check(z.describe('Number of concurrent requests to the metrics endpoint')),
  'console-server-port': z._default(port(), 8186).check(z.describe('The port virt-handler listens on for console requests')),
  'vmstats-server-port': z._default(port(), 8187).check(z.describe('The port virt-handler listens on for vmstats requests')),
  'domain-resync-period-seconds': z
    ._default(count(1), 300)
    .check(z.describe('Recurring period for resyncing all known virt-launcher domains.')),
  'graceful-shutdown-seconds': z
    ._default(count(0), 300)
    .check(z.describe('The number of seconds to wait for existing migration connections to close before shutting down virt-handler.')),
  'enable-node-labeller': z._default(z.coerce.boolean(), true).check(z.describe('Enable Node Labeller controller.')),
  'migration-cn-types': z
    ._default(z.array(z.string().check(z.minLength(1))), DefaultMigrationCNTypes)
    .check(z.describe('The Common Name types that should be asserted for migration connections')),
  'vsock-client-cert-file': z
    ._default(z.string(), '/etc/virt-handler/vsockclientcertificates/tls.crt')
    .check(z.describe('Client certificate used to prove the identity of the virt-handler to in-guest vsock agent')),
  'vsock-client-key-file': z
    ._default(z.string(), '/etc/virt-handler/vsockclientcertificates/tls.key')
    .check(z.describe('Private key for the client certificate used to prove the identity of the virt-handler to in-guest vsock agent')),
  // not KubeVirt's: a handler run outside its DaemonSet pod
  'pods-base-dir': z
    ._default(z.string(), HandlerPodsBaseDir)
    .check(z.describe('Where the kubelet pods directory is mounted in the handler (launcher sockets are found under it)')),
  'ca-bundle-file': z._default(z.string(), '').check(z.describe('A PEM CA bundle to use instead of the ca configmap (local runs)')),
  'node-labeller-dir': z
    ._default(z.string(), NodeLabellerVolumePath)
    .check(z.describe("Where node-labeller.sh's capabilities.xml, virsh_domcapabilities.xml and supported_features.xml are")),
});
export type HandlerFlags = z.infer<typeof handlerFlags>;
