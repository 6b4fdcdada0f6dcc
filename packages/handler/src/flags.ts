// virt-handler's flags, named and defaulted as in KubeVirt's cmd/virt-handler (AddFlags), plus the few
// a handler run outside a cluster needs (kubeconfig, a CA bundle file instead of the kubevirt-ca configmap).
import { z } from 'zod';
import { goDuration, HandlerPodsBaseDir, KubeletPodsDir, VirtPrivateDir, VirtShareDir } from '@kubevirt-ts/shared';

const port = () => z.coerce.number().int().min(0).max(65535);

export const handlerFlags = z.object({
  listen: z.string().default('0.0.0.0').describe('Address where to listen on'),
  port: port().default(8185).describe('Port to listen on (health and metrics)'),
  'console-server-port': port().default(8186).describe('The port virt-handler listens on for console requests'),
  'hostname-override': z.string().default('').describe('Name under which the node is registered in Kubernetes, where this virt-handler instance is running on'),
  'pod-ip-address': z.string().default('').describe('The pod ip address'),
  'kubevirt-share-dir': z.string().default(VirtShareDir).describe('Shared directory between virt-handler and virt-launcher'),
  'kubevirt-private-dir': z.string().default(VirtPrivateDir).describe('private directory for virt-handler state'),
  'kubelet-pods-dir': z.string().default(KubeletPodsDir).describe("Path for pod directory (matching host's path for kubelet root)"),
  'pods-base-dir': z.string().default(HandlerPodsBaseDir).describe('Where the kubelet pods directory is mounted in the handler (launcher sockets are found under it)'),
  'watchdog-timeout': goDuration().prefault('30s').describe('Watchdog file timeout'),
  'max-metric-requests': z.coerce.number().int().min(1).default(3).describe('Number of concurrent requests to the metrics endpoint'),
  'domain-resync-period-seconds': z.coerce.number().int().min(1).default(300).describe('Recurring period for resyncing all known virt-launcher domains.'),
  'graceful-shutdown-seconds': z.coerce.number().int().min(0).default(315).describe('Seconds to wait for open connections to close on shutdown'),
  'ca-configmap-name': z.string().default('kubevirt-ca').describe('The name of configmap containing CA certificates to authenticate requests presenting client certificates with matching CommonName'),
  'ca-bundle-file': z.string().default('').describe('A PEM CA bundle to use instead of the ca configmap (local runs)'),
  'tls-cert-file': z.string().default('/etc/virt-handler/servercertificates/tls.crt').describe('File containing the default x509 Certificate for HTTPS'),
  'tls-key-file': z.string().default('/etc/virt-handler/servercertificates/tls.key').describe('File containing the default x509 private key matching --tls-cert-file'),
  'externally-managed': z.coerce.boolean().default(false).describe('Allow intermediate certificates to be used in building up the chain of trust when certificates are externally managed'),
  kubeconfig: z.string().default('').describe('Path to a kubeconfig; in-cluster config when empty (KUBECONFIG is honoured too)'),
  v: z.coerce.number().int().min(0).max(9).default(2).describe('log level for V logs'),
});
export type HandlerFlags = z.infer<typeof handlerFlags>;
