import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../../support/secured-essay-service.js';
import { rawConnection } from './security-app.js';

/** Everything the server sends until it closes the connection, and how long that took. */
async function readUntilClosed(
  socket: Socket,
  timeoutMs: number,
): Promise<{ text: string; elapsedMs: number }> {
  const startedAt = Date.now();
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  const timer = setTimeout(
    () => socket.destroy(new Error('server kept the connection open')),
    timeoutMs,
  );
  try {
    await once(socket, 'close');
  } finally {
    clearTimeout(timer);
  }
  return { text, elapsedMs: Date.now() - startedAt };
}

describe.each(['express', 'fastify'] as const)('server limits on %s', (adapter) => {
  let service: SecuredEssayService;

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      serverLimits: {
        headersTimeoutMs: 400,
        requestTimeoutMs: 800,
        keepAliveTimeoutMs: 300,
        maxHeaderBytes: 4_096,
      },
    });
  });

  afterAll(() => service.close());

  it('sets them on the Node server', () => {
    const server = service.app.getHttpServer() as Server & { maxHeaderSize?: number };

    expect(server.headersTimeout).toBe(400);
    expect(server.requestTimeout).toBe(800);
    expect(server.keepAliveTimeout).toBe(300);
    expect(server.maxHeaderSize).toBe(4_096);
  });

  it('answers 408 and closes when the headers come too slowly', async () => {
    const socket = await rawConnection(service);
    socket.write('GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');

    const { text, elapsedMs } = await readUntilClosed(socket, 5_000);

    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeGreaterThanOrEqual(350);
  });

  it('answers 408 and closes when the body comes too slowly', async () => {
    const socket = await rawConnection(service);
    socket.write(
      'POST /essays HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":',
    );

    const { text, elapsedMs } = await readUntilClosed(socket, 5_000);

    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(elapsedMs).toBeGreaterThanOrEqual(750);
  });

  it('closes an idle keep-alive connection', async () => {
    const socket = await rawConnection(service);
    socket.write('GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');

    const { text, elapsedMs } = await readUntilClosed(socket, 5_000);

    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('answers 431 for headers over the limit', async () => {
    const response = await service.http.get('/livez').set('X-Large', 'x'.repeat(5_000));

    expect(response.status).toBe(431);
  });
});
