import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGE_TOOL_RESILIENCE } from '../../apps/essay-service/src/app.module.js';
import type { EssayView } from '../../apps/essay-service/src/essays/essays.controller.js';
import { waitForProcessed } from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';
import { MisbehavingServer } from '../support/misbehaving-server.js';
import {
  startResilientEssayService,
  type ResilientEssayService,
} from '../support/resilient-essay-service.js';
import { waitFor } from '../support/wait-for.js';

const ESSAY = { title: 'Cats', text: 'The cat sat on the mat. It was happy!', language: 'en' };
const MATCHES = JSON.stringify({ matches: [{ message: 'a' }, { message: 'b' }] });

describe.each(['express', 'fastify'] as const)('the sample app on %s', (adapter) => {
  describe('POST /essays with an Idempotency-Key (keys in the database: no REDIS_URL)', () => {
    let service: ResilientEssayService;
    const essayCount = () => service.app.get(DataSource).getRepository('Essay').count();

    beforeAll(async () => {
      service = await startResilientEssayService({ adapter });
    });

    afterAll(async () => {
      await service?.close();
    });

    it('answers a retry with the same key and body with the first answer, and creates nothing new', async () => {
      const key = `essay-${adapter}-1`;
      const first = await service.http.post('/essays').set('Idempotency-Key', key).send(ESSAY);
      expect(first.status).toBe(202);
      const count = await essayCount();

      const retry = await service.http
        .post('/essays')
        .set('Idempotency-Key', key)
        // The same body, its fields in another order.
        .send({ language: 'en', text: ESSAY.text, title: ESSAY.title });

      expect(retry.status).toBe(202);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.location).toBe(first.headers.location);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await essayCount()).toBe(count);
    });

    it('answers the same key with another body with 409 problem+json CONFLICT', async () => {
      const key = `essay-${adapter}-2`;
      await service.http.post('/essays').set('Idempotency-Key', key).send(ESSAY).expect(202);
      const count = await essayCount();

      const other = await service.http
        .post('/essays')
        .set('Idempotency-Key', key)
        .send({ ...ESSAY, title: 'Dogs' });

      expect(other.status).toBe(409);
      expect(other.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(other.body).toMatchObject({ status: 409, code: 'CONFLICT' });
      expect(await essayCount()).toBe(count);
    });

    it('creates one essay per request without a key, and rejects a malformed key with 400', async () => {
      const count = await essayCount();
      await service.http.post('/essays').send(ESSAY).expect(202);
      await service.http.post('/essays').send(ESSAY).expect(202);
      expect(await essayCount()).toBe(count + 2);

      const malformed = await service.http
        .post('/essays')
        .set('Idempotency-Key', 'k'.repeat(256))
        .send(ESSAY);
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'Idempotency-Key' }],
      });
    });
  });

  describe('the LanguageTool grammar check', () => {
    let languageTool: MisbehavingServer;
    let service: ResilientEssayService;
    const metrics = async () => (await service.http.get('/metrics')).text;
    const processedCount = async (status: string) =>
      sampleValue(await metrics(), 'essays_processed_total', { status, language: 'en' });
    const submit = async (correlationId?: string) => {
      const request = service.http.post('/essays');
      if (correlationId) request.set('X-Correlation-ID', correlationId);
      const response = await request.send(ESSAY).expect(202);
      return waitForProcessed(service.http, (response.body as { id: string }).id);
    };

    beforeAll(async () => {
      languageTool = await MisbehavingServer.start();
      service = await startResilientEssayService({
        adapter,
        env: { LANGUAGE_TOOL_URL: languageTool.origin },
        resilience: {
          policies: {
            'language-tool': {
              ...LANGUAGE_TOOL_RESILIENCE,
              attemptTimeoutMs: 500,
              retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
              circuitBreaker: {
                windowSize: 2,
                minimumCalls: 2,
                openDurationMs: 800,
                halfOpenCalls: 1,
              },
            },
          },
        },
      });
    });

    afterEach(() => {
      languageTool.clear();
    });

    afterAll(async () => {
      await service?.close();
      await languageTool?.close();
    });

    it('stores the number of grammar issues, asking POST /v2/check with text and language', async () => {
      languageTool.always({ status: 200, body: MATCHES });

      const essay: EssayView = await submit(`grammar-${adapter}`);

      expect(essay.grammarCheck).toEqual({ status: 'checked', issues: 2 });
      expect(languageTool.requests).toHaveLength(1);
      const [request] = languageTool.requests;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v2/check');
      expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
        text: ESSAY.text,
        language: 'en',
      });
      expect(request.headers['x-correlation-id']).toBe(`grammar-${adapter}`);
    });

    it('keeps processing essays (degraded) while it fails, fast-fails once the breaker opens, and recovers', async () => {
      const degradedBefore = await processedCount('degraded');
      const processedBefore = await processedCount('processed');
      languageTool.always({ status: 503 });

      // Failing calls (each retried once) open the breaker; every essay is still processed.
      let degraded = 0;
      const breakerState = async () =>
        sampleValue(await metrics(), 'circuit_breaker_state', { name: 'language-tool' });
      while ((await breakerState()) !== 2) {
        expect(degraded).toBeLessThan(4);
        const essay = await submit();
        degraded++;
        expect(essay.status).toBe('processed');
        expect(essay.results?.wordCount).toBe(9);
        expect(essay.grammarCheck).toEqual({ status: 'unavailable', issues: null });
      }
      const reached = languageTool.requests.length;
      expect(reached).toBeGreaterThanOrEqual(degraded);
      const open = await service.http.get('/healthz');
      expect(open.status).toBe(200);
      expect(JSON.parse(open.text)).toMatchObject({
        status: 'warn',
        checks: { 'circuit-breaker:language-tool': { status: 'degraded', required: false } },
      });
      expect(sampleValue(await metrics(), 'circuit_breaker_state', { name: 'language-tool' })).toBe(
        2,
      );

      // Open: processed without a call reaching the checker.
      const whileOpen = await submit();
      expect(whileOpen.grammarCheck).toEqual({ status: 'unavailable', issues: null });
      expect(languageTool.requests).toHaveLength(reached);
      expect(await processedCount('degraded')).toBe(degradedBefore + degraded + 1);

      // Back: after the open duration one trial call closes the breaker.
      languageTool.always({ status: 200, body: MATCHES });
      await waitFor(
        async () =>
          sampleValue(await metrics(), 'circuit_breaker_state', { name: 'language-tool' }) === 1 ||
          undefined,
        3_000,
        { description: 'the breaker to half-open' },
      );
      const recovered = await submit();
      expect(recovered.grammarCheck).toEqual({ status: 'checked', issues: 2 });
      expect(sampleValue(await metrics(), 'circuit_breaker_state', { name: 'language-tool' })).toBe(
        0,
      );
      const healthy = JSON.parse((await service.http.get('/healthz')).text) as {
        checks: Record<string, { status: string }>;
      };
      expect(healthy.checks['circuit-breaker:language-tool'].status).toBe('up');
      expect(await processedCount('processed')).toBe(processedBefore + 1);
    });
  });
});
