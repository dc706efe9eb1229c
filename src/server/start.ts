/** Start the API server on a port (the app itself is built in app.ts). */
import { createServer, type Server } from 'node:http';
import type { App } from './app.ts';

export interface Started {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startServer(app: App, port: number, host = '0.0.0.0'): Promise<Started> {
  const server = createServer((req, res) => app.handleNode(req, res));
  server.requestTimeout = 60_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr !== null ? addr.port : port;
  return {
    server,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
