// The VM's page in a real browser: Debian's chromium, driven by playwright-core, against the demo's stack
// (kube-apiserver, virt-handler, a launcher booting the test guest) behind the virt-api stand-in. What a
// user does there: types into the serial console, pauses and unpauses, looks at the VNC screen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Cleanups, startDemoStack, until, type DemoStack } from './demo/demo.ts';
import { startVirtApi, type VirtApi } from './demo/virt-api.ts';
import { GUEST_PROMPT } from './bed/guest.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'test-artifacts');
const UNAME = /Linux \S+ \d+\.\d+\.\d+\S* .*x86_64/;

/** The page's `window.vmPage` (test/demo/page/vm.js), as far as the test reads it. */
interface PageGlobals {
  vmPage: {
    term: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } };
  };
}

/** noVNC's canvas, as far as the test reads it (no DOM types here). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

/** Waits until the page's terminal buffer matches `pattern`; returns the buffer's text. */
async function terminalShows(page: Page, pattern: RegExp, timeout = 30_000): Promise<string> {
  const handle = await page.waitForFunction(
    ([source, flags]) => {
      const buffer = (globalThis as unknown as PageGlobals).vmPage.term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
      const text = lines.join('\n');
      return new RegExp(source, flags).test(text) ? text : false;
    },
    [pattern.source, pattern.flags] as const,
    { timeout, polling: 100 },
  );
  return (await handle.jsonValue()) as string;
}

/** The width and height in a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('the VM page (virt-api stand-in) in chromium', { timeout: 180_000 }, () => {
  const cleanups = new Cleanups();
  let stack: DemoStack;
  let virtApi: VirtApi;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/setup (it installs Debian's chromium)`);
    const dir = mkdtempSync(path.join(tmpdir(), 'kubevirt-ts-browser-'));
    stack = await startDemoStack({ name: 'browservmi', dir }, cleanups);
    virtApi = await startVirtApi({ handlerURL: stack.handlerURL, tls: stack.clientTLS, kubeConfig: stack.kubeConfig });
    cleanups.defer(() => virtApi.close());
    // as root chromium refuses to start with its sandbox
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    cleanups.defer(() => browser.close());
    page = await browser.newPage({ viewport: { width: 1400, height: 1600 }, deviceScaleFactor: 1 });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${virtApi.url}/vmi/${stack.namespace}/${stack.name}`);
  });

  after(async () => {
    if (page) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'vm-page.png'), fullPage: true }).catch(() => undefined);
    }
    await cleanups.run();
  });

  test('the page shows the VMI Running with its guest OS from the agent', async () => {
    await page.locator('#state[data-state="Running"]').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('#phase').textContent(), 'Running');
    assert.match((await page.locator('#guest-os').textContent()) ?? '', /\S/);
    assert.doesNotMatch((await page.locator('#guest-os').textContent()) ?? '', /no guest agent/);
  });

  test('serial console: uname -a typed into xterm.js is answered by the guest', async () => {
    await page.locator('#console-status', { hasText: /^connected$/ }).waitFor({ timeout: 15_000 });
    await page.locator('#console .xterm').click();
    await page.keyboard.press('Enter');
    await terminalShows(page, GUEST_PROMPT);
    await page.keyboard.type('uname -a');
    await page.keyboard.press('Enter');
    const text = await terminalShows(page, UNAME);
    assert.match(text, /uname -a/);
  });

  test('Pause → the page and the VMI show Paused (PausedByUser); Unpause → Running again', async () => {
    const pausedCondition = async () => (await stack.getVMI()).status?.conditions?.find((c) => c.type === 'Paused' && c.status === 'True');

    await page.locator('#pause').click();
    await page.locator('#state[data-state="Paused"]').waitFor({ timeout: 30_000 });
    await page.locator('#conditions li[data-type="Paused"][data-status="True"]', { hasText: 'PausedByUser' }).waitFor({ timeout: 5_000 });
    assert.equal((await pausedCondition())?.reason, 'PausedByUser');
    assert.ok(await page.locator('#pause').isDisabled());

    await page.locator('#unpause').click();
    await page.locator('#state[data-state="Running"]').waitFor({ timeout: 30_000 });
    await page.locator('#conditions li[data-type="Paused"]').waitFor({ state: 'detached', timeout: 5_000 });
    assert.equal(await pausedCondition(), undefined);
    assert.equal(await page.locator('#action-status').textContent(), '');
  });

  test("VNC: noVNC shows the guest's screen; its canvas is saved as test-artifacts/vnc-screen.png", async () => {
    await page.locator('#vnc-status', { hasText: /^connected/ }).waitFor({ timeout: 15_000 });
    const canvas = page.locator('#vnc canvas');
    // the first framebuffer update follows ServerInit; until it is drawn the canvas is transparent
    const drawn = () =>
      canvas.evaluate((element) => {
        const c = element as unknown as Canvas;
        const pixels = c.width > 0 ? c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data : undefined;
        return pixels?.some((v, i) => i % 4 === 3 && v !== 0) ?? false;
      });
    await until('a framebuffer update drawn on the canvas', drawn, 15_000);
    const size = await canvas.evaluate((element) => {
      const c = element as unknown as Canvas;
      return { width: c.width, height: c.height };
    });
    const file = path.join(ARTIFACTS, 'vnc-screen.png');
    mkdirSync(ARTIFACTS, { recursive: true });
    await canvas.screenshot({ path: file });
    const png = readFileSync(file);
    assert.ok(png.length > 100, 'empty screenshot');
    assert.deepEqual(pngSize(png), size);
    assert.ok(size.width >= 320 && size.height >= 200, `canvas ${size.width}x${size.height}`);
  });

  test('the stand-in answers bad names with 400 and unknown VMIs with 404, as Kubernetes Statuses', async () => {
    const bad = await fetch(
      `${virtApi.url}/apis/subresources.kubevirt.io/v1/namespaces/Not_A_Namespace/virtualmachineinstances/${stack.name}/pause`,
      { method: 'PUT' },
    );
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /DNS-1123/);
    const missing = await fetch(`${virtApi.url}/api/vmi/${stack.namespace}/no-such-vmi`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { reason: string }).reason, 'NotFound');
  });

  test('the page ran without script errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});
