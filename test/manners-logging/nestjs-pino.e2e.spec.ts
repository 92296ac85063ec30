import { pinoHttp } from 'pino-http';
import { afterEach, describe, expect, it } from 'vitest';
import { LogCapture, type LogLine } from '../support/log-capture.js';
import {
  API_KEY,
  EVERY_ROUTE,
  ourAccessLines,
  pinoAccessLines,
  pinoHttpOptions,
  startApp,
  useNestjsPinoLogger,
  type StartedApp,
  type StartOptions,
} from './nestjs-pino-app.js';

// One pino-http instance per process (see pinoHttpOptions): all of nestjs-pino's lines land here.
const pinoLogs = new LogCapture();
const nestjsPino = { pinoHttp: pinoHttpOptions(pinoLogs), forRoutes: EVERY_ROUTE };

const BEARER = 'Bearer secret-bearer-token-4711';
const COOKIE = 'session=secret-session-cookie-0815';
const WRONG_KEY = 'wrong-key-that-must-not-be-logged-42';

describe.each(['express', 'fastify'] as const)('an app with nestjs-pino, on %s', (adapter) => {
  let service: StartedApp | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  async function start(options: StartOptions = { nestjsPino }): Promise<StartedApp> {
    service = await startApp(adapter, options);
    return service;
  }

  /**
   * The access lines, both loggers', of one request once the first of them is
   * written. Both are written in the response's `finish` event, ours first
   * (the entry listens before pino-http does): when one is there, so is the other.
   */
  async function accessLinesOf(
    ours: LogCapture,
    correlationId: string,
  ): Promise<{ pino: LogLine[]; ours: LogLine[] }> {
    await ours.waitForLine(
      () =>
        pinoAccessLines(pinoLogs, correlationId).length +
          ourAccessLines(ours, correlationId).length >
        0,
      5_000,
      `an access line of ${correlationId}`,
    );
    return {
      pino: pinoAccessLines(pinoLogs, correlationId),
      ours: ourAccessLines(ours, correlationId),
    };
  }

  it("writes one access line per request, nestjs-pino's, carrying our correlation id", async () => {
    const { http, ours } = await start();
    const id = `one-line-${adapter}`;
    await http().get('/notes/1').set('X-API-Key', API_KEY).set('X-Correlation-ID', id).expect(200);

    const lines = await accessLinesOf(ours, id);
    expect(lines.ours).toEqual([]);
    expect(lines.pino).toHaveLength(1);
    expect(lines.pino[0]).toMatchObject({
      correlationId: id,
      req: { method: 'GET', url: '/notes/1' },
      res: { statusCode: 200 },
      msg: 'request completed',
    });
  });

  it('writes our line for a request refused before the app’s middleware, which nestjs-pino never sees', async () => {
    const { http, ours } = await start();
    const id = `refused-${adapter}`;
    await http()
      .get('/notes/1')
      .set('Origin', 'https://evil.example')
      .set('X-Correlation-ID', id)
      .expect(403);

    const lines = await accessLinesOf(ours, id);
    expect(lines.pino).toEqual([]);
    expect(lines.ours).toEqual([
      expect.objectContaining({ correlationId: id, path: '/notes/1', status: 403 }),
    ]);
  });

  it('writes both lines when asked to (accessLog: true)', async () => {
    const { http, ours } = await start({ nestjsPino, logging: { accessLog: true } });
    const id = `both-${adapter}`;
    await http().get('/notes/1').set('X-API-Key', API_KEY).set('X-Correlation-ID', id).expect(200);

    const lines = await accessLinesOf(ours, id);
    expect(lines.pino).toHaveLength(1);
    expect(lines.ours).toEqual([expect.objectContaining({ route: '/notes/:id', status: 200 })]);
  });

  describe.each([
    ['our logger as Nest’s', 'ours', {}],
    ['app.useLogger(app.get(Logger))', 'theirs', { configure: useNestjsPinoLogger }],
  ] as const)('with %s', (_, nestLogger, setup) => {
    it('logs no secret header value anywhere, while the API key still authenticates', async () => {
      const { http, ours } = await start({ nestjsPino, ...setup });
      const pinoMark = pinoLogs.mark();
      const accepted = `secrets-${nestLogger}-${adapter}`;
      const refused = `secrets-refused-${nestLogger}-${adapter}`;
      await http()
        .get('/notes/1')
        .set('X-API-Key', API_KEY)
        .set('Authorization', BEARER)
        .set('Cookie', COOKIE)
        .set('X-Correlation-ID', accepted)
        .expect(200);
      await http()
        .get('/notes/2')
        .set('X-API-Key', WRONG_KEY)
        .set('X-Correlation-ID', refused)
        .expect(401);

      const [line] = (await accessLinesOf(ours, accepted)).pino;
      // The headers are logged, with the secret ones' values replaced.
      expect(line).toMatchObject({
        req: {
          headers: {
            'x-api-key': '[REDACTED]',
            authorization: '[REDACTED]',
            cookie: '[REDACTED]',
            'x-correlation-id': accepted,
          },
        },
      });
      expect((await accessLinesOf(ours, refused)).pino).toEqual([
        expect.objectContaining({
          req: expect.objectContaining({
            headers: expect.objectContaining({ 'x-api-key': '[REDACTED]' }) as unknown,
          }) as unknown,
          res: expect.objectContaining({ statusCode: 401 }) as unknown,
        }),
      ]);
      const everything = pinoLogs.chunks.join('') + ours.text;
      for (const secret of [API_KEY, WRONG_KEY, BEARER, 'secret-bearer-token-4711', COOKIE]) {
        expect(everything).not.toContain(secret);
      }
      expect(pinoLogs.since(pinoMark).length).toBeGreaterThan(0);
    });
  });

  it('writes one line per request with nestjs-pino’s default routes, ours where they match nothing', async () => {
    const { http, ours } = await start({ nestjsPino: { pinoHttp: nestjsPino.pinoHttp } });
    const id = `default-routes-${adapter}`;
    await http().get('/notes/1').set('X-API-Key', API_KEY).set('X-Correlation-ID', id).expect(200);

    const lines = await accessLinesOf(ours, id);
    expect(lines.pino.length + lines.ours.length).toBe(1);
    // Where nestjs-pino logs by default: Express. On Fastify 5 its default route misses.
    expect(lines.pino).toHaveLength(adapter === 'express' ? 1 : 0);
  });
});

describe.each(['express', 'fastify'] as const)('an app without nestjs-pino, on %s', (adapter) => {
  let service: StartedApp | undefined;
  afterEach(async () => {
    await service?.close();
    service = undefined;
  });

  it('writes our access line', async () => {
    service = await startApp(adapter);
    const id = `ours-only-${adapter}`;
    await service
      .http()
      .get('/notes/1')
      .set('X-API-Key', API_KEY)
      .set('X-Correlation-ID', id)
      .expect(200);

    const line = await service.ours.waitForLine(
      (candidate) => candidate.msg === 'request completed' && candidate.correlationId === id,
    );
    expect(line).toMatchObject({ route: '/notes/:id', status: 200 });
    expect(ourAccessLines(service.ours, id)).toHaveLength(1);
  });

  it('leaves the line to a pino-http of its own, app.use(pinoHttp()), secrets hidden', async () => {
    const own = new LogCapture();
    service = await startApp(adapter, {
      configure: (app) => app.use(pinoHttp(pinoHttpOptions(own))),
    });
    const id = `own-pino-http-${adapter}`;
    await service
      .http()
      .get('/notes/1')
      .set('X-API-Key', API_KEY)
      .set('Authorization', BEARER)
      .set('X-Correlation-ID', id)
      .expect(200);

    const line = await own.waitForLine((candidate) => candidate.correlationId === id);
    expect(line).toMatchObject({
      msg: 'request completed',
      req: { headers: { 'x-api-key': '[REDACTED]', authorization: '[REDACTED]' } },
    });
    expect(ourAccessLines(service.ours, id)).toEqual([]);
    expect(own.text + service.ours.text).not.toContain(API_KEY);
    expect(own.text + service.ours.text).not.toContain(BEARER);
  });
});
