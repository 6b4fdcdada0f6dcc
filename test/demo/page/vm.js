// The VM's page: the VMI's state polled from the stand-in, Pause/Unpause through virt-api's subresources,
// the serial console in xterm.js and the VNC screen in noVNC, both over virt-api's websockets.
import { Terminal } from '/static/xterm/lib/xterm.mjs';
import RFB from '/static/novnc/core/rfb.js';

const PLAIN_STREAM_PROTOCOL = 'plain.kubevirt.io';
const POLL_MS = 1000;

const [, , namespace, name] = location.pathname.split('/').map(decodeURIComponent);
const subresources = `/apis/subresources.kubevirt.io/v1/namespaces/${namespace}/virtualmachineinstances/${name}`;
const streamURL = (kind) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${subresources}/${kind}`;
const $ = (id) => document.getElementById(id);

document.title = `${namespace}/${name}`;
$('title').textContent = `${namespace}/${name}`;

/** What the page shows, for people and for test/browser.test.ts. */
const vmPage = { term: undefined, rfb: undefined, vmi: undefined };
window.vmPage = vmPage;

// --- state ---------------------------------------------------------------------------------------

/** The answer's Kubernetes Status message, or its status line. */
async function failure(response) {
  const text = await response.text();
  try {
    return JSON.parse(text).message ?? text;
  } catch {
    return text || `${response.status} ${response.statusText}`;
  }
}

const isPaused = (vmi) => vmi.conditions.some((c) => c.type === 'Paused' && c.status === 'True');

function render(vmi) {
  vmPage.vmi = vmi;
  const paused = isPaused(vmi);
  const state = paused ? 'Paused' : vmi.phase || 'Pending';
  $('state').textContent = state;
  $('state').dataset.state = state;
  $('phase').textContent = vmi.phase || '—';
  $('node').textContent = vmi.nodeName || '—';
  const os = vmi.guestOSInfo;
  $('guest-os').textContent = os.prettyName || os.name || '— (no guest agent)';
  $('guest-kernel').textContent = os.kernelRelease ? `${os.kernelRelease} ${os.machine ?? ''}`.trim() : '—';
  $('conditions').replaceChildren(
    ...vmi.conditions.map((c) => {
      const li = document.createElement('li');
      li.dataset.type = c.type;
      li.dataset.status = c.status;
      li.textContent = `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`;
      return li;
    }),
  );
  const running = vmi.phase === 'Running';
  $('pause').disabled = !running || paused;
  $('unpause').disabled = !running || !paused;
}

async function pollVMI() {
  try {
    const r = await fetch(`/api/vmi/${namespace}/${name}`);
    if (r.ok) render(await r.json());
    else $('phase').textContent = await failure(r);
  } catch (err) {
    $('phase').textContent = `unreachable: ${err.message}`;
  }
}

async function pollGuestOSInfo() {
  if (vmPage.vmi?.phase !== 'Running' || isPaused(vmPage.vmi)) return;
  const r = await fetch(`${subresources}/guestosinfo`).catch(() => undefined);
  if (r?.ok) $('guest-hostname').textContent = (await r.json()).hostname || '—';
}

async function lifecycle(action) {
  $('action-status').textContent = '';
  $(action).disabled = true;
  const r = await fetch(`${subresources}/${action}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (!r.ok) $('action-status').textContent = `${action}: ${await failure(r)}`;
  await pollVMI();
}
$('pause').addEventListener('click', () => lifecycle('pause'));
$('unpause').addEventListener('click', () => lifecycle('unpause'));

// --- serial console --------------------------------------------------------------------------------

const term = new Terminal({ rows: 25, cols: 100, cursorBlink: true, scrollback: 5000 });
vmPage.term = term;
term.open($('console'));
const encoder = new TextEncoder();
let consoleSocket;
term.onData((data) => consoleSocket?.readyState === WebSocket.OPEN && consoleSocket.send(encoder.encode(data)));
term.onBinary((data) => consoleSocket?.readyState === WebSocket.OPEN && consoleSocket.send(Uint8Array.from(data, (c) => c.charCodeAt(0))));

function connectConsole() {
  $('console-status').textContent = 'connecting…';
  $('console-reconnect').hidden = true;
  const ws = new WebSocket(streamURL('console'), PLAIN_STREAM_PROTOCOL);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    $('console-status').textContent = 'connected';
    term.writeln(`\x1b[2m-- serial console of ${namespace}/${name}; press Enter for a prompt --\x1b[0m`);
    term.focus();
  };
  ws.onmessage = (e) => term.write(new Uint8Array(e.data));
  ws.onclose = (e) => {
    $('console-status').textContent = `closed${e.code ? ` (${e.code}${e.reason ? `: ${e.reason}` : ''})` : ''}`;
    $('console-reconnect').hidden = false;
  };
  consoleSocket = ws;
}
$('console-reconnect').addEventListener('click', connectConsole);

// --- VNC -------------------------------------------------------------------------------------------

function connectVNC() {
  $('vnc-status').textContent = 'connecting…';
  $('vnc-reconnect').hidden = true;
  const rfb = new RFB($('vnc'), streamURL('vnc'), { wsProtocols: [PLAIN_STREAM_PROTOCOL] });
  rfb.scaleViewport = false;
  rfb.addEventListener('connect', () => ($('vnc-status').textContent = 'connected'));
  rfb.addEventListener('desktopname', (e) => ($('vnc-status').textContent = `connected: ${e.detail.name}`));
  rfb.addEventListener('disconnect', (e) => {
    $('vnc-status').textContent = e.detail.clean ? 'disconnected' : 'connection lost';
    $('vnc-reconnect').hidden = false;
  });
  vmPage.rfb = rfb;
}
$('vnc-reconnect').addEventListener('click', connectVNC);

await pollVMI();
setInterval(pollVMI, POLL_MS);
void pollGuestOSInfo();
setInterval(pollGuestOSInfo, 5 * POLL_MS);
connectConsole();
connectVNC();
