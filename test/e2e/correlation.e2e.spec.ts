import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import { expectProblem } from '../support/problem-response.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MISSING_ESSAY = '6f1c2a4e-3b7d-4c9a-8e2f-1a2b3c4d5e6f';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TEXT = 'The cat sat on the mat. It was happy!';

/** A fresh id per test, so log lines can be told apart. */
function safeId(label: string): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/**
 * Sends `head` (a request line and headers, CRLF-terminated) over a raw
 * socket, as no HTTP client would let us, and returns everything the server
 * answers before it closes the connection.
 */
function sendRaw(port: number, head: string, timeoutMs = 3_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head, 'latin1'));
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No answer within ${timeoutMs} ms; got ${JSON.stringify(received)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

describe.each(['express', 'fastify'] as const)('correlation ids on %s', (adapter) => {
  let service: CapturedEssayService;

  beforeAll(async () => {
    service = await startCapturedEssayService({ adapter });
  });

  afterAll(async () => {
    await service?.close();
  });

  /** The app listens on an ephemeral loopback port the first time a raw socket needs one. */
  let port: number | undefined;
  async function listeningPort(): Promise<number> {
    if (port === undefined) {
      await service.app.listen(0, '127.0.0.1');
      port = Number(new URL(await service.app.getUrl()).port);
    }
    return port;
  }

  /** GET of a missing essay (a 404 with a problem body) with `headers`; returns the id it was given. */
  async function idGivenFor(headers: Record<string, string>): Promise<string> {
    let request = service.http.get(`/essays/${MISSING_ESSAY}`);
    for (const [name, value] of Object.entries(headers)) request = request.set(name, value);
    const response = await request;
    expect(response.status).toBe(404);
    const id: string = response.headers['x-correlation-id'];
    expect((response.body as { correlationId: string }).correlationId).toBe(id);
    return id;
  }

  /** The access line of the request given `correlationId`, once written. */
  function accessLineOf(correlationId: string) {
    return service.logs.waitForLine(
      (line) => line.msg === 'request completed' && line.correlationId === correlationId,
      5_000,
      `the access line of ${correlationId}`,
    );
  }

  describe('accepted from the client', () => {
    it('echoes a safe X-Correlation-ID in the header, the body and the access line', async () => {
      const sent = safeId('Abc.09_x:y');

      expect(await idGivenFor({ 'X-Correlation-ID': sent })).toBe(sent);
      expect(await accessLineOf(sent)).toMatchObject({ status: 404 });
    });

    it('accepts an id of exactly 128 characters', async () => {
      const sent = 'a'.repeat(128);

      expect(await idGivenFor({ 'X-Correlation-ID': sent })).toBe(sent);
    });

    it('uses X-Request-ID when there is no X-Correlation-ID', async () => {
      const sent = safeId('request');

      expect(await idGivenFor({ 'X-Request-ID': sent })).toBe(sent);
    });

    it('prefers X-Correlation-ID to X-Request-ID', async () => {
      const correlation = safeId('correlation');

      expect(
        await idGivenFor({ 'X-Correlation-ID': correlation, 'X-Request-ID': safeId('request') }),
      ).toBe(correlation);
    });

    it('falls back to a safe X-Request-ID when X-Correlation-ID is unsafe', async () => {
      const request = safeId('request');

      expect(await idGivenFor({ 'X-Correlation-ID': 'has space', 'X-Request-ID': request })).toBe(
        request,
      );
    });

    it('uses the trace id of a valid W3C traceparent', async () => {
      const id = await idGivenFor({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });

      expect(id).toBe(TRACE_ID);
    });

    it('prefers X-Request-ID to traceparent', async () => {
      const request = safeId('request');

      expect(
        await idGivenFor({
          'X-Request-ID': request,
          traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
        }),
      ).toBe(request);
    });
  });

  describe('minted as a UUID v4', () => {
    it('when the client sends none', async () => {
      const first = await idGivenFor({});
      const second = await idGivenFor({});

      expect(first).toMatch(UUID_V4);
      expect(second).toMatch(UUID_V4);
      expect(second).not.toBe(first);
    });

    const unsafe: Array<[string, string]> = [
      ['a 10 KB id', 'x'.repeat(10_240)],
      ['a 129-character id', 'a'.repeat(129)],
      ['an id with quotes', 'say-"hi"'],
      ['an id with braces', '{"$ne":null}'],
      ['an id with spaces', 'one two'],
      ['an id with a tab', 'one\ttwo'],
      ['an id with a slash and angle brackets', '../<script>'],
      ['a non-ASCII id', 'ид-1'],
    ];

    it.each(unsafe)('in place of %s, which is never logged', async (_case, sent) => {
      // Node's client refuses non-Latin-1 header values; send the UTF-8 bytes as Latin-1, as a raw client could.
      const wire = Buffer.from(sent, 'utf8').toString('latin1');
      const id = await idGivenFor({ 'X-Correlation-ID': wire });

      expect(id).toMatch(UUID_V4);
      await accessLineOf(id);
      expect(service.logs.text).not.toContain(JSON.stringify(sent).slice(1, -1));
    });

    it('in place of two X-Correlation-ID headers, which Node joins into one unsafe value', async () => {
      const port = await listeningPort();
      const answer = await sendRaw(
        port,
        `GET /essays/${MISSING_ESSAY} HTTP/1.1\r\nHost: localhost\r\n` +
          'X-Correlation-ID: first-id\r\nX-Correlation-ID: second-id\r\nConnection: close\r\n\r\n',
      );

      expect(answer).toMatch(/^HTTP\/1\.1 404 /);
      const [, id] = /\r\nx-correlation-id: ([^\r]*)\r\n/i.exec(answer) ?? [];
      expect(id).toMatch(UUID_V4);
    });

    it('in place of a traceparent whose trace id is all zeros', async () => {
      const id = await idGivenFor({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` });

      expect(id).toMatch(UUID_V4);
    });

    it('in place of a malformed traceparent', async () => {
      const id = await idGivenFor({
        traceparent: `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`,
      });

      expect(id).toMatch(UUID_V4);
    });
  });

  describe('control characters in the header', () => {
    // Node's HTTP parser (llhttp) refuses a header value holding CR, a bare
    // LF or NUL before any app code runs: the app never sees the request, so
    // the value can reach no log line and no response. Express leaves the
    // answer to Node (a bare 400, no body); Fastify's clientErrorHandler
    // answers 400 with its own small JSON body. Neither carries an id, since
    // no request context was ever opened.
    const injections: Array<[string, string]> = [
      ['an embedded CR', 'abc\rX-Injected: cr'],
      ['a bare LF', 'abc\nX-Injected: lf'],
      ['a NUL', 'abc\0def'],
    ];

    it.each(injections)(
      'closes the connection with a 400 for %s, logging nothing',
      async (_case, value) => {
        const port = await listeningPort();
        const mark = service.logs.mark();

        const answer = await sendRaw(
          port,
          `GET /essays/${MISSING_ESSAY} HTTP/1.1\r\nHost: localhost\r\nX-Correlation-ID: ${value}\r\n\r\n`,
        );

        expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
        expect(answer.toLowerCase()).not.toContain('x-correlation-id');
        expect(answer).not.toContain('X-Injected');
        expect(service.logs.since(mark)).toEqual([]);
      },
    );
  });

  describe('on every error response', () => {
    const errorRequests: Array<[string, number, string, (id: string) => PromiseLike<Response>]> = [
      ['404', 404, 'NOT_FOUND', (id) => service.http.get('/nowhere').set('X-Correlation-ID', id)],
      [
        '405',
        405,
        'METHOD_NOT_ALLOWED',
        (id) => service.http.put('/essays').set('X-Correlation-ID', id),
      ],
      [
        '413',
        413,
        'PAYLOAD_TOO_LARGE',
        (id) =>
          service.http
            .post('/essays')
            .set('X-Correlation-ID', id)
            .send({ title: 'Big', text: 'x'.repeat(1_100_000) }),
      ],
      [
        '415',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        (id) =>
          service.http
            .post('/essays')
            .set('X-Correlation-ID', id)
            .set('Content-Type', 'text/plain')
            .send('x'),
      ],
      [
        '400 (malformed JSON)',
        400,
        'MALFORMED_REQUEST',
        (id) =>
          service.http
            .post('/essays')
            .set('X-Correlation-ID', id)
            .set('Content-Type', 'application/json')
            .send('{'),
      ],
    ];

    it.each(errorRequests)(
      'carries the client id on a %s, in the header, the body and both log lines',
      async (_name, status, code, send) => {
        const id = safeId(`status-${status}`);

        const response = await send(id);

        expect(response.status).toBe(status);
        expect(response.headers['x-correlation-id']).toBe(id);
        expect(JSON.parse(response.text)).toMatchObject({ code, correlationId: id });
        await accessLineOf(id);
        expect(service.logs.withCorrelationId(id).map((line) => line.context ?? line.msg)).toEqual([
          'Errors',
          'request completed',
        ]);
      },
    );
  });

  describe('on every log line of a request', () => {
    it('gives the access line and the Errors line of a failed request the request id, and nothing else is written', async () => {
      const id = safeId('failed');
      const mark = service.logs.mark();

      const response = await service.http
        .get(`/essays/${MISSING_ESSAY}`)
        .set('X-Correlation-ID', id);
      expectProblem(response, {
        status: 404,
        code: 'NOT_FOUND',
        title: 'Not Found',
        detail: `No essay with id ${MISSING_ESSAY}.`,
        instance: `/essays/${MISSING_ESSAY}`,
        correlationId: id,
      });
      await accessLineOf(id);

      const written = service.logs
        .since(mark)
        // The redelivery sweep runs on a timer, outside any request.
        .filter((line) => line.context !== 'EssayRedeliveryService');
      expect(written).toEqual([
        expect.objectContaining({
          level: 'warn',
          context: 'Errors',
          correlationId: id,
          code: 'NOT_FOUND',
        }),
        expect.objectContaining({
          level: 'warn',
          msg: 'request completed',
          correlationId: id,
          status: 404,
        }),
      ]);
    });

    it("gives the submitting request's id to the access line and to EssaysService's processing line", async () => {
      const id = safeId('submit');

      const response = await service.http
        .post('/essays')
        .set('X-Correlation-ID', id)
        .send({ title: 'Cats', text: TEXT });
      expect(response.status).toBe(202);
      expect(response.headers['x-correlation-id']).toBe(id);
      const { id: essayId } = response.body as { id: string };

      const processed = await service.logs.waitForLine(
        (line) =>
          line.context === 'EssaysService' && line.msg === `Essay ${essayId} processed: 9 words`,
        5_000,
        `essay ${essayId} to be processed`,
      );
      expect(processed).toMatchObject({ level: 'info', correlationId: id });
      const access = await accessLineOf(id);
      expect(access).toMatchObject({ method: 'POST', route: '/essays', status: 202 });
      expect(service.logs.withCorrelationId(id)).toHaveLength(2);
    });

    it('keeps ten concurrent requests apart', async () => {
      const ids = Array.from({ length: 10 }, (_, index) => safeId(`concurrent${index}`));

      const responses = await Promise.all(
        ids.map((id) => service.http.get(`/essays/${MISSING_ESSAY}`).set('X-Correlation-ID', id)),
      );

      responses.forEach((response, index) => {
        expect(response.headers['x-correlation-id']).toBe(ids[index]);
        expect((response.body as { correlationId: string }).correlationId).toBe(ids[index]);
      });
      for (const id of ids) {
        await accessLineOf(id);
        expect(service.logs.withCorrelationId(id).map((line) => line.context ?? line.msg)).toEqual([
          'Errors',
          'request completed',
        ]);
      }
    });

    it('leaves lines written outside any request without an id', () => {
      const started = service.logs.lines.find(
        (line) => line.msg === 'Nest application successfully started',
      );

      expect(started).toBeDefined();
      expect(started).not.toHaveProperty('correlationId');
    });
  });
});
