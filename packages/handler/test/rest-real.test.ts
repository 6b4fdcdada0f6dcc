// virt-handler's REST routes for virt-api on real parts: a real kube-apiserver, the handler as a
// process, a real launcher in a pod sandbox and the test guest. Each route's effect is checked where
// it happens: in the guest (its serial console), in the guest agent (asked through virsh in the pod,
// not through the launcher), in libvirt, and in the VMI status and Events the handler writes.
// rest.unit.test.ts covers what a real launcher cannot be made to do on demand (fail, hang, be missing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import { vmiNameToDomainName } from '@kubevirt-ts/shared';
import { poll } from '../../../test/bed/poll.ts';
import { virsh } from '../../../test/bed/libvirtd.ts';
import type { SerialConsole } from '../../../test/bed/serial.ts';
import { GUEST_PROMPT } from '../../../test/bed/guest.ts';
import { startHandlerNode, type HandlerNode, type TestVM } from '../../../test/bed/handler-node.ts';

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Width and height of an image: PNG (IHDR) or the PPM libvirt's screenshot may hand out. */
function imageSize(data: Buffer): { format: string; width: number; height: number } {
  if (data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    assert.equal(data.subarray(12, 16).toString('latin1'), 'IHDR', 'the first PNG chunk is IHDR');
    return { format: 'png', width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  const ppm = /^P6\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
  if (ppm) return { format: 'ppm', width: Number(ppm[1]), height: Number(ppm[2]) };
  throw new Error(`neither PNG nor PPM: ${data.subarray(0, 16).toString('hex')}`);
}

describe('virt-handler REST routes on a real launcher and guest', { timeout: 600_000 }, () => {
  let node: HandlerNode;
  let vm: TestVM;
  let serial: SerialConsole;
  let tmp: string;
  const name = 'restvmi';
  const logs = () => `${node.handler.logs().slice(-6000)}\nlauncher:\n${vm?.launcher.logs().slice(-6000) ?? ''}`;

  /** One call as virt-api makes it: client certificate, optional JSON body, raw bytes back. */
  const call = (method: string, sub: string, body?: string): Promise<{ status: number; type: string; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: node.consolePort,
          method,
          path: node.vmiPath(name, sub),
          ca: node.pki.ca.cert,
          cert: node.pki.client.cert,
          key: node.pki.client.key,
          checkServerIdentity: () => undefined,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });

  const agent = async (execute: string): Promise<unknown> =>
    (
      JSON.parse(
        await virsh(vm.sandbox, ['qemu-agent-command', vmiNameToDomainName(node.namespace, name), JSON.stringify({ execute })]),
      ) as { return: unknown }
    ).return;

  const bootId = async (): Promise<string> => {
    const id = (await serial.run('cat /proc/sys/kernel/random/boot_id')).trim();
    assert.match(id, BOOT_ID, `boot_id over the serial console: ${JSON.stringify(id)}`);
    return id;
  };

  const rebootedFrom = (oldId: string) =>
    poll(
      'the guest booted again (new boot_id on the serial console)',
      async () => {
        await serial.waitForPrompt(GUEST_PROMPT, 5_000);
        const id = await bootId();
        return id !== oldId ? id : undefined;
      },
      120_000,
      () => `serial console:\n${serial.output.slice(-3000)}\n${logs()}`,
    );

  const event = (reason: string) =>
    poll(
      `a ${reason} Event on the VMI`,
      async () => {
        const events = await node.core.listNamespacedEvent({ namespace: node.namespace, fieldSelector: `involvedObject.name=${name}` });
        return events.items.find((e) => e.reason === reason && e.source?.component === 'virt-handler');
      },
      20_000,
      logs,
    );

  const agentConnected = () =>
    poll(
      'VMI AgentConnected',
      async () =>
        (await node.getVMI(name)).status?.conditions?.some((c) => c.type === 'AgentConnected' && c.status === 'True') ? true : undefined,
      90_000,
      logs,
    );

  before(async () => {
    tmp = mkdtempSync('/tmp/kvts-rest-real-');
    node = await startHandlerNode({ namespace: 'rest-real', nodePrefix: 'kvts-rest' });
    // clientPassthrough: the launcher gives the guest its four usb-redir devices (the usbredir route)
    vm = await node.startVM(name, {
      customize: (v) => {
        Object.assign(v.spec.domain.devices, { clientPassthrough: {} });
      },
    });
    serial = await node.guestConsole(vm, { logs });
    await agentConnected();
  });

  after(async () => {
    serial?.close();
    await node?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('PUT freeze → 202, the guest agent reports frozen, status fsFreezeStatus frozen; PUT unfreeze → thawed, field gone', async () => {
    assert.equal(await agent('guest-fsfreeze-status'), 'thawed');
    const r = await call('PUT', 'freeze', '{"unfreezeTimeout":"5m"}');
    assert.equal(r.status, 202, r.body.toString());
    assert.equal(await agent('guest-fsfreeze-status'), 'frozen');
    await poll(
      'VMI status fsFreezeStatus frozen',
      async () => (((await node.getVMI(name)).status as { fsFreezeStatus?: string }).fsFreezeStatus === 'frozen' ? true : undefined),
      60_000,
      logs,
    );
    const u = await call('PUT', 'unfreeze');
    assert.equal(u.status, 202, u.body.toString());
    assert.equal(await agent('guest-fsfreeze-status'), 'thawed');
    await poll(
      'VMI status fsFreezeStatus gone',
      async () => (((await node.getVMI(name)).status as { fsFreezeStatus?: string }).fsFreezeStatus === undefined ? true : undefined),
      60_000,
      logs,
    );
  });

  test("GET vnc/screenshot → a PNG of the VGA screen, as large as the VGA mode (libvirt's own screenshot)", async () => {
    const r = await call('GET', 'vnc/screenshot');
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.type, 'image/png');
    const shot = imageSize(r.body);
    assert.equal(shot.format, 'png');
    // the same screen taken by libvirt directly, in the pod
    const file = path.join(tmp, 'virsh-screenshot');
    await virsh(vm.sandbox, ['screenshot', vmiNameToDomainName(node.namespace, name), file]);
    const direct = imageSize(readFileSync(file));
    assert.deepEqual([shot.width, shot.height], [direct.width, direct.height]);
    // the guest writes to ttyS0 only: the VGA stays in the BIOS's 80x25 text mode, 9x16 pixel cells
    assert.deepEqual([shot.width, shot.height], [720, 400]);
  });

  test("GET usbredir → a websocket to QEMU's usb-redir device: the device's hello comes through", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${node.consolePort}${node.vmiPath(name, 'usbredir')}`, 'plain.kubevirt.io', {
      ca: node.pki.ca.cert,
      cert: node.pki.client.cert,
      key: node.pki.client.key,
      // tls takes undefined as "identity fine"; ws types it as boolean
      checkServerIdentity: () => undefined,
    } as unknown as WebSocket.ClientOptions);
    try {
      // usbredir's hello, as QEMU sends it on connect: header (type 0 = hello, length, 32-bit id), then
      // the 64-byte version string
      const hello = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        ws.on('message', (data: Buffer) => {
          chunks.push(data);
          const all = Buffer.concat(chunks);
          if (all.length >= 76) resolve(all);
        });
        ws.once('error', reject);
        ws.once('close', (code) => reject(new Error(`closed (${code}) after ${Buffer.concat(chunks).length} bytes`)));
        setTimeout(() => reject(new Error('no usbredir hello within 20 s')), 20_000).unref();
      });
      assert.equal(hello.readUInt32LE(0), 0, 'usb_redir_hello');
      assert.match(hello.subarray(12, 76).toString('latin1'), /^qemu usb-redir guest /);
    } finally {
      ws.close();
    }
  });

  test('PUT reset → 202, a Reset Event, and the guest starts over (new boot_id)', async () => {
    const before = await bootId();
    const r = await call('PUT', 'reset');
    assert.equal(r.status, 202, r.body.toString());
    await rebootedFrom(before);
    await event('Reset');
    assert.equal((await node.getVMI(name)).status?.phase, 'Running');
  });

  test('PUT softreboot → 202, a SoftRebooted Event, and the guest reboots itself (new boot_id)', async () => {
    await agentConnected();
    const before = await bootId();
    const r = await call('PUT', 'softreboot');
    assert.equal(r.status, 202, r.body.toString());
    await rebootedFrom(before);
    await event('SoftRebooted');
    assert.equal((await virsh(vm.sandbox, ['domstate', vmiNameToDomainName(node.namespace, name)])).trim(), 'running');
  });
});
