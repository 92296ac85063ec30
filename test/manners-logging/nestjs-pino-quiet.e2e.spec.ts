import { afterEach, describe, expect, it } from 'vitest';
import { LogCapture } from '../support/log-capture.js';
import {
  API_KEY,
  EVERY_ROUTE,
  ourAccessLines,
  pinoAccessLines,
  pinoHttpOptions,
  startApp,
  type StartedApp,
} from './nestjs-pino-app.js';

// A file of its own: nestjs-pino's pino-http options are fixed, per process, by its first app.
const pinoLogs = new LogCapture();
const nestjsPino = {
  pinoHttp: pinoHttpOptions(pinoLogs, { autoLogging: false }),
  forRoutes: EVERY_ROUTE,
};

describe.each(['express', 'fastify'] as const)(
  'an app with nestjs-pino’s access line off (autoLogging: false), on %s',
  (adapter) => {
    let service: StartedApp | undefined;
    afterEach(async () => {
      await service?.close();
      service = undefined;
    });

    it('writes our access line, the only one', async () => {
      service = await startApp(adapter, { nestjsPino });
      const id = `quiet-pino-${adapter}`;
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
      expect(pinoAccessLines(pinoLogs, id)).toEqual([]);
    });
  },
);
