// virt-handler's flags, named and defaulted as in KubeVirt's cmd/virt-handler (AddFlags), plus the few
// a handler run outside a cluster needs (kubeconfig, a CA bundle file instead of the kubevirt-ca configmap).
import * as z from 'zod/mini';
import { goDuration, HandlerPodsBaseDir, KubeletPodsDir, VirtPrivateDir, VirtShareDir } from '@kubevirt-ts/shared';

const port = () => z.coerce.number().check(z.int(), z.gte(0), z.lte(65535));

export const handlerFlags = z.object({
  listen: z._default(z.string(), '0.0.0.0').check(z.describe('Address where to listen on')),
  port: z._default(port(), 8185).check(z.describe('Port to listen on (health and metrics)')),
  'console-server-port': z._default(port(), 8186).check(z.describe('The port virt-handler listens on for console requests')),
  'hostname-override': z._default(z.string(), '').check(z.describe('Name under which the node is registered in Kubernetes, where this virt-handler instance is running on')),
  'pod-ip-address': z._default(z.string(), '').check(z.describe('The pod ip address')),
  'kubevirt-share-dir': z._default(z.string(), VirtShareDir).check(z.describe('Shared directory between virt-handler and virt-launcher')),
  'kubevirt-private-dir': z._default(z.string(), VirtPrivateDir).check(z.describe('private directory for virt-handler state')),
  'kubelet-pods-dir': z._default(z.string(), KubeletPodsDir).check(z.describe("Path for pod directory (matching host's path for kubelet root)")),
  'pods-base-dir': z._default(z.string(), HandlerPodsBaseDir).check(z.describe('Where the kubelet pods directory is mounted in the handler (launcher sockets are found under it)')),
  'watchdog-timeout': z.prefault(goDuration(), '30s').check(z.describe('Watchdog file timeout')),
  'max-metric-requests': z._default(z.coerce.number().check(z.int(), z.gte(1)), 3).check(z.describe('Number of concurrent requests to the metrics endpoint')),
  'domain-resync-period-seconds': z._default(z.coerce.number().check(z.int(), z.gte(1)), 300).check(z.describe('Recurring period for resyncing all known virt-launcher domains.')),
  'graceful-shutdown-seconds': z._default(z.coerce.number().check(z.int(), z.gte(0)), 315).check(z.describe('Seconds to wait for open connections to close on shutdown')),
  'ca-configmap-name': z._default(z.string(), 'kubevirt-ca').check(z.describe('The name of configmap containing CA certificates to authenticate requests presenting client certificates with matching CommonName')),
  'ca-bundle-file': z._default(z.string(), '').check(z.describe('A PEM CA bundle to use instead of the ca configmap (local runs)')),
  'tls-cert-file': z._default(z.string(), '/etc/virt-handler/servercertificates/tls.crt').check(z.describe('File containing the default x509 Certificate for HTTPS')),
  'tls-key-file': z._default(z.string(), '/etc/virt-handler/servercertificates/tls.key').check(z.describe('File containing the default x509 private key matching --tls-cert-file')),
  'externally-managed': z._default(z.coerce.boolean(), false).check(z.describe('Allow intermediate certificates to be used in building up the chain of trust when certificates are externally managed')),
  kubeconfig: z._default(z.string(), '').check(z.describe('Path to a kubeconfig; in-cluster config when empty (KUBECONFIG is honoured too)')),
  v: z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(9)), 2).check(z.describe('log level for V logs')),
});
export type HandlerFlags = z.infer<typeof handlerFlags>;
