import { randomBytes } from 'node:crypto';
import type { EssayView } from '../../apps/essay-service/src/essays/essays.controller.js';
import {
  startCapturedEssayService,
  type CapturedEssayServiceOptions,
  type ListeningEssayService,
} from './captured-essay-service.js';
import type { HttpAgent } from './test-env.js';
import { waitFor } from './wait-for.js';

export { ISOLATED_ENV, withEnv, type HttpAdapterName, type HttpAgent } from './test-env.js';

/** The environment (over the isolated defaults) and the adapter. */
export type StartEssayServiceOptions = Pick<CapturedEssayServiceOptions, 'env' | 'adapter'>;

export type RunningEssayService = ListeningEssayService;

/** The essay as `GET /essays/:id` shows it. */
export type EssayBody = EssayView;

/**
 * Starts the essay service as `createServiceApp()` builds it for production
 * (its real database and bus), listening on an ephemeral loopback port so
 * concurrent requests share one server. Without `env`: in-memory SQLite and
 * the in-process bus. Its log lines go to `logs`, not to the test's output.
 */
export async function startEssayService(
  options: StartEssayServiceOptions = {},
): Promise<RunningEssayService> {
  return startCapturedEssayService({ ...options, listen: true });
}

/** The essay's id from a `POST /essays` that must have been accepted. */
export async function submitEssay(
  http: HttpAgent,
  body: { title: string; text: string; language?: string },
): Promise<string> {
  const response = await http.post('/essays').send(body);
  if (response.status !== 202) {
    throw new Error(`POST /essays answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return (response.body as { id: string }).id;
}

/** Polls `GET /essays/:id` until the essay is processed; returns it. */
export async function waitForProcessed(
  http: HttpAgent,
  id: string,
  timeoutMs = 5_000,
): Promise<EssayBody> {
  return waitFor(
    async () => {
      const response = await http.get(`/essays/${id}`);
      if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
      const essay = response.body as EssayBody;
      return essay.status === 'processed' ? essay : undefined;
    },
    timeoutMs,
    { description: `essay ${id} to be processed`, intervalMs: 100 },
  );
}

/**
 * A SERVICE_NAME of its own for one test file. It names the RabbitMQ queue
 * and the NATS queue group, so concurrent test files never consume each
 * other's messages.
 */
export function uniqueServiceName(label: string): string {
  return `essay-service-test-${label}-${randomBytes(4).toString('hex')}`;
}
