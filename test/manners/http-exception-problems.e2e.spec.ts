import {
  BadRequestException,
  ConflictException,
  Controller,
  Get,
  HttpException,
  Module,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { ProductionReadinessModule } from 'nestjs-production-readiness';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS, startUserApp, type UserApp } from './user-app.js';

const UNEXPECTED_DETAIL =
  'An unexpected error occurred. Quote the correlation id when reporting it.';

/** A shop's controller as its authors wrote it, throwing Nest's own exceptions. */
@Controller('shop')
class ShopController {
  @Get('out-of-stock')
  outOfStock(): never {
    throw new BadRequestException({ code: 'E_OUT_OF_STOCK', sku: 'A1', message: 'Out of stock' });
  }

  @Get('teapot')
  teapot(): never {
    throw new HttpException('short and stout', 418);
  }

  @Get('missing')
  missing(): never {
    throw new NotFoundException('No order 42');
  }

  @Get('forged')
  forged(): never {
    throw new ConflictException({
      message: 'Basket already checked out',
      basketId: 'b-7',
      type: 'https://evil.example/takeover',
      title: 'OK',
      status: 200,
      detail: 'All fine',
      instance: '/elsewhere',
      correlationId: 'forged-id',
      traceId: 'forged-trace',
    });
  }

  @Get('bad-codes/:kind')
  badCode(): never {
    throw new ConflictException({ code: 'not a code"; drop', message: 'Conflicting basket' });
  }

  @Get('numeric-code')
  numericCode(): never {
    throw new ConflictException({ code: 409001, message: 'Conflicting basket' });
  }

  @Get('unruly')
  unruly(): never {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    throw new BadRequestException({
      message: 'Unruly body',
      callback: () => 'never sent',
      cause: new Error('db password=hunter2'),
      stack: 'Error: boom\n    at Shop.unruly (/srv/shop.ts:1:1)',
      count: 10n,
      ratio: Number.NaN,
      missing: undefined,
      note: 'n'.repeat(5_000),
      circular,
      'x-weird-name': 'dropped',
      items: Array.from({ length: 1_000 }, (_, index) => ({ index, label: 'item'.repeat(20) })),
    });
  }

  @Get('invalid-fields')
  invalidFields(): never {
    throw new UnprocessableEntityException({
      code: 'E_INVALID_ADDRESS',
      message: 'The address is incomplete.',
      errors: [{ field: 'zip', message: 'zip is required' }],
    });
  }

  @Get('warehouse')
  warehouse(): never {
    throw new ServiceUnavailableException({
      code: 'E_WAREHOUSE_DOWN',
      message: 'warehouse db-7 at 10.0.0.7:5432 refused the connection',
      host: '10.0.0.7',
    });
  }
}

@Module({
  imports: [ProductionReadinessModule.forRoot()],
  controllers: [ShopController],
})
class ShopModule {}

/** The problem body, checked to be problem+json with the header's correlation id. */
function problemOf(response: Response): Record<string, unknown> {
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json(;|$)/);
  const body = JSON.parse(response.text) as Record<string, unknown>;
  expect(body.correlationId).toBe(response.headers['x-correlation-id']);
  return body;
}

describe.each(ADAPTERS)("an app's own HttpException on %s", (adapter) => {
  let shop: UserApp;

  beforeAll(async () => {
    shop = await startUserApp(ShopModule, adapter);
  });

  afterAll(async () => {
    await shop?.app.close();
  });

  it('keeps its code and extra fields as extension members, its message as the detail', async () => {
    const response = await shop.http
      .get('/shop/out-of-stock')
      .set('X-Correlation-ID', `stock-${adapter}`);

    expect(response.status).toBe(400);
    expect(problemOf(response)).toEqual({
      type: 'urn:problem-type:e-out-of-stock',
      title: 'Bad Request',
      status: 400,
      detail: 'Out of stock',
      instance: '/shop/out-of-stock',
      code: 'E_OUT_OF_STOCK',
      correlationId: `stock-${adapter}`,
      sku: 'A1',
    });
    const warning = await shop.logs.waitForLine(
      (line) => line.correlationId === `stock-${adapter}` && line.context === 'Errors',
    );
    expect(warning).toMatchObject({ level: 'warn', code: 'E_OUT_OF_STOCK', status: 400 });
  });

  it('answers a status the library has no code for with a code of that status', async () => {
    const response = await shop.http.get('/shop/teapot');

    expect(response.status).toBe(418);
    expect(problemOf(response)).toEqual({
      type: 'urn:problem-type:im-a-teapot',
      title: "I'm a Teapot",
      status: 418,
      detail: 'short and stout',
      instance: '/shop/teapot',
      code: 'IM_A_TEAPOT',
      correlationId: response.headers['x-correlation-id'],
    });
  });

  it("adds nothing of Nest's own body (error, statusCode) to a plain exception", async () => {
    const response = await shop.http.get('/shop/missing');

    expect(response.status).toBe(404);
    expect(problemOf(response)).toEqual({
      type: 'urn:problem-type:not-found',
      title: 'Not Found',
      status: 404,
      detail: 'No order 42',
      instance: '/shop/missing',
      code: 'NOT_FOUND',
      correlationId: response.headers['x-correlation-id'],
    });
  });

  it("never lets the app's fields override the problem's own members", async () => {
    const response = await shop.http.get('/shop/forged').set('X-Correlation-ID', 'real-id');

    expect(response.status).toBe(409);
    expect(problemOf(response)).toEqual({
      type: 'urn:problem-type:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Basket already checked out',
      instance: '/shop/forged',
      code: 'CONFLICT',
      correlationId: 'real-id',
      basketId: 'b-7',
    });
  });

  it.each([
    ['a code that is not an identifier', '/shop/bad-codes/text'],
    ['a code that is not a string', '/shop/numeric-code'],
  ])('ignores %s and answers with the code of the status', async (_name, path) => {
    const response = await shop.http.get(path);

    expect(response.status).toBe(409);
    const problem = problemOf(response);
    expect(problem).toMatchObject({
      type: 'urn:problem-type:conflict',
      code: 'CONFLICT',
      detail: 'Conflicting basket',
    });
    expect(response.text).not.toContain('drop');
    expect(response.text).not.toContain('409001');
  });

  it('sends only JSON-safe, bounded extension members and never a stack or an Error', async () => {
    const response = await shop.http.get('/shop/unruly');

    expect(response.status).toBe(400);
    const problem = problemOf(response);
    expect(problem).toMatchObject({
      code: 'MALFORMED_REQUEST',
      detail: 'Unruly body',
      count: '10',
    });
    for (const dropped of ['callback', 'cause', 'stack', 'ratio', 'missing', 'x-weird-name']) {
      expect(problem).not.toHaveProperty(dropped);
    }
    for (const internal of ['hunter2', 'never sent', '/srv/shop.ts', 'at Shop']) {
      expect(response.text).not.toContain(internal);
    }
    expect((problem.note as string).length).toBeLessThan(1_100);
    expect((problem.circular as { self: { name: string } }).self.name).toBe('loop');
    // A long list is cut, not sent whole: the answer stays small.
    expect(response.text.length).toBeLessThan(16_384);
  });

  it("keeps the app's code and its field errors on a 422", async () => {
    const response = await shop.http.get('/shop/invalid-fields');

    expect(response.status).toBe(422);
    expect(problemOf(response)).toEqual({
      type: 'urn:problem-type:e-invalid-address',
      title: 'Unprocessable Entity',
      status: 422,
      detail: 'The address is incomplete.',
      instance: '/shop/invalid-fields',
      code: 'E_INVALID_ADDRESS',
      correlationId: response.headers['x-correlation-id'],
      errors: [{ field: 'zip', message: 'zip is required' }],
    });
  });

  it('keeps the code of a 5xx but hides its message and fields, which may not be for clients', async () => {
    const response = await shop.http.get('/shop/warehouse');

    expect(response.status).toBe(503);
    expect(problemOf(response)).toEqual({
      type: 'urn:problem-type:e-warehouse-down',
      title: 'Service Unavailable',
      status: 503,
      detail: UNEXPECTED_DETAIL,
      instance: '/shop/warehouse',
      code: 'E_WAREHOUSE_DOWN',
      correlationId: response.headers['x-correlation-id'],
    });
    expect(response.text).not.toContain('10.0.0.7');
  });
});
