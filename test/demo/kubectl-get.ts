// `kubectl get pods,vmi -A` without kubectl: the same server-side tables kubectl asks kube-apiserver for
// (Accept: Table; the pods' printer and the VMI CRD's additionalPrinterColumns), laid out as kubectl
// lays out several kinds at once: NAMESPACE first, `kind/name` names, priority-0 columns only.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod/mini';
import { parseWith } from '@kubevirt-ts/shared';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

const tableSchema = z.object({
  kind: z.literal('Table'),
  columnDefinitions: z.array(z.object({ name: z.string(), priority: z.optional(z.number()) })),
  rows: z.array(
    z.object({
      cells: z.array(z.unknown()),
      object: z.optional(z.object({ metadata: z.optional(z.object({ namespace: z.optional(z.string()) })) })),
    }),
  ),
});
type Table = z.infer<typeof tableSchema>;

/** The resources `kubectl get pods,vmi -A` lists, with the prefix kubectl gives their names. */
const RESOURCES = [
  { path: '/api/v1/pods', kind: 'pod' },
  { path: '/apis/kubevirt.io/v1/virtualmachineinstances', kind: 'virtualmachineinstance.kubevirt.io' },
] as const;

async function getTable(kc: KubeConfig, path: string): Promise<Table> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  const opts: https.RequestOptions = { headers: { Accept: TABLE_ACCEPT } };
  await kc.applyToHTTPSOptions(opts);
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get(new URL(path, cluster.server), opts, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`GET ${path}: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
  });
  return parseWith(tableSchema, body, `table of ${path}`);
}

/** What `kubectl get pods,vmi -A` prints: one block per kind, a blank line between them. */
export async function kubectlGetPodsVMIs(kc: KubeConfig): Promise<string> {
  const blocks: string[] = [];
  for (const r of RESOURCES) {
    const table = await getTable(kc, r.path);
    if (table.rows.length === 0) continue;
    const shown = table.columnDefinitions.flatMap((c, i) => ((c.priority ?? 0) === 0 ? [i] : []));
    const header = ['NAMESPACE', ...shown.map((i) => table.columnDefinitions[i]!.name.toUpperCase())];
    const rows = table.rows.map((row) => [
      row.object?.metadata?.namespace ?? '',
      ...shown.map((i, n) => (n === 0 ? `${r.kind}/${cell(row.cells[i])}` : cell(row.cells[i]))),
    ]);
    blocks.push(layout([header, ...rows]));
  }
  return blocks.join('\n');
}

const cell = (v: unknown) => (v === undefined || v === null || v === '' ? '' : String(v));

/** kubectl's tabwriter: columns padded to the widest cell plus three spaces. */
function layout(lines: string[][]): string {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines
    .map(
      (l) =>
        `${l
          .map((c, i) => c.padEnd(widths[i]! + 3))
          .join('')
          .trimEnd()}\n`,
    )
    .join('');
}
