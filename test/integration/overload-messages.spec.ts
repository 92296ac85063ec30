import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Controller,
  Get,
  Module,
  UseGuards,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { connect } from 'amqplib';
import {
  LOGGING_OPTIONS,
  MessageBus,
  OverloadProtection,
  ProductionReadinessModule,
  startMessageConsumers,
} from 'nestjs-production-readiness';
import { type MessageTransportKind } from '../../libs/production-readiness/src/messaging/message-bus.js';
import { afterEach, describe, expect, it } from 'vitest';
import { withEnv } from '../support/essay-service.js';
import { LogCapture } from '../support/log-capture.js';
import { NATS_URL } from '../support/nats.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';
import { RequestGate } from '../support/request-gate.js';
import { waitFor } from '../support/wait-for.js';

// Patterns of this run only: NATS subjects are shared by every subscriber on the server.
const RUN = randomBytes(4).toString('hex');
const HANDLED_EVENT = `overload.test.${RUN}`;
const FAILING_EVENT = `overload.failing.${RUN}`;
const REFUSED_EVENT = `overload.refused.${RUN}`;

/** The RabbitMQ consumer's prefetch (message-transport.ts): what the broker hands out unacknowledged. */
const PREFETCH = 16;
const MESSAGES = 50;
const SAMPLE_INTERVAL_MS = 200;

interface OverloadTestEvent {
  id: string;
}

// Both patterns carry the same event; they are strings of this run, not literals.
type OverloadTestEvents = Record<string, OverloadTestEvent>;

/** What the message handlers of the app saw. */
class Handled {
  ids: string[] = [];
  failed: string[] = [];

  count(id: string): number {
    return this.ids.filter((seen) => seen === id).length;
  }
}

const gate = new RequestGate();
const handled = new Handled();

/** Refuses every message of the pattern it guards, as an app's auth guard would. */
class RefuseEverything implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Controller()
class OverloadMessagesController {
  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await gate.pass();
    return { ok: true };
  }

  @Get('fast')
  fast(): { ok: true } {
    return { ok: true };
  }

  @EventPattern<OverloadTestEvents>(HANDLED_EVENT)
  onEvent(@Payload() event: OverloadTestEvent): void {
    handled.ids.push(event.id);
  }

  @UseGuards(RefuseEverything)
  @EventPattern<OverloadTestEvents>(REFUSED_EVENT)
  onRefusedEvent(@Payload() event: OverloadTestEvent): void {
    handled.ids.push(`refused handler ran for ${event.id}`);
  }

  @EventPattern<OverloadTestEvents>(FAILING_EVENT)
  onFailingEvent(@Payload() event: OverloadTestEvent): void {
    handled.failed.push(event.id);
    throw new Error(`handler of ${event.id} failed`);
  }
}

interface TransportCase {
  name: string;
  kind: MessageTransportKind;
  env: Record<string, string>;
}

const TRANSPORTS: TransportCase[] = [
  { name: 'RabbitMQ', kind: 'rabbitmq', env: { RABBITMQ_URL } },
  { name: 'NATS', kind: 'nats', env: { NATS_URL } },
  { name: 'the in-process bus', kind: 'in-process', env: {} },
];

interface RunningApp {
  app: INestApplication;
  base: string;
  queue: string;
  close(): Promise<void>;
}

async function startApp(transport: TransportCase): Promise<RunningApp> {
  // A queue of its own per app: no run consumes another's messages or finds its leftovers.
  const queue = `overload-messages-${transport.kind}-${RUN}-${randomBytes(3).toString('hex')}`;

  @Module({
    imports: [
      ProductionReadinessModule.forRoot({
        messaging: { queue },
        // A fixed limit of 2 (minLimit = maxLimit): two requests held at the gate fill it.
        // Windows of 200 ms: on a loaded machine a 50 ms window can pass with
        // no shed processed (the process stalled) and resume the consumers.
        overload: { minLimit: 2, maxLimit: 2, sampleIntervalMs: SAMPLE_INTERVAL_MS },
      }),
    ],
    controllers: [OverloadMessagesController],
  })
  class OverloadMessagesModule {}

  const logs = new LogCapture();
  const app = await withEnv(
    {
      SERVICE_NAME: queue,
      NATS_URL: undefined,
      RABBITMQ_URL: undefined,
      KAFKA_BOOTSTRAP_SERVERS: undefined,
      REDIS_URL: undefined,
      API_KEYS: undefined,
      METRICS_PORT: undefined,
      OVERLOAD_PROTECTION_ENABLED: undefined,
      ...transport.env,
    },
    async () => {
      const moduleFixture = await Test.createTestingModule({ imports: [OverloadMessagesModule] })
        .overrideProvider(LOGGING_OPTIONS)
        .useValue({ destination: logs.destination })
        .compile();
      const created = moduleFixture.createNestApplication();
      await created.listen(0, '127.0.0.1');
      await startMessageConsumers(created);
      return created;
    },
  );
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    app,
    base: `http://127.0.0.1:${port}`,
    queue,
    close: () => (closing ??= app.close()),
  };
}

/** The messages ready in a RabbitMQ queue (not those handed out unacknowledged). */
async function readyInQueue(queue: string): Promise<number> {
  const connection = await connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    await channel.close();
    return messageCount;
  } finally {
    await connection.close();
  }
}

async function pausedGauge(base: string): Promise<number | undefined> {
  const exposition = await (await fetch(`${base}/metrics`)).text();
  const match = /^message_consumers_paused(?:\{[^}]*\})? (\d+)$/m.exec(exposition);
  return match ? Number(match[1]) : undefined;
}

/**
 * Keeps the service shedding while the limit is full: a request every
 * `everyMs`, each sent without waiting for the one before, so a slow answer
 * (a loaded machine) leaves no sample window without a shed. Each answer's
 * status is kept.
 */
function keepShedding(base: string, everyMs = 10): { statuses: number[]; stop(): Promise<void> } {
  const statuses: number[] = [];
  const pending = new Set<Promise<void>>();
  let isStopped = false;
  const loop = (async () => {
    while (!isStopped) {
      const sent = fetch(`${base}/fast`)
        .then(async (response) => {
          await response.arrayBuffer();
          statuses.push(response.status);
        })
        .finally(() => pending.delete(sent));
      pending.add(sent);
      await sleep(everyMs);
    }
  })();
  return {
    statuses,
    stop: async () => {
      isStopped = true;
      await loop;
      await Promise.all(pending);
    },
  };
}

async function publishAll(bus: MessageBus, ids: string[]): Promise<void> {
  for (const id of ids) await bus.publish(HANDLED_EVENT, { id });
}

describe.each(TRANSPORTS)('message consumers under overload, over $name', (transport) => {
  let running: RunningApp | undefined;
  let shedding: ReturnType<typeof keepShedding> | undefined;

  afterEach(async () => {
    await shedding?.stop();
    shedding = undefined;
    gate.open();
    await running?.close();
    if (running && transport.kind === 'rabbitmq') await deleteQueue(running.queue);
    running = undefined;
    gate.entered = 0;
    handled.ids = [];
    handled.failed = [];
  });

  it('holds the handlers while the service sheds, then handles every message exactly once', async () => {
    running = await startApp(transport);
    const { app, base, queue } = running;
    const protection = app.get(OverloadProtection);
    const bus = app.get(MessageBus);

    // Not overloaded: a message is handled at once (and the consumer is known to be subscribed).
    await bus.publish(HANDLED_EVENT, { id: 'warm-up' });
    await waitFor(() => (handled.count('warm-up') === 1 ? true : undefined), 10_000, {
      description: 'the warm-up message handled',
    });
    expect(await pausedGauge(base)).toBe(0);

    // Fill the limit of 2, then keep a shed in every window.
    const held = [fetch(`${base}/slow`), fetch(`${base}/slow`)];
    await waitFor(() => (gate.entered >= 2 ? true : undefined), 5_000, {
      description: 'two requests held at the gate',
    });
    shedding = keepShedding(base);
    await waitFor(() => (protection.isOverloaded ? true : undefined), 5_000, {
      description: 'the service to be overloaded',
    });

    const ids = Array.from({ length: MESSAGES }, (_, index) => `m-${index}`);
    await publishAll(bus, ids);

    // Several windows later, still none handled.
    const pausedUntil = Date.now() + 5 * SAMPLE_INTERVAL_MS;
    let everResumed = false;
    while (Date.now() < pausedUntil) {
      if (!protection.isOverloaded) everResumed = true;
      await sleep(10);
    }
    expect(everResumed).toBe(false);
    expect(handled.ids).toEqual(['warm-up']);
    expect(await pausedGauge(base)).toBe(1);
    if (transport.kind === 'rabbitmq') {
      // At most a prefetch's worth was handed to the consumer; the broker keeps the rest.
      const ready = await waitFor(
        async () => {
          const count = await readyInQueue(queue);
          return count >= MESSAGES - PREFETCH ? count : undefined;
        },
        5_000,
        { description: `at least ${MESSAGES - PREFETCH} messages left in the queue` },
      );
      expect(ready).toBeLessThanOrEqual(MESSAGES);
    }

    // Load gone: the held requests finish, the next window has no shed.
    const { statuses } = shedding;
    await shedding.stop();
    shedding = undefined;
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 503)).toEqual([]);
    gate.open();
    for (const response of await Promise.all(held)) expect(response.status).toBe(200);

    await waitFor(() => (handled.ids.length >= MESSAGES + 1 ? true : undefined), 15_000, {
      description: `all ${MESSAGES} messages handled (${handled.ids.length - 1} so far)`,
    });
    // A last message behind them: anything delivered twice would have come before it.
    await bus.publish(HANDLED_EVENT, { id: 'sentinel' });
    await waitFor(() => (handled.count('sentinel') === 1 ? true : undefined), 10_000, {
      description: 'the sentinel handled',
    });
    expect([...handled.ids].filter((id) => id.startsWith('m-')).sort()).toEqual([...ids].sort());
    expect(handled.ids).toHaveLength(MESSAGES + 2);
    expect(protection.isOverloaded).toBe(false);
    expect(await pausedGauge(base)).toBe(0);

    if (transport.kind === 'rabbitmq') {
      // Closing the consumer would give any unacknowledged message back to the queue: none left.
      await running.close();
      expect(await readyInQueue(queue)).toBe(0);
    }
  });

  if (transport.kind === 'rabbitmq') {
    it('acknowledges the message of a handler that throws, so it is neither kept nor redelivered', async () => {
      running = await startApp(transport);
      const { app, queue } = running;
      const bus = app.get(MessageBus);

      await bus.publish(FAILING_EVENT, { id: 'fails-1' });
      await waitFor(() => (handled.failed.length > 0 ? true : undefined), 10_000, {
        description: 'the failing handler to run',
      });
      // Behind it on the same queue: once handled, the failed one has been settled.
      await bus.publish(HANDLED_EVENT, { id: 'after-failure' });
      await waitFor(() => (handled.count('after-failure') === 1 ? true : undefined), 10_000, {
        description: 'the next message handled',
      });
      expect(await readyInQueue(queue)).toBe(0);

      // An unacknowledged message would return to the queue when the consumer goes.
      await running.close();
      expect(await readyInQueue(queue)).toBe(0);
      expect(handled.failed).toEqual(['fails-1']);
      expect(handled.ids).toEqual(['after-failure']);
    });

    it('acknowledges the messages a guard refuses, so they do not fill the prefetch and stall the consumer', async () => {
      running = await startApp(transport);
      const { app, queue } = running;
      const bus = app.get(MessageBus);
      const refused = Array.from({ length: PREFETCH + 4 }, (_, index) => `refused-${index}`);
      for (const id of refused) await bus.publish(REFUSED_EVENT, { id });
      await bus.publish(HANDLED_EVENT, { id: 'after-refusals' });
      await waitFor(() => (handled.count('after-refusals') === 1 ? true : undefined), 10_000, {
        description: 'the message behind the refused ones handled',
      });
      expect(handled.ids).toEqual(['after-refusals']);
      await running.close();
      expect(await readyInQueue(queue)).toBe(0);
    });
  }
});
