import { trace } from '@opentelemetry/api';
import { isTracingActive, startTracing } from 'nestjs-production-readiness';
import { tracingState } from '../../libs/production-readiness/src/tracing/tracing-state.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

// The default configuration: TRACING_ENABLED=true and no OTLP endpoint. The
// entry installs nothing and every request takes the path it took before tracing.
describe('tracing enabled without an endpoint (the default)', () => {
  it('starts nothing and says why', () => {
    const state = startTracing({ env: { TRACING_ENABLED: 'true' } });

    expect(state).toMatchObject({ isActive: false, lacksEndpoint: true });
    expect(state.description).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(tracingState()).toBe(state);
    expect(isTracingActive()).toBe(false);
    // No SDK behind the API: spans are the API's no-ops, with no trace id.
    const span = trace.getTracer('test').startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('0'.repeat(32));
  });

  describe.each(['express', 'fastify'] as const)('on %s', (adapter) => {
    let service: CapturedEssayService;

    beforeAll(async () => {
      startTracing({ env: { TRACING_ENABLED: 'true' } });
      service = await startCapturedEssayService({ adapter });
    });

    afterAll(async () => {
      await service?.close();
    });

    it('logs once that tracing is off for lack of an endpoint', () => {
      const said = service.logs.lines.filter((line) => line.msg?.startsWith('Tracing is off'));
      // Once per process: the first app of this file said it.
      expect(said.length).toBe(adapter === 'express' ? 1 : 0);
    });

    it('answers with a minted UUID, no traceparent and no traceId', async () => {
      const mark = service.logs.mark();

      const response = await service.http.get('/essays/not-a-uuid');

      expect(response.status).toBe(400);
      expect(response.headers['x-correlation-id']).toMatch(UUID);
      expect(response.headers.traceparent).toBeUndefined();
      expect(response.body).not.toHaveProperty('traceId');
      await service.logs.waitForLine(
        (line) => line.msg === 'request completed' && line.path === '/essays/not-a-uuid',
      );
      for (const line of service.logs.since(mark)) {
        expect(line).not.toHaveProperty('traceId');
        expect(line).not.toHaveProperty('spanId');
      }
    });

    it('still takes the correlation id from an inbound traceparent, as before', async () => {
      const response = await service.http
        .post('/essays')
        .set('traceparent', `00-${CALLER_TRACE_ID}-00f067aa0ba902b7-01`)
        .send({ title: 'Untraced', text: 'Nothing here is traced.' });

      expect(response.status).toBe(202);
      expect(response.headers['x-correlation-id']).toBe(CALLER_TRACE_ID);
      expect(response.headers.traceparent).toBeUndefined();
    });

    it('keeps exemplars out of the OpenMetrics exposition', async () => {
      const response = await service.http
        .get('/metrics')
        .set('accept', 'application/openmetrics-text; version=1.0.0');

      expect(response.status).toBe(200);
      expect(response.text).toContain('http_request_duration_seconds_bucket');
      expect(response.text).not.toContain('trace_id');
    });
  });
});
