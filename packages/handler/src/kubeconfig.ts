// The handler's kubeconfig. client-node (2.0.1) gives every request a fresh undici Agent, so every API
// call dials and handshakes a new TLS connection (15–30 % of the handler's CPU under load, measured by
// bench/handler-scale). Like client-go's one transport per rest.Config, one Agent serves every request;
// it reconnects by itself when the API server goes away and comes back.
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class PooledKubeConfig extends KubeConfig {
  #dispatcher: Dispatcher | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    this.#dispatcher ??= fresh;
    // The fresh Agent never connected: dropping it frees it (closing it would build an error per call).
    if (fresh !== this.#dispatcher) context.setDispatcher(this.#dispatcher);
  }
}
