import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEssayService, type RunningEssayService } from '../support/essay-service.js';
import {
  closedByServer,
  rawConnection,
  readResponse,
  type RawResponse,
} from '../support/raw-http.js';
import {
  startSecuredEssayService,
  type SecuredEssayService,
} from '../support/secured-essay-service.js';

// The sample app's limit: the library's default.
const BODY_LIMIT_BYTES = 1_048_576;
// Well under the 30 s request timeout, which is what answered before.
const PROMPTLY_MS = 5_000;

function portOf(service: { app: RunningEssayService['app'] }): number {
  return ((service.app.getHttpServer() as Server).address() as { port: number }).port;
}

/** Asserts a raw response is the problem+json a client must see, with its correlation id. */
function expectRawProblem(
  response: RawResponse,
  expected: { status: number; code: string; instance: string },
): Record<string, unknown> {
  expect(response.status).toBe(expected.status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json(;|$)/);
  const correlationId = response.headers['x-correlation-id'];
  expect(correlationId).toBeTruthy();
  const body = JSON.parse(response.text) as Record<string, unknown>;
  expect(body).toMatchObject({
    status: expected.status,
    code: expected.code,
    instance: expected.instance,
    correlationId,
  });
  expect(response.text).not.toMatch(/\bat \/|stack|node_modules|RangeError/);
  return body;
}

function postHead(headers: Record<string, string>): string {
  const lines = Object.entries({
    host: 'localhost',
    'content-type': 'application/json',
    ...headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return `POST /essays HTTP/1.1\r\n${lines}\r\n`;
}

/** Writes `chunk` as HTTP chunks, as fast as the socket takes them, until `stop()` says so. */
async function writeChunksUntil(
  socket: Socket,
  chunk: Buffer,
  stop: () => boolean,
  maxBytes: number,
): Promise<number> {
  const frame = Buffer.concat([
    Buffer.from(`${chunk.length.toString(16)}\r\n`),
    chunk,
    Buffer.from('\r\n'),
  ]);
  let written = 0;
  while (!stop() && written < maxBytes && !socket.destroyed) {
    written += chunk.length;
    if (!socket.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.once('drain', done);
        socket.once('close', done);
        // The server may answer and stop reading: look again now and then.
        setTimeout(done, 100);
      });
    }
  }
  return written;
}

async function expectStillServing(service: RunningEssayService): Promise<void> {
  const response = await service.http.get('/livez');
  expect(response.status).toBe(200);
}

describe.each(['express', 'fastify'] as const)('hostile input on %s', (adapter) => {
  let service: RunningEssayService;

  beforeAll(async () => {
    service = await startEssayService({ adapter });
  });

  afterAll(() => service?.close());

  describe('bodies over the limit', () => {
    it('refuses a declared 1 GiB body with 413 at once, without waiting for it, then closes the connection', async () => {
      const socket = await rawConnection(portOf(service));
      try {
        socket.write(postHead({ 'content-length': String(1_073_741_824) }));
        socket.write('{"title":"big","text":"');

        const response = await readResponse(socket, PROMPTLY_MS);

        expectRawProblem(response, { status: 413, code: 'PAYLOAD_TOO_LARGE', instance: '/essays' });
        expect(response.headers.connection).toBe('close');
        // The rest of the body is never going to be read: the server hangs up.
        await closedByServer(socket, PROMPTLY_MS);
      } finally {
        socket.destroy();
      }
      await expectStillServing(service);
    });

    it('refuses an endless chunked body with 413 once more than the limit has arrived', async () => {
      const socket = await rawConnection(portOf(service));
      try {
        socket.on('error', () => {});
        socket.write(postHead({ 'transfer-encoding': 'chunked' }));
        socket.write('6\r\n{"a":"\r\n');
        let answered = false;
        const answer = readResponse(socket, 30_000).finally(() => (answered = true));
        answer.catch(() => {});
        const written = await writeChunksUntil(
          socket,
          Buffer.alloc(64 * 1024, 'x'),
          () => answered,
          64 * 1024 * 1024,
        );

        const response = await answer;

        expectRawProblem(response, { status: 413, code: 'PAYLOAD_TOO_LARGE', instance: '/essays' });
        // Not before the limit was crossed, and long before the 64 MiB this client would send.
        expect(written).toBeGreaterThan(BODY_LIMIT_BYTES);
        expect(written).toBeLessThan(32 * 1024 * 1024);
        await closedByServer(socket, PROMPTLY_MS);
      } finally {
        socket.destroy();
      }
      await expectStillServing(service);
    });
  });

  describe('bodies refused before they are read', () => {
    it('answers an endless body of a type it does not take with 415, and closes the connection rather than read it', async () => {
      const socket = await rawConnection(portOf(service));
      try {
        socket.on('error', () => {});
        socket.write(postHead({ 'content-type': 'text/plain', 'transfer-encoding': 'chunked' }));
        let answered = false;
        const answer = readResponse(socket, PROMPTLY_MS).finally(() => (answered = true));
        answer.catch(() => {});
        const sending = writeChunksUntil(
          socket,
          Buffer.alloc(16 * 1024, 'x'),
          () => socket.destroyed,
          256 * 1024 * 1024,
        );

        const response = await answer;

        expectRawProblem(response, {
          status: 415,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          instance: '/essays',
        });
        expect(answered).toBe(true);
        expect(response.headers.connection).toBe('close');
        // Without Connection: close Node reads (and discards) the body for as long as it
        // comes, up to the 30 s request timeout.
        await closedByServer(socket, PROMPTLY_MS);
        await sending;
      } finally {
        socket.destroy();
      }
      await expectStillServing(service);
    });
  });

  describe('deeply nested JSON', () => {
    const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

    it.each([
      ['an array 5,000 levels deep', deepArray(5_000)],
      ['an array 100,000 levels deep', deepArray(100_000)],
      ['an object 50,000 levels deep inside a field', `{"title":"x","text":${deepObject(50_000)}}`],
    ])('refuses %s with 400 MALFORMED_REQUEST, and keeps serving', async (_name, body) => {
      const response = await service.http
        .post('/essays')
        .set('content-type', 'application/json')
        .send(body);

      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({
        status: 400,
        code: 'MALFORMED_REQUEST',
        detail: 'The request body is nested more than 64 levels deep.',
        correlationId: response.headers['x-correlation-id'],
      });
      expect(response.text).not.toMatch(/stack|RangeError/);
      const accepted = await service.http.post('/essays').send({ title: 'After', text: 'Fine.' });
      expect(accepted.status).toBe(202);
    });

    it('accepts JSON nested up to the limit, which validation then judges', async () => {
      const response = await service.http
        .post('/essays')
        .set('content-type', 'application/json')
        .send(`{"title":"x","text":${deepObject(63)}}`);

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });

  describe('URLs that cannot be decoded', () => {
    it('answers GET /essays/%ZZ with 400 problem+json and a correlation id', async () => {
      const socket = await rawConnection(portOf(service));
      try {
        socket.write(
          'GET /essays/%ZZ HTTP/1.1\r\nhost: localhost\r\nx-correlation-id: bad-url-1\r\n\r\n',
        );

        const response = await readResponse(socket, PROMPTLY_MS);

        const body = expectRawProblem(response, {
          status: 400,
          code: 'MALFORMED_REQUEST',
          instance: '/essays/%ZZ',
        });
        expect(body.correlationId).toBe('bad-url-1');
      } finally {
        socket.destroy();
      }
    });
  });
});

/** Opens `count` connections that never send a byte; resolves once all are connected. */
async function openSilentConnections(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  // A few at a time: the listen backlog of a test server is not the point here.
  for (let opened = 0; opened < count; opened += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - opened) }, () => rawConnection(port)),
    );
    for (const socket of batch) socket.on('error', () => {});
    sockets.push(...batch);
  }
  return sockets;
}

/** When each socket was closed by the server, in ms after `since`; rejects past `timeoutMs`. */
function closingTimes(sockets: Socket[], since: number, timeoutMs: number): Promise<number[]> {
  return Promise.all(
    sockets.map((socket) => closedByServer(socket, timeoutMs).then(() => Date.now() - since)),
  );
}

describe.each(['express', 'fastify'] as const)('connections that never speak, on %s', (adapter) => {
  const SILENT_TIMEOUT_MS = 1_000;
  let service: SecuredEssayService;
  let sockets: Socket[] = [];

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      serverLimits: { silentConnectionTimeoutMs: SILENT_TIMEOUT_MS },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await service?.close();
  });

  it('closes 300 silent connections after the silence timeout, serving real clients meanwhile', async () => {
    const openedAt = Date.now();
    sockets = await openSilentConnections(portOf(service), 300);
    const closed = closingTimes(sockets, openedAt, SILENT_TIMEOUT_MS + 10_000);

    const meanwhile = await service.http.get('/livez');
    expect(meanwhile.status).toBe(200);

    const times = await closed;
    // Not before the client had its time to speak; every one of them well before Node's 15 s
    // headers timeout, which never starts for a connection that sends nothing.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(SILENT_TIMEOUT_MS - 50);
    expect(Math.max(...times)).toBeLessThan(SILENT_TIMEOUT_MS + 5_000);
    expect((await service.http.get('/livez')).status).toBe(200);
  });

  it('leaves a connection alone once its request has begun, and a keep-alive one until its own timeout', async () => {
    const socket = await rawConnection(portOf(service));
    try {
      socket.write('GET /livez HTTP/1.1\r\nhost: localhost\r\n\r\n');
      const first = await readResponse(socket, PROMPTLY_MS);
      expect(first.status).toBe(200);
      // Past the silence timeout, within the 5 s keep-alive timeout: still usable.
      await new Promise((resolve) => setTimeout(resolve, SILENT_TIMEOUT_MS + 500));
      socket.write('GET /livez HTTP/1.1\r\nhost: localhost\r\n\r\n');
      const second = await readResponse(socket, PROMPTLY_MS);
      expect(second.status).toBe(200);
    } finally {
      socket.destroy();
    }
  });
});

describe.each(['express', 'fastify'] as const)('the connection cap, on %s', (adapter) => {
  const CAP = 40;
  let service: SecuredEssayService;
  let sockets: Socket[] = [];

  beforeAll(async () => {
    service = await startSecuredEssayService({
      adapter,
      // A long silence timeout: here the cap, not the timeout, is what frees places.
      serverLimits: { maxConnections: CAP, silentConnectionTimeoutMs: 20_000 },
    });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await service?.close();
  });

  it('sets maxConnections on the Node server', () => {
    expect((service.app.getHttpServer() as Server).maxConnections).toBe(CAP);
  });

  it('makes room for real clients by closing the connections silent longest', async () => {
    const port = portOf(service);
    sockets = await openSilentConnections(port, CAP * 3);

    // Every real request gets its answer although silent connections fill the cap.
    for (let attempt = 0; attempt < 5; attempt++) {
      const client = await rawConnection(port);
      try {
        client.write('GET /livez HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
        expect((await readResponse(client, PROMPTLY_MS)).status).toBe(200);
      } finally {
        client.destroy();
      }
    }
    // The oldest silent ones were closed to make room; the newest still wait.
    await Promise.all(
      sockets.slice(0, CAP * 2).map((socket) => closedByServer(socket, PROMPTLY_MS)),
    );
    const newest = sockets.slice(-CAP / 2);
    expect(newest.filter((socket) => socket.destroyed || socket.readableEnded)).toEqual([]);
    for (const socket of sockets) socket.destroy();
  });

  it('refuses a connection past the cap when every open one has had a request', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Kept open by keep-alive after a request: not silent, so never closed to make room.
    const busy: Socket[] = [];
    for (let index = 0; index < CAP; index++) {
      const socket = await rawConnection(portOf(service));
      busy.push(socket);
      socket.write('GET /livez HTTP/1.1\r\nhost: localhost\r\n\r\n');
      expect((await readResponse(socket, PROMPTLY_MS)).status).toBe(200);
    }
    sockets = busy;

    const extra = await rawConnection(portOf(service));
    sockets.push(extra);
    extra.write('GET /livez HTTP/1.1\r\nhost: localhost\r\n\r\n');

    await expect(readResponse(extra, PROMPTLY_MS)).rejects.toThrow(
      /closed the connection|ECONNRESET/,
    );
    for (const socket of busy) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await service.http.get('/livez')).status).toBe(200);
  });
});
