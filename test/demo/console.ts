#!/usr/bin/env node
// `pnpm console <namespace>/<name>`: the VMI's serial console through virt-handler's websocket, as
// `virtctl console` reaches it through virt-api — for the VM a running `pnpm demo` keeps up.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import { errorMessage, parseWith } from '@kubevirt-ts/shared';
import { DEMO_STATE } from './demo.ts';

const stateSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int(),
  namespace: z.string(),
  name: z.string(),
  pki: z.string(),
});

function main(): void {
  const target = process.argv[2] ?? '';
  let state: z.infer<typeof stateSchema>;
  try {
    state = parseWith(stateSchema, readFileSync(DEMO_STATE, 'utf8'), 'demo state');
  } catch (err) {
    process.stderr.write(`console: no running demo (${errorMessage(err)}); start one with \`pnpm demo\`\n`);
    process.exit(1);
  }
  const [namespace, name] = target.includes('/') ? target.split('/') : [state.namespace, target || state.name];
  if (!namespace || !name) {
    process.stderr.write('usage: pnpm console <namespace>/<name>\n');
    process.exit(2);
  }
  const pem = (f: string) => readFileSync(path.join(state.pki, f), 'utf8');
  const url = `wss://${state.host}:${state.port}/v1/namespaces/${namespace}/virtualmachineinstances/${name}/console`;
  // ws types checkServerIdentity as returning boolean; tls takes undefined as "identity fine"
  const options = {
    ca: pem('ca.crt'),
    cert: pem('client.crt'),
    key: pem('client.key'),
    checkServerIdentity: () => undefined,
  } as unknown as WebSocket.ClientOptions;
  const ws = new WebSocket(url, 'plain.kubevirt.io', options);
  ws.on('unexpected-response', (_req, res) => {
    process.stderr.write(`console: ${res.statusCode} ${res.statusMessage ?? ''}\n`);
    process.exit(1);
  });
  ws.on('error', (err) => {
    process.stderr.write(`console: ${err.message}\n`);
    process.exit(1);
  });
  ws.on('open', () => {
    process.stderr.write(`Successfully connected to ${namespace}/${name} console. The escape sequence is ^]\n`);
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.on('data', (d: Buffer) => {
      if (d.includes(0x1d)) {
        ws.close();
        return;
      }
      ws.send(d);
    });
  });
  ws.on('message', (d: Buffer) => process.stdout.write(d));
  ws.on('close', (_code, reason) => {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    if (reason.length) process.stderr.write(`\nconsole closed: ${reason.toString()}\n`);
    process.exit(0);
  });
}

main();
