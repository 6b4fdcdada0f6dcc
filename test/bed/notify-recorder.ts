// A notify server that records what a launcher sends: the test's stand-in for virt-handler's
// domain-notify.sock, listening where the handler's pipe would be inside the pod.
import { setTimeout as sleep } from 'node:timers/promises';
import { createNotifyServer, listenUnix, stopServer, type Server } from '@kubevirt-ts/proto';

export interface RecordedDomainEvent {
  eventType: string;
  domain: {
    ObjectMeta: { name: string; namespace: string; uid: string; deletionTimestamp?: string | null };
    Spec: { Name: string; UUID: string };
    Status: { Status: string; Reason: string; OSInfo: { Name: string; Id: string }; Interfaces: unknown };
  };
  at: number;
}

export class NotifyRecorder {
  readonly events: RecordedDomainEvent[] = [];
  readonly k8sEvents: Array<{ type: string; reason: string; message: string }> = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async listen(socketPath: string): Promise<NotifyRecorder> {
    let recorder: NotifyRecorder | undefined;
    const server = createNotifyServer({
      HandleDomainEvent: (req) => {
        recorder?.events.push({
          eventType: req.eventType,
          domain: JSON.parse(req.domainJSON.toString()) as RecordedDomainEvent['domain'],
          at: Date.now(),
        });
        return { success: true, message: '' };
      },
      HandleK8sEvent: (req) => {
        recorder?.k8sEvents.push(JSON.parse(req.eventJSON.toString()) as { type: string; reason: string; message: string });
        return { success: true, message: '' };
      },
    });
    await listenUnix(server, socketPath);
    recorder = new NotifyRecorder(server);
    return recorder;
  }

  /** Waits for an event matching `match` after index `from`. */
  async waitFor(match: (e: RecordedDomainEvent) => boolean, timeoutMs: number, from = 0): Promise<RecordedDomainEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find(match);
      if (hit) return hit;
      if (Date.now() > deadline) {
        const seen = this.events.slice(from).map((e) => `${e.eventType} ${e.domain.Status.Status}/${e.domain.Status.Reason}`);
        throw new Error(`no matching domain event within ${timeoutMs} ms; saw: ${seen.join(', ') || 'nothing'}`);
      }
      await sleep(50);
    }
  }

  close(): Promise<void> {
    return stopServer(this.#server);
  }
}
