import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** absolute URL, as a client speaking to a forward proxy sends it */
  url: string;
  proxyAuthorization: string | undefined;
}

/** A plain-HTTP forward proxy on loopback that remembers what passed through it. */
export class ForwardProxy {
  readonly seen: ProxiedRequest[] = [];
  #server: Server | undefined;

  async start(): Promise<this> {
    this.#server = createServer((incoming, outgoing) => this.#forward(incoming, outgoing)).listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return this;
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  #forward(incoming: IncomingMessage, outgoing: ServerResponse): void {
    const url = incoming.url ?? '';
    this.seen.push({ method: incoming.method ?? '', url, proxyAuthorization: incoming.headers['proxy-authorization'] });
    const headers = { ...incoming.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = request(url, { method: incoming.method, headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(upstream);
  }
}
