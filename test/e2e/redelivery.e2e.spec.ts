import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import { waitForProcessed } from '../support/essay-service.js';
import { sampleValue } from '../support/exposition.js';

// Longer than the first redelivery sweep's delay (1 s after startup): the
// essay is still pending, and being processed, when that sweep runs.
const ANALYSIS_MS = 1_800;

/**
 * The first redelivery sweep after a start publishes again what was pending
 * before the start (a crash, a lost message). An essay accepted since the
 * start has its own message in flight; publishing it again would have it
 * processed twice, concurrently, and the faster of the two (say, one that
 * found the grammar checker's breaker open) would be the one stored.
 */
describe('the first redelivery sweep after a start', () => {
  let service: CapturedEssayService;

  beforeAll(async () => {
    service = await startCapturedEssayService({
      env: { ESSAY_ANALYSIS_DELAY_MS: String(ANALYSIS_MS) },
    });
  });

  afterAll(async () => {
    await service?.close();
  });

  it('leaves an essay accepted since the start to its own message: handled once', async () => {
    const accepted = await service.http
      .post('/essays')
      .send({ title: 'Fresh', text: 'Accepted right after the start.', language: 'en' })
      .expect(202);
    const id = (accepted.body as { id: string }).id;

    const essay = await waitForProcessed(service.http, id, 10_000);

    expect(essay.status).toBe('processed');
    // The sweep ran 1 s after the start, while the essay was being analysed; a
    // second delivery it made would be done within another analysis.
    await sleep(ANALYSIS_MS + 500);
    const handled = sampleValue(
      (await service.http.get('/metrics')).text,
      'messages_handled_total',
      { transport: 'in-process', pattern: 'essay.submitted', outcome: 'success' },
    );
    expect(handled).toBe(1);
    const republished = service.logs.lines.filter((line) =>
      /Published \d+ pending essay\(s\) again/.test(line.msg ?? ''),
    );
    expect(republished).toEqual([]);
  });
});
