// A client of a guest's serial console unix socket (what virt-handler proxies for `virtctl console`).
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

export class SerialConsole {
  #socket: Socket;
  #buffer = '';
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buffer += d.toString('latin1');
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(socketPath: string): Promise<SerialConsole> {
    const socket = connect(socketPath);
    await once(socket, 'connect');
    return new SerialConsole(socket);
  }

  get output(): string {
    return this.#buffer;
  }

  write(text: string): void {
    this.#socket.write(text);
  }

  /** Resolves with the output once it matches `pattern` (searched from `from`), or rejects after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.#buffer.slice(from));
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`serial console: ${pattern} not seen in ${timeoutMs} ms; got:\n${this.#buffer.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Presses enter until the shell prompt shows (the guest may still be booting). */
  async waitForPrompt(prompt: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const from = this.#buffer.length;
      this.write('\r');
      try {
        await this.waitFor(prompt, Math.min(2000, Math.max(1, deadline - Date.now())), from);
        return;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
      }
    }
  }

  /** Runs a shell command and returns what it printed between two unique markers. */
  async run(command: string, timeoutMs = 10_000): Promise<string> {
    const tag = `kvts${Math.random().toString(36).slice(2, 8)}`;
    const from = this.#buffer.length;
    // The markers are built by the shell so the echoed command line cannot match them.
    this.write(`echo ${tag}-be''gin; ${command}; echo ${tag}-e''nd\r`);
    const m = await this.waitFor(new RegExp(`${tag}-begin\\r?\\n([\\s\\S]*?)${tag}-end`), timeoutMs, from);
    return (m[1] ?? '').replace(/\r/g, '');
  }

  close(): void {
    this.#socket.destroy();
  }
}
