import { randomUUID } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  Catch,
  Controller,
  Module,
  type ArgumentsHost,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import {
  ClientProxyFactory,
  MessagePattern,
  NatsRecordBuilder,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { catchError, lastValueFrom, throwError, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BaseServiceConfig,
  createServiceApp,
  ErrorCode,
  ProblemExceptionFilter,
  ProductionReadinessModule,
  ServiceError,
  type ErrorsOptions,
  type ProblemDetails,
} from 'nestjs-production-readiness';

const subject = `rpc-errors-${randomUUID()}`;
const lines: Record<string, unknown>[] = [];
const destination = {
  write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
};

/** A service on NATS answering `<name>.sum`, `.conflict` and `.crash`, named `name`. */
function rpcTestModule(name: string, errors?: ErrorsOptions): Type<unknown> {
  @Controller()
  class SumController {
    @MessagePattern(`${name}.sum`)
    sum(numbers: number[]): number {
      return numbers.reduce((total, n) => total + n, 0);
    }

    @MessagePattern(`${name}.conflict`)
    conflict(): never {
      throw new ServiceError(ErrorCode.CONFLICT, 'Already summed.');
    }

    @MessagePattern(`${name}.crash`)
    crash(): never {
      throw new Error('connection to postgres://app:hunter2@db failed at /srv/app/sum.ts:12');
    }
  }

  class RpcTestConfig extends BaseServiceConfig {
    override SERVICE_NAME = name;
    override SERVICE_VERSION = '1.0.0';
    override PORT = 3000;
    override DATABASE_URL = 'sqlite::memory:';
    override NATS_URL = 'nats://127.0.0.1:4222';
  }

  @Module({
    imports: [
      ProductionReadinessModule.forRoot({
        config: RpcTestConfig,
        envFilePath: false,
        env: {},
        logging: { destination },
        messaging: true,
        errors,
      }),
    ],
    controllers: [SumController],
  })
  class RpcTestModule {}
  return RpcTestModule;
}

function request(pattern: string, data: unknown, correlationId: string) {
  const headers = natsHeaders();
  headers.set('x-correlation-id', correlationId);
  return new NatsRecordBuilder(data).setHeaders(headers).build();
}

/**
 * Starts `module` for the enclosing describe block and gives how to ask it
 * over NATS: the answer, or rejects with the error it answered.
 */
function natsCaller(module: Type<unknown>) {
  let app: INestApplication | undefined;
  let client: ClientProxy | undefined;
  beforeAll(async () => {
    app = await createServiceApp(module);
    client = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { servers: ['nats://127.0.0.1:4222'] },
    });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await app?.close();
  });
  return (pattern: string, data: unknown, correlationId: string): Promise<unknown> => {
    if (!client) throw new Error('the app is not started');
    return lastValueFrom(client.send(pattern, request('', data, correlationId)));
  };
}

describe('message handler errors (request-response over a real NATS)', () => {
  const ask = natsCaller(rpcTestModule(subject));

  it('answers a request that succeeds', async () => {
    await expect(ask(`${subject}.sum`, [1, 2, 3], 'rpc-ok')).resolves.toBe(6);
  });

  it('answers a ServiceError with its problem object and the caller’s correlation id', async () => {
    const error: unknown = await ask(`${subject}.conflict`, {}, 'rpc-conflict-1').catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      type: 'urn:problem-type:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Already summed.',
      instance: `${subject}.conflict`,
      code: 'CONFLICT',
      correlationId: 'rpc-conflict-1',
    });
    const logged = lines.find(
      (line) => line.correlationId === 'rpc-conflict-1' && line.msg === 'Request failed',
    );
    expect(logged).toMatchObject({ level: 'warn', code: 'CONFLICT' });
  });

  it('answers an unexpected error with a generic 500 and logs it once with its stack', async () => {
    const error: unknown = await ask(`${subject}.crash`, {}, 'rpc-crash-1').catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ status: 500, code: 'INTERNAL', correlationId: 'rpc-crash-1' });
    expect(JSON.stringify(error)).not.toMatch(/hunter2|\/srv\/app|sum\.ts/);
    const logged = lines.filter(
      (line) => line.correlationId === 'rpc-crash-1' && line.level === 'error',
    );
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0])).toMatch(/hunter2/); // the full error stays in the logs
    expect((logged[0].err as { stack?: string }).stack).toMatch(/at /);
  });
});

// The documented extension point for message handlers: a ProblemExceptionFilter
// subclass overriding handleRpc(), given as errors.exceptionFilter.
const filteredSubject = `rpc-errors-filtered-${randomUUID()}`;

/** Tells the caller whether a retry may help, on top of the library's problem. */
@Catch()
class RetryHintProblemFilter extends ProblemExceptionFilter {
  protected override handleRpc(exception: unknown, host: ArgumentsHost): Observable<never> {
    return super
      .handleRpc(exception, host)
      .pipe(
        catchError((problem: ProblemDetails) =>
          throwError(() => ({ ...problem, retryable: problem.status >= 500 })),
        ),
      );
  }
}

const FilteredRpcModule = rpcTestModule(filteredSubject, {
  exceptionFilter: RetryHintProblemFilter,
});

describe('a ProblemExceptionFilter subclass on message handlers (real NATS)', () => {
  const ask = natsCaller(FilteredRpcModule);

  it("changes the answer through handleRpc(), still the library's problem", async () => {
    const conflict: unknown = await ask(
      `${filteredSubject}.conflict`,
      {},
      'rpc-filtered-conflict',
    ).catch((caught: unknown) => caught);
    expect(conflict).toMatchObject({
      status: 409,
      code: 'CONFLICT',
      detail: 'Already summed.',
      instance: `${filteredSubject}.conflict`,
      correlationId: 'rpc-filtered-conflict',
      retryable: false,
    });

    const crash: unknown = await ask(`${filteredSubject}.crash`, {}, 'rpc-filtered-crash').catch(
      (caught: unknown) => caught,
    );
    expect(crash).toMatchObject({
      status: 500,
      code: 'INTERNAL',
      correlationId: 'rpc-filtered-crash',
      retryable: true,
    });
    expect(JSON.stringify(crash)).not.toMatch(/hunter2/);
  });
});
