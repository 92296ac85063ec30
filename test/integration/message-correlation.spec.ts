import { randomBytes } from 'node:crypto';
import { Controller } from '@nestjs/common';
import {
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import {
  CORRELATION_ID_HEADER,
  ErrorCode,
  MessageBus,
  RequestContext,
  ServiceError,
} from 'nestjs-production-readiness';
import { type MessageTransportKind } from '../../libs/production-readiness/src/messaging/message-bus.js';
import { withHeaders } from 'nestjs-production-readiness/messaging';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import { uniqueServiceName } from '../support/essay-service.js';
import { NATS_URL } from '../support/nats.js';
import { deleteQueue, RABBITMQ_URL } from '../support/rabbitmq.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TEXT = 'One two three. Four five!';
const UNEXPECTED_DETAIL =
  'An unexpected error occurred. Quote the correlation id when reporting it.';

// Patterns of this file only: NATS subjects are shared by every service on the server.
const SUFFIX = randomBytes(4).toString('hex');
const FAILING_EVENT = `it.failing-event.${SUFFIX}`;
const CONFLICTING_COMMAND = `it.conflicting-command.${SUFFIX}`;
const CRASHING_COMMAND = `it.crashing-command.${SUFFIX}`;

/** Message handlers that fail, to see their errors logged and answered with the publisher's id. */
@Controller()
class FailingHandlersController {
  @EventPattern(FAILING_EVENT)
  onFailingEvent(_event: unknown): void {
    throw new ServiceError(ErrorCode.CONFLICT, 'The event came twice');
  }

  @MessagePattern(CONFLICTING_COMMAND)
  conflicting(): never {
    throw new ServiceError(ErrorCode.CONFLICT, 'Already there');
  }

  @MessagePattern(CRASHING_COMMAND)
  crashing(): never {
    throw new Error('db password=hunter2 at /srv/app/secret.ts');
  }
}

function correlationId(): string {
  return `it-${randomBytes(8).toString('hex')}`;
}

interface TransportCase {
  name: string;
  kind: MessageTransportKind;
  env: (serviceName: string) => Record<string, string>;
  /** A request-response client to the app's consumer; none for the in-process bus (events only). */
  client?: (serviceName: string) => ClientProxy;
  cleanUp?: (serviceName: string) => Promise<void>;
}

const TRANSPORTS: TransportCase[] = [
  { name: 'the in-process bus', kind: 'in-process', env: () => ({}) },
  {
    name: 'NATS',
    kind: 'nats',
    env: () => ({ NATS_URL }),
    client: () =>
      ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [NATS_URL] } }),
  },
  {
    name: 'RabbitMQ',
    kind: 'rabbitmq',
    env: () => ({ RABBITMQ_URL }),
    client: (queue) =>
      ClientProxyFactory.create({
        transport: Transport.RMQ,
        options: { urls: [RABBITMQ_URL], queue, queueOptions: { durable: true } },
      }),
    // RabbitMQ keeps a durable queue after its consumers leave.
    cleanUp: (queue) => deleteQueue(queue),
  },
];

describe.each(TRANSPORTS)('correlation ids over $name', (transport) => {
  // SERVICE_NAME names the RabbitMQ queue and the NATS queue group: one of its own.
  const serviceName = uniqueServiceName(`correlation-${transport.kind}`);
  let service: CapturedEssayService;
  let client: ClientProxy | undefined;

  beforeAll(async () => {
    service = await startCapturedEssayService({
      env: { SERVICE_NAME: serviceName, ...transport.env(serviceName) },
      controllers: [FailingHandlersController],
    });
    client = transport.client?.(serviceName);
    await client?.connect();
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await transport.cleanUp?.(serviceName);
  });

  it("logs an essay's processing with the id of the request that submitted it", async () => {
    const id = correlationId();

    const response = await service.http
      .post('/essays')
      .set('X-Correlation-ID', id)
      .send({ title: 'IT', text: TEXT });
    expect(response.status).toBe(202);
    const { id: essayId } = response.body as { id: string };

    const processed = await service.logs.waitForLine(
      (line) => line.msg === `Essay ${essayId} processed: 5 words`,
      10_000,
      `essay ${essayId} to be processed over ${transport.name}`,
    );
    expect(processed).toMatchObject({
      level: 'info',
      context: 'EssaysService',
      correlationId: id,
      service: serviceName,
    });
  });

  it("logs an event handler's failure at warn with the publisher's id", async () => {
    const id = correlationId();
    const bus = service.app.get(MessageBus);

    await RequestContext.run({ correlationId: id }, () =>
      bus.publish(FAILING_EVENT, { attempt: 1 }),
    );

    const failure = await service.logs.waitForLine(
      (line) =>
        line.context === 'Errors' && line.pattern === FAILING_EVENT && line.correlationId === id,
      10_000,
      `the failure of ${FAILING_EVENT}`,
    );
    expect(failure).toMatchObject({
      level: 'warn',
      msg: 'Request failed',
      code: 'CONFLICT',
      status: 409,
    });
  });

  it('mints an id for a message published outside any request', async () => {
    const bus = service.app.get(MessageBus);
    const mark = service.logs.mark();

    await RequestContext.outside(() => bus.publish(FAILING_EVENT, { attempt: 2 }));

    const failure = await service.logs.waitForLine(
      (line) =>
        line.context === 'Errors' &&
        line.pattern === FAILING_EVENT &&
        service.logs.lines.indexOf(line) >= mark,
      10_000,
      `the failure of ${FAILING_EVENT}`,
    );
    expect(failure.correlationId).toMatch(UUID_V4);
  });

  if (transport.client) {
    const send = async (pattern: string, id: string): Promise<unknown> => {
      const message = await withHeaders(
        transport.kind,
        { essayId: 'x' },
        { [CORRELATION_ID_HEADER]: id },
      );
      return lastValueFrom<unknown>(client!.send(pattern, message)).then(
        (reply) => ({ reply }),
        (error: unknown) => ({ error }),
      );
    };

    it('answers a request whose handler throws a ServiceError with a problem object, logged with the id', async () => {
      const id = correlationId();

      const outcome = await send(CONFLICTING_COMMAND, id);

      expect(outcome).toEqual({
        error: {
          type: 'urn:problem-type:conflict',
          title: 'Conflict',
          status: 409,
          detail: 'Already there',
          instance: CONFLICTING_COMMAND,
          code: 'CONFLICT',
          correlationId: id,
        },
      });
      const failure = await service.logs.waitForLine(
        (line) => line.context === 'Errors' && line.correlationId === id,
      );
      expect(failure).toMatchObject({
        level: 'warn',
        code: 'CONFLICT',
        pattern: CONFLICTING_COMMAND,
      });
    });

    it('answers a request whose handler crashes with a generic 500 problem, logged at error with the stack', async () => {
      const id = correlationId();

      const outcome = await send(CRASHING_COMMAND, id);

      expect(outcome).toEqual({
        error: {
          type: 'urn:problem-type:internal',
          title: 'Internal Server Error',
          status: 500,
          detail: UNEXPECTED_DETAIL,
          instance: CRASHING_COMMAND,
          code: 'INTERNAL',
          correlationId: id,
        },
      });
      expect(JSON.stringify(outcome)).not.toContain('hunter2');
      const failure = await service.logs.waitForLine(
        (line) => line.context === 'Errors' && line.correlationId === id,
      );
      expect(failure).toMatchObject({
        level: 'error',
        msg: 'Unexpected error',
        code: 'INTERNAL',
        pattern: CRASHING_COMMAND,
        err: expect.objectContaining({
          stack: expect.stringContaining('FailingHandlersController.crashing') as unknown,
        }) as unknown,
      });
    });
  }
});
